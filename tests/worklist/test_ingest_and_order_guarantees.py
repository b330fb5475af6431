"""Guarantees the README leads with, pinned so that breaking them fails a test (issue 17 mutation check):
the change-feed cursor moves only after the study is saved; saving a study twice is idempotent; the
database worklist order is the Python priority key."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.worklist.factories import make_study
from triage.priority import study_sort_key
from worklist import ingest
from worklist.models import IngestCursor, Series, Study
from worklist.selectors import worklist_order

pytestmark = pytest.mark.django_db


class Crash(Exception):
    pass


def test_a_save_that_raises_leaves_the_cursor_where_it_was(monkeypatch):
    IngestCursor.objects.create(name=ingest.CURSOR_NAME, last_seq=3)
    changes = [{"Seq": 4, "ChangeType": "NewStudy", "ID": "a"}, {"Seq": 5, "ChangeType": "StableStudy", "ID": "a"},
               {"Seq": 6, "ChangeType": "StableStudy", "ID": "b"}]
    monkeypatch.setattr(ingest.orthanc, "changes_since",
                        lambda seq, limit=200: ([c for c in changes if c["Seq"] > seq], changes[-1]["Seq"], True))
    saved = []

    def save_then_crash(orthanc_id):
        if orthanc_id == "b":
            raise Crash("database gone while saving b")
        saved.append(orthanc_id)

    monkeypatch.setattr(ingest, "study_ingest", save_then_crash)
    with pytest.raises(Crash):
        ingest.orthanc_changes_follow()
    # "a" was saved, so the cursor may pass it; "b" was not, so its change must be read again.
    assert saved == ["a"]
    assert IngestCursor.objects.get().last_seq == 5


def _metadata(**overrides) -> ingest.StudyMetadata:
    values = dict(study_instance_uid="1.2.826.0.1.3680043.8.498.1", orthanc_id="orthanc-study-1", patient_id="P-1",
                  patient_name="ONE^TEST", accession_number="ACC-1", modality="CT", modalities="CT",
                  body_part="CHEST", arrived_at=timezone.now(),
                  series=[ingest.SeriesMetadata(series_instance_uid="1.2.826.0.1.3680043.8.498.2",
                                                orthanc_id="orthanc-series-1", modality="CT", instance_count=4)])
    values.update(overrides)
    return ingest.StudyMetadata(**values)


def test_saving_the_same_study_twice_leaves_one_row_and_one_analysis_request():
    first, created = ingest._save_study(_metadata())
    again, changed = ingest._save_study(_metadata())
    assert created and not changed
    assert again.pk == first.pk
    assert Study.objects.count() == 1 and Series.objects.count() == 1
    assert Study.objects.get().analysis_generation == 1


def test_new_images_of_a_saved_study_ask_for_one_more_analysis():
    ingest._save_study(_metadata())
    grown = _metadata()
    grown.series[0].instance_count = 6
    ingest._save_study(grown)
    assert Study.objects.get().analysis_generation == 2


def test_the_database_worklist_order_is_the_python_priority_key():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    classes = [("STAT", "EMERGENCY DEPT"), ("ROUTINE", "OUTPATIENT CLINIC"), ("ROUTINE", "WARD 3"), ("", "")]
    scores = [None, 0.05, 0.5, 0.95]
    ages = [5, 90, 60 * 30]  # minutes since arrival: fresh, hours, past most targets
    scored = []
    for (priority, location), score, minutes in itertools.product(classes, scores, ages):
        scored.append((make_study(requested_priority=priority, patient_location=location,
                                  arrived_at=now - timedelta(minutes=minutes)), score))
    # Same due time, different AI scores: the score must break the tie, and only the tie.
    for score in (None, 0.2, 0.8):
        scored.append((make_study(arrived_at=now - timedelta(minutes=42)), score))
    for study, score in scored:  # as an analysis stores it (inference.services)
        Study.objects.filter(pk=study.pk).update(ai_suspicion=score)
    studies = list(Study.objects.all())
    assert len({s.urgency_code for s in studies}) >= 3 and len({s.order_at for s in studies}) >= 10
    assert len({s.ai_suspicion for s in studies}) == 6
    expected = [s.pk for s in sorted(studies, key=lambda s: study_sort_key(
        order_tier=s.order_tier, order_at=s.order_at, ai_suspicion=s.ai_suspicion, arrived_at=s.arrived_at,
        id=s.pk))]
    assert list(worklist_order(Study.objects.all()).values_list("pk", flat=True)) == expected

