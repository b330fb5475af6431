"""Worklist pages cached between changes (worklist.page_cache): served from the cache while nothing
changed, never after a committed change, per reader where the page depends on the reader."""

import threading
from datetime import timedelta

import pytest
import redis
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from tests.support.processes import free_port
from tests.worklist.factories import make_study
from worklist import page_cache
from worklist.models import AuditEvent, Study
from worklist.services import study_claim


def first_page(client) -> dict:
    response = client.get("/api/worklist/")
    assert response.status_code == 200
    return response.json()


def study_reads(queries) -> list[str]:
    selects = (q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT"))
    return [sql for sql in selects if "worklist_study" in sql]


@pytest.mark.django_db(transaction=True)
def test_an_unchanged_page_is_served_without_reading_the_studies(api_as, radiologist):
    make_study(accession_number="ACC-CACHED")
    client = api_as(radiologist)
    first = first_page(client)
    with CaptureQueriesContext(connection) as queries:
        assert first_page(client) == first
    assert study_reads(queries) == []
    assert AuditEvent.objects.filter(user=radiologist, action="worklist.view").count() == 2  # both audited


@pytest.mark.django_db(transaction=True)
def test_every_kind_of_study_or_reader_write_is_in_the_next_read(api_as, radiologist, other_radiologist):
    early, late = make_study(accession_number="ACC-EARLY"), make_study(accession_number="ACC-LATE")
    client = api_as(radiologist)
    assert [r["id"] for r in first_page(client)["results"]] == [early.pk, late.pk]

    late.patient_name = "SAVED^AGAIN"
    late.save()  # save(): post_save
    assert first_page(client)["results"][1]["patient_name"] == "SAVED^AGAIN"

    # update(): no signal; the order moves without updated_at moving.
    Study.objects.filter(pk=late.pk).update(order_at=early.order_at - timedelta(hours=1))
    assert [r["id"] for r in first_page(client)["results"]] == [late.pk, early.pk]

    fields = {**make_study_fields(), "order_at": early.order_at - timedelta(hours=2)}
    added = Study.objects.bulk_create([Study(**fields)])[0]
    page = first_page(client)
    assert page["count"] == 3 and page["results"][0]["id"] == added.pk

    study_claim(study_id=early.pk, user=other_radiologist)
    other_radiologist.username = "ravi-renamed"
    other_radiologist.save()  # a reader's name is in the rows
    claimed = next(r for r in first_page(client)["results"] if r["id"] == early.pk)
    assert claimed["claimed_by"] == "ravi-renamed"

    added.delete()  # delete(): post_delete
    assert first_page(client)["count"] == 2


def make_study_fields() -> dict:
    study = make_study(accession_number="ACC-BULK")
    fields = {f.attname: getattr(study, f.attname) for f in Study._meta.concrete_fields if not f.primary_key}
    study.delete()
    return fields


@pytest.mark.django_db(transaction=True)
def test_a_page_read_while_a_change_was_uncommitted_is_not_served_after_the_commit(api_as, radiologist):
    """The bump at the change cannot be enough: a reader in between caches the old page under it."""
    study = make_study(accession_number="ACC-RACE", patient_name="BEFORE^COMMIT")
    client = api_as(radiologist)
    first_page(client)
    seen = []

    def concurrent_reader() -> None:
        try:
            seen.append(first_page(api_as(radiologist))["results"][0]["patient_name"])
        finally:
            connections.close_all()

    with transaction.atomic():
        study.patient_name = "AFTER^COMMIT"
        study.save()
        reader = threading.Thread(target=concurrent_reader)
        reader.start()
        reader.join()
    assert seen == ["BEFORE^COMMIT"]  # the other connection did not see the uncommitted change
    assert first_page(client)["results"][0]["patient_name"] == "AFTER^COMMIT"


@pytest.mark.django_db(transaction=True)
def test_mine_is_cached_per_reader(api_as, radiologist, other_radiologist):
    study = make_study(accession_number="ACC-MINE")
    study_claim(study_id=study.pk, user=radiologist)
    assert api_as(radiologist).get("/api/worklist/?mine=true").json()["count"] == 1
    assert api_as(other_radiologist).get("/api/worklist/?mine=true").json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_without_redis_every_read_comes_from_the_database(api_as, radiologist, monkeypatch):
    study = make_study(accession_number="ACC-NOREDIS", patient_name="FIRST^READ")
    client = api_as(radiologist)
    first_page(client)
    # Nothing listens on this port: the version can be neither read nor bumped.
    monkeypatch.setattr(page_cache, "_client", redis.Redis(port=free_port(), socket_connect_timeout=0.5))
    study.patient_name = "SECOND^READ"
    study.save()
    assert first_page(client)["results"][0]["patient_name"] == "SECOND^READ"
