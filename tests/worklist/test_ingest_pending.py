"""Studies Orthanc announced but never called stable (it restarted while they arrived).

Unit level: Orthanc's answers are stubbed; tests/faults/test_orthanc_outage.py runs the same
path against a real Orthanc stopped mid-arrival.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from worklist import ingest
from worklist.models import PendingStudy

pytestmark = pytest.mark.django_db


class FakeArchive:
    def __init__(self, changes, resources):
        self.changes, self.resources, self.ingested = changes, resources, []

    def changes_since(self, seq, limit=200):
        page = [c for c in self.changes if c["Seq"] > seq][:limit]
        return page, (page[-1]["Seq"] if page else seq), True

    def get_json(self, endpoint):
        if endpoint == "changes?last":
            return {"Last": max((c["Seq"] for c in self.changes), default=0)}
        orthanc_id = endpoint.split("/")[-1]
        if orthanc_id not in self.resources:
            raise ingest.orthanc.OrthancNotFound(endpoint)
        return self.resources[orthanc_id]


@pytest.fixture
def archive(monkeypatch):
    fake = FakeArchive([], {})
    monkeypatch.setattr(ingest.orthanc, "changes_since", fake.changes_since)
    monkeypatch.setattr(ingest.orthanc, "get_json", fake.get_json)
    monkeypatch.setattr(ingest, "study_ingest", fake.ingested.append)
    return fake


def _age(orthanc_id: str, seconds: float) -> None:
    PendingStudy.objects.filter(orthanc_id=orthanc_id).update(
        announced_at=timezone.now() - timedelta(seconds=seconds))


def test_a_study_announced_and_then_stable_is_ingested_once_and_not_left_pending(archive):
    archive.changes = [{"Seq": 1, "ChangeType": "NewStudy", "ID": "a"},
                       {"Seq": 2, "ChangeType": "StableStudy", "ID": "a"}]
    assert ingest.orthanc_changes_follow() == 1
    assert archive.ingested == ["a"]
    assert not PendingStudy.objects.exists()


def test_a_study_never_announced_stable_is_ingested_once_orthanc_says_it_is_stable(archive, settings):
    archive.changes = [{"Seq": 1, "ChangeType": "NewStudy", "ID": "lost"}]
    archive.resources = {"lost": {"IsStable": True}}
    assert ingest.orthanc_changes_follow() == 0  # too young: its StableStudy may still come
    assert archive.ingested == []
    _age("lost", settings.ORTHANC_STABLE_AGE + settings.INGEST_PENDING_GRACE_SECONDS + 1)
    assert ingest.orthanc_changes_follow() == 1
    assert archive.ingested == ["lost"]
    assert not PendingStudy.objects.exists()


def test_a_study_still_receiving_images_stays_pending(archive):
    archive.changes = [{"Seq": 1, "ChangeType": "NewStudy", "ID": "slow"}]
    archive.resources = {"slow": {"IsStable": False}}
    ingest.orthanc_changes_follow()
    _age("slow", 3600)
    assert ingest.orthanc_changes_follow() == 0
    assert archive.ingested == []
    assert PendingStudy.objects.filter(orthanc_id="slow").exists()


def test_a_study_deleted_from_the_archive_before_it_was_stable_is_forgotten(archive):
    archive.changes = [{"Seq": 1, "ChangeType": "NewStudy", "ID": "gone"}]
    ingest.orthanc_changes_follow()
    _age("gone", 3600)
    assert ingest.orthanc_changes_follow() == 0
    assert archive.ingested == []
    assert not PendingStudy.objects.exists()
