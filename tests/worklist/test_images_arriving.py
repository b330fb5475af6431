"""Issue 19's early start made visible: a study ingested before Orthanc calls it stable is marked
"images may still be arriving" until the StableStudy ingest (or pending_studies_settle's) clears
the mark; the worklist row, REST and websocket alike, carries the mark and its plain words.
Orthanc's answers are stubbed; tests/integration/test_early_start.py runs the real path."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from tests.worklist.test_ingest_parsing import orthanc_documents
from tests.worklist.test_websocket import communicator_for
from worklist import ingest
from worklist.models import PendingStudy, Study

ID = "orthanc-study-1"  # orthanc_documents' study


@pytest.fixture
def archive(monkeypatch):
    """Orthanc holding one CT study of `images` images (and an SR that is not counted)."""
    state = {"images": 3, "stable": True, "changes": []}

    def study_documents(orthanc_id, results_modalities):
        study, series, tags, reception = orthanc_documents()
        series[0]["Instances"] = [f"i{n}" for n in range(state["images"])]
        return study, series, tags, reception

    def changes_since(seq, limit=200):
        page = [c for c in state["changes"] if c["Seq"] > seq][:limit]
        return page, (page[-1]["Seq"] if page else seq), True

    def get_json(endpoint):
        if endpoint == "changes?last":
            return {"Last": max((c["Seq"] for c in state["changes"]), default=0)}
        if endpoint == f"studies/{ID}":
            return {"ID": ID, "IsStable": state["stable"]}
        raise ingest.orthanc.OrthancNotFound(endpoint)  # no series listing: no early pass in the follower

    monkeypatch.setattr(ingest.orthanc, "study_documents", study_documents)
    monkeypatch.setattr(ingest.orthanc, "changes_since", changes_since)
    monkeypatch.setattr(ingest.orthanc, "get_json", get_json)
    monkeypatch.setattr(ingest, "_prefetch_request", lambda series_id: None)
    return state


def ingested_early() -> Study:
    PendingStudy.objects.create(orthanc_id=ID)
    return ingest.study_ingest(ID, early=True)


@pytest.mark.django_db
def test_an_early_ingest_marks_the_study_until_the_stable_study_ingest(archive):
    study = ingested_early()
    assert study.images_arriving
    assert study.images_arriving_note == ("Images may still be arriving: the AI has read 3 images so far; "
                                          "the result can change when the study is complete.")
    assert ingest.study_ingest(ID, early=True).images_arriving  # idempotent: the same images, still marked
    assert Study.objects.get().analysis_generation == 1

    archive["changes"] = [{"Seq": 1, "ChangeType": "StableStudy", "ID": ID}]
    assert ingest.orthanc_changes_follow() == 1

    study = Study.objects.get()
    assert not study.images_arriving and study.images_arriving_note == ""
    assert study.analysis_generation == 1  # nothing new came: not analysed again
    assert not PendingStudy.objects.exists()


@pytest.mark.django_db
def test_images_that_came_late_clear_the_mark_and_are_analysed_again(archive):
    ingested_early()
    archive["images"] = 5
    archive["changes"] = [{"Seq": 1, "ChangeType": "StableStudy", "ID": ID}]
    ingest.orthanc_changes_follow()
    study = Study.objects.get()
    assert not study.images_arriving
    assert study.instance_count == 5 and study.analysis_generation == 2


@pytest.mark.django_db
def test_the_settle_fallback_clears_the_mark_when_stable_study_never_came(archive):
    ingested_early()
    assert ingest.pending_studies_settle(now=timezone.now() + timedelta(hours=1)) == 1
    assert not Study.objects.get().images_arriving


@pytest.mark.django_db
def test_an_early_pass_saved_after_the_stable_ingest_cannot_leave_the_mark(archive, monkeypatch):
    """Two followers (the lock lost): one's early pass read the archive before StableStudy and saves
    just after the other's StableStudy ingest. The pending row is gone by then, so no mark stays."""
    ingested_early()
    save = ingest._save_study

    def stable_then_a_racing_early_save(meta, *, early=False):
        result = save(meta, early=early)
        if not early:
            save(meta, early=True)
        return result

    monkeypatch.setattr(ingest, "_save_study", stable_then_a_racing_early_save)
    archive["changes"] = [{"Seq": 1, "ChangeType": "StableStudy", "ID": ID}]
    ingest.orthanc_changes_follow()
    assert not Study.objects.get().images_arriving


@pytest.mark.django_db
def test_the_worklist_page_shows_the_mark_and_loses_it_when_the_study_is_complete(archive, api_as, radiologist):
    ingested_early()
    client = api_as(radiologist)
    row = client.get("/api/worklist/").json()["results"][0]
    assert row["images_arriving"] is True
    assert row["images_arriving_note"].startswith("Images may still be arriving: the AI has read 3 images")

    ingest.study_ingest(ID)  # StableStudy's ingest; the cached page must not outlive it

    row = client.get("/api/worklist/").json()["results"][0]
    assert row["images_arriving"] is False and row["images_arriving_note"] == ""


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_websocket_pushes_the_row_without_the_mark_when_the_study_is_complete(archive, radiologist,
                                                                                       clean_redis):
    await database_sync_to_async(ingested_early)()
    communicator = await communicator_for(radiologist)
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "hello"

    await database_sync_to_async(ingest.study_ingest)(ID)

    pushed = (await communicator.receive_json_from(timeout=5))["study"]
    await communicator.disconnect()
    assert pushed["images_arriving"] is False and pushed["images_arriving_note"] == ""
