"""CAD models for pipeline tests: they exercise the pipeline, not any imaging."""

from inference.cad.base import ModelOutcome, StudyInfo


class FlagsEveryCt:
    name, version = "fake_flagger", "1.0"

    def applies_to(self, study: StudyInfo) -> bool:
        return study.modality == "CT"

    def run(self, study: StudyInfo) -> ModelOutcome:
        return ModelOutcome(suspicion=0.97, category="lungrads:4B", headline="1 nodule, largest 17 mm solid")


class CrashesOnCt:
    name, version = "fake_crasher", "0.1"

    def applies_to(self, study: StudyInfo) -> bool:
        return study.modality == "CT"

    def run(self, study: StudyInfo) -> ModelOutcome:
        raise ValueError("weights do not match input spacing")


class FlagsChestCtAfterAWhile:
    """Finds a Lung-RADS 4B nodule on chest CTs, a few seconds after the study arrived."""

    name, version = "fake_slow_lung", "1.0"

    def applies_to(self, study: StudyInfo) -> bool:
        return study.modality == "CT" and study.body_part == "CHEST"

    def run(self, study: StudyInfo) -> ModelOutcome:
        import time

        time.sleep(4)
        return ModelOutcome(suspicion=0.93, category="lungrads:4B", headline="1 nodule, largest 18 mm solid")
