"""Issue 19, unit level: when the modality's own counts call a study complete, and what the
follower does with it. Orthanc's answers are stubbed; tests/integration/test_early_start.py runs
the same path against a real Orthanc and Celery worker."""

import pytest

from archive.completion import series_expected_images, study_images_if_complete
from worklist import ingest
from worklist.models import PendingStudy


def series(count: int, **tags) -> dict:
    return {"MainDicomTags": {"Modality": "CT", **tags}, "Instances": [f"i{n}" for n in range(count)]}


def test_images_in_acquisition_gives_the_series_size():
    assert series_expected_images({"ImagesInAcquisition": "299"}) == 299


def test_temporal_positions_multiply_the_images_of_one_acquisition():
    assert series_expected_images({"ImagesInAcquisition": "24", "NumberOfTemporalPositions": "5"}) == 120


def test_pet_slices_times_time_slices():
    assert series_expected_images({"NumberOfSlices": "80", "NumberOfTimeSlices": "3"}) == 240


@pytest.mark.parametrize("tags", [{}, {"ImagesInAcquisition": ""}, {"ImagesInAcquisition": "0"},
                                  {"ImagesInAcquisition": "many"}])
def test_no_usable_count_means_no_early_start(tags):
    assert series_expected_images(tags) is None


def test_a_study_is_complete_when_every_image_series_holds_its_count():
    assert study_images_if_complete([series(3, ImagesInAcquisition="3"), series(2, ImagesInAcquisition="2")]) == 5


def test_a_series_short_of_its_count_or_without_one_keeps_the_study_incomplete():
    assert study_images_if_complete([series(3, ImagesInAcquisition="3"), series(1, ImagesInAcquisition="2")]) is None
    assert study_images_if_complete([series(3, ImagesInAcquisition="3"), series(2)]) is None


def test_more_images_than_counted_is_a_wrong_count_left_to_stable_study():
    assert study_images_if_complete([series(4, ImagesInAcquisition="3")]) is None


def test_our_own_results_in_the_study_do_not_count():
    sr = {"MainDicomTags": {"Modality": "SR"}, "Instances": ["sr"]}
    assert study_images_if_complete([series(3, ImagesInAcquisition="3"), sr], results_modalities=frozenset({"SR"})) == 3


class FakeArchive:
    def __init__(self):
        self.changes, self.series, self.ingested = [], {}, []

    def changes_since(self, seq, limit=200):
        page = [c for c in self.changes if c["Seq"] > seq][:limit]
        return page, (page[-1]["Seq"] if page else seq), True

    def get_json(self, endpoint):
        if endpoint == "changes?last":
            return {"Last": max((c["Seq"] for c in self.changes), default=0)}
        study = endpoint.split("/")[1]
        if endpoint.endswith("/series") and study in self.series:
            return self.series[study]
        raise ingest.orthanc.OrthancNotFound(endpoint)


@pytest.fixture
def archive(monkeypatch):
    fake = FakeArchive()
    monkeypatch.setattr(ingest.orthanc, "changes_since", fake.changes_since)
    monkeypatch.setattr(ingest.orthanc, "get_json", fake.get_json)
    monkeypatch.setattr(ingest, "study_ingest",
                        lambda orthanc_id, *, early=False: fake.ingested.append((orthanc_id, early)))
    monkeypatch.setattr(ingest, "_prefetch_request", lambda series_id: None)
    return fake


@pytest.mark.django_db
def test_a_complete_study_is_ingested_once_early_and_stays_pending_for_stable_study(archive):
    archive.changes = [{"Seq": 1, "ChangeType": "NewStudy", "ID": "a"}]
    archive.series = {"a": [series(2, ImagesInAcquisition="3")]}
    assert ingest.orthanc_changes_follow() == 0  # 2 of 3 images
    archive.series = {"a": [series(3, ImagesInAcquisition="3")]}
    assert ingest.orthanc_changes_follow() == 1
    assert ingest.orthanc_changes_follow() == 0  # nothing new: not ingested again
    assert archive.ingested == [("a", True)]  # early: marked as possibly still arriving
    assert PendingStudy.objects.get(orthanc_id="a").early_images == 3

    # A second series, complete by its own count, changes the study: ingested (and analysed) again.
    archive.series = {"a": [series(3, ImagesInAcquisition="3"), series(2, ImagesInAcquisition="2")]}
    assert ingest.orthanc_changes_follow() == 1
    archive.changes.append({"Seq": 2, "ChangeType": "StableStudy", "ID": "a"})
    assert ingest.orthanc_changes_follow() == 1
    assert archive.ingested == [("a", True), ("a", True), ("a", False)]  # StableStudy clears the mark
    assert not PendingStudy.objects.exists()
