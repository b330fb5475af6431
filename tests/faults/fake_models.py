"""A CAD model for fault tests: it takes a while, reads the archive, and counts its runs.

Each run appends "start <study id>" and "done <study id>" to $FAULT_RUNS_FILE, so a test can
tell a run that was killed (started, never done) from an analysis duplicated (done twice).
"""

import os
import time

from inference.cad.base import ModelOutcome, StudyInfo


def _note(event: str, study_id: int) -> None:
    path = os.environ.get("FAULT_RUNS_FILE")
    if path:
        # O_APPEND: lines from several worker processes never interleave.
        with open(path, "a") as runs:
            runs.write(f"{event} {study_id}\n")


class CountedCt:
    name, version = "fault_counted_ct", "1.0"

    def applies_to(self, study: StudyInfo) -> bool:
        return study.modality == "CT"

    def run(self, study: StudyInfo) -> ModelOutcome:
        from archive.orthanc import get_json

        _note("start", study.study_id)
        time.sleep(float(os.environ.get("FAULT_MODEL_SECONDS", "1")))
        # Like a real model, read the study from the archive: an outage raises OrthancUnavailable.
        instances = get_json(f"studies/{study.orthanc_id}/instances")
        _note("done", study.study_id)
        return ModelOutcome(suspicion=0.9, category="lungrads:4B",
                            headline=f"fault model read {len(instances)} images")
