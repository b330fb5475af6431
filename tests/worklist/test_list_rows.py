"""The worklist list: one row shape for REST and websocket, cached rows never stale, ETag, audit."""

import json

import pytest
from channels.db import database_sync_to_async
from rest_framework.utils.encoders import JSONEncoder

from tests.worklist.factories import make_study
from tests.worklist.test_websocket import communicator_for
from worklist.events import study_publish
from worklist.models import AuditEvent, Study
from worklist.rows import row_cache_clear
from worklist.serializers import StudySerializer
from worklist.services import study_claim


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_websocket_pushes_the_same_row_as_the_rest_list(api_as, radiologist, clean_redis):
    study = await database_sync_to_async(make_study)(accession_number="ACC-SHAPE", patient_name="ÅSE^Ø")
    await database_sync_to_async(study_claim)(study_id=study.pk, user=radiologist)
    communicator = await communicator_for(radiologist)
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "hello"
    await database_sync_to_async(study_publish)(study.pk)
    pushed = (await communicator.receive_json_from(timeout=5))["study"]
    await communicator.disconnect()

    def rest_row():
        row_cache_clear()  # the REST row serialised afresh, not the one the push left in the cache
        return api_as(radiologist).get("/api/worklist/").json()["results"][0]

    def serialiser_row():
        fresh = Study.objects.select_related("claimed_by").get(pk=study.pk)
        return json.loads(json.dumps(StudySerializer(fresh).data, cls=JSONEncoder))

    listed = await database_sync_to_async(rest_row)()
    assert pushed == listed == await database_sync_to_async(serialiser_row)()
    assert list(pushed) == list(listed) == StudySerializer.Meta.fields  # same fields, same order
    assert listed["claimed_by"] == radiologist.username


@pytest.mark.django_db
def test_a_study_change_replaces_its_cached_row_and_the_page_etag(api_as, radiologist):
    study = make_study(accession_number="ACC-ETAG")
    client = api_as(radiologist)
    first = client.get("/api/worklist/")
    etag = first["ETag"]
    assert first.json()["results"][0]["claimed_by"] is None
    assert client.get("/api/worklist/", HTTP_IF_NONE_MATCH=etag).status_code == 304

    study_claim(study_id=study.pk, user=radiologist)
    changed = client.get("/api/worklist/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["results"][0]["claimed_by"] == radiologist.username

    study.refresh_from_db()
    study.patient_name = "RENAMED^PATIENT"
    study.save()
    assert client.get("/api/worklist/").json()["results"][0]["patient_name"] == "RENAMED^PATIENT"


@pytest.mark.django_db
def test_every_list_read_is_audited_a_revalidated_one_too(api_as, radiologist):
    make_study()
    client = api_as(radiologist)
    etag = client.get("/api/worklist/")["ETag"]
    statuses = [client.get("/api/worklist/", HTTP_IF_NONE_MATCH=etag).status_code for _ in range(3)]
    statuses.append(client.get("/api/worklist/?modality=CT").status_code)
    assert statuses == [304, 304, 304, 200]
    assert AuditEvent.objects.filter(user=radiologist, action="worklist.view").count() == 5


@pytest.mark.django_db
def test_the_list_says_where_its_server_time_went(api_as, radiologist):
    make_study()
    response = api_as(radiologist).get("/api/worklist/")
    parts = dict(part.split(";dur=") for part in response["Server-Timing"].split(", "))
    # The audit write (worklist.audit, after the view's body) is counted in the view's total.
    assert list(parts) == ["db", "rows", "audit", "view"]
    assert float(parts["view"]) >= float(parts["db"]) + float(parts["rows"]) + float(parts["audit"]) - 0.3


@pytest.mark.django_db
def test_pages_carry_the_total_count_and_links(api_as, radiologist):
    ids = [make_study().pk for _ in range(3)]
    client = api_as(radiologist)
    first = client.get("/api/worklist/?limit=2").json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    assert "offset=2" in first["next"]
    last = client.get("/api/worklist/?limit=2&offset=2").json()
    assert last["count"] == 3 and last["next"] is None and last["previous"]
    assert sorted(r["id"] for r in first["results"] + last["results"]) == sorted(ids)
    past = client.get("/api/worklist/?limit=2&offset=10").json()
    assert past["count"] == 3 and past["results"] == []
    assert client.get("/api/worklist/?mine=true").json() == {"count": 0, "next": None, "previous": None,
                                                             "results": []}
