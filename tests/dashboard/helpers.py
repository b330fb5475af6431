"""Small builders for dashboard fixtures: studies with exact times, analyses and reviews."""

from __future__ import annotations

from datetime import datetime, timedelta

from inference.models import AnalysisRun, AnalysisStatus
from tests.worklist.factories import make_study
from worklist.models import ReadingState, Study

# A fixed clock, so that days and hours in the expected numbers are exact. Monday noon UTC.
NOW = datetime.fromisoformat("2025-03-10T12:00:00+00:00")


def reported_study(*, arrived_minutes_ago: float, turnaround: float, target: float | None = None,
                   reader=None, reading: float | None = None, **fields) -> Study:
    """A study signed `turnaround` minutes after arrival; due `target` minutes after arrival
    (default: whatever its class gives); claimed `reading` minutes before signing."""
    arrived = NOW - timedelta(minutes=arrived_minutes_ago)
    study = make_study(arrived_at=arrived, **fields)
    reported = arrived + timedelta(minutes=turnaround)
    values = {"reading_state": ReadingState.REPORTED, "reported_at": reported, "reported_by": reader,
              "claimed_at": reported - timedelta(minutes=reading) if reading is not None else None}
    if target is not None:
        values["due_at"] = arrived + timedelta(minutes=target)
    Study.objects.filter(pk=study.pk).update(**values)
    study.refresh_from_db()
    return study


def open_study(*, arrived_minutes_ago: float, due_in: float | None = None, **fields) -> Study:
    arrived = NOW - timedelta(minutes=arrived_minutes_ago)
    study = make_study(arrived_at=arrived, **fields)
    if due_in is not None:
        Study.objects.filter(pk=study.pk).update(due_at=NOW + timedelta(minutes=due_in))
        study.refresh_from_db()
    return study


def analysis(study: Study, *, model: str = "lung_nodule", version: str = "1.0", status: str = AnalysisStatus.DONE,
             category: str = "", suspicion: float | None = None, findings: int = 0, seconds: float | None = None,
             error: str = "", started: datetime | None = None) -> AnalysisRun:
    started = started or NOW - timedelta(hours=1)
    return AnalysisRun.objects.create(
        study=study, model_name=model, model_version=version, status=status, category=category,
        suspicion=suspicion, result={"findings": [{"diameter_mm": 8.0 + i, "type": "solid"} for i in range(findings)]},
        inference_seconds=seconds, error=error, started_at=started,
        finished_at=started + timedelta(seconds=seconds or 1),
    )
