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


class FindingsFromFile:
    """Reports the findings written to $FAKE_FINDINGS_FILE (JSON list), after a short delay.

    For browser tests of the reading workflow: the findings are known in advance, so the test
    can accept one and reject another. The real lung model has its own end-to-end test.
    """

    name, version = "fake_reader_aid", "1.0"

    def applies_to(self, study: StudyInfo) -> bool:
        return study.modality == "CT" and study.body_part == "CHEST"

    def run(self, study: StudyInfo) -> ModelOutcome:
        import json
        import os
        import time

        time.sleep(float(os.environ.get("FAKE_FINDINGS_DELAY", "3")))
        findings = json.loads(open(os.environ["FAKE_FINDINGS_FILE"]).read())
        largest = max(findings, key=lambda f: f["diameter_mm"])
        series_uid = next((s["series_instance_uid"] for s in study.series if s["modality"] == "CT"), "")
        return ModelOutcome(
            suspicion=max(f["probability"] for f in findings), category="lungrads:4B",
            headline=f"{len(findings)} nodules, largest {largest['diameter_mm']:g} mm {largest['type']}",
            result={"findings": findings, "series_instance_uid": series_uid},
        )


class CannotReadHeaders:
    """Its routing reads headers and meets one it cannot parse (a real model reads them from Orthanc)."""

    name, version = "fake_header_reader", "1.0"

    def applies_to(self, study: StudyInfo) -> bool:
        raise ValueError("ViewCodeSequence is empty")

    def run(self, study: StudyInfo) -> ModelOutcome:
        raise AssertionError("never routed here")


class NeedsTheArchiveToRoute:
    name, version = "fake_archive_router", "1.0"

    def applies_to(self, study: StudyInfo) -> bool:
        from archive.orthanc import OrthancUnavailable

        raise OrthancUnavailable("connection refused")

    def run(self, study: StudyInfo) -> ModelOutcome:
        raise AssertionError("never routed here")
