"""Ageing live: a routine study that has waited past its age ceiling rises above a newer AI-flagged one,
moved by the periodic re-prioritisation alone (no new event for it), and its reason says so."""

import pytest
from django.conf import settings

from tests.integration.helpers import api_get, collect_messages, open_worklist_socket, session_cookie
from tests.support import processes
from tests.support.dicom import c_store, tiny_ct_study
from triage.models import AgeingPolicy, UrgencyClass

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def send(datasets):
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)


def updates_of(messages, accession):
    return [m["study"] for m in messages
            if m.get("type") == "study.updated" and m.get("study", {}).get("accession_number") == accession]


def test_a_study_aged_past_its_ceiling_rises_above_a_newer_flagged_one(
    orthanc, subprocess_env, service_logs, web_server, radiologist
):
    # The manager's settings: design "promote" (past its ceiling a study goes first), where the periodic pass
    # changes the stored order, and a two-minute routine ceiling, so that the test waits minutes, not hours.
    # Storing, re-prioritising, pushing and ordering are the same for the default design.
    AgeingPolicy.objects.all().delete()  # the migration seeded the default row
    AgeingPolicy.objects.create(mode="promote", score_weight=0.0, unscored_closeness=0.0)
    UrgencyClass.objects.filter(code="routine").update(ceiling_minutes=2)
    env = dict(subprocess_env, CAD_MODELS="tests.inference.fake_models:FlagsChestCtAfterAWhile",
               ESCALATION_SECONDS="2")
    workers = [processes.celery_worker_process(env, service_logs, queues="default").start(),
               processes.celery_worker_process(env, service_logs, queues="inference", beat=False).start()]
    try:
        cookie = session_cookie(radiologist)
        old = tiny_ct_study(accession="ACC-OLD", priority="ROUTINE", location="OUTPATIENT CLINIC")
        for dataset in old:  # no model applies to it: it stays routine
            dataset.BodyPartExamined, dataset.StudyDescription = "ABDOMEN", "CT ABDOMEN"
        new = tiny_ct_study(accession="ACC-NEW", priority="ROUTINE", location="OUTPATIENT CLINIC")

        with open_worklist_socket(web_server.url, cookie) as socket:
            send(old)
            collect_messages(socket, until=lambda m: updates_of(m, "ACC-OLD"), timeout=45)
            send(new)
            collect_messages(socket, until=lambda m: any(
                s["urgency_code"] == "ai_critical" for s in updates_of(m, "ACC-NEW")), timeout=60)
            rows = api_get(web_server.url, cookie, "/api/worklist/")["results"]
            before = {r["accession_number"]: r for r in rows}
            # From here on nothing happens to the old study but the clock and the periodic pass.
            aged = collect_messages(socket, until=lambda m: any(
                "age ceiling" in s["priority_reason"] for s in updates_of(m, "ACC-OLD")), timeout=150)
    finally:
        for worker in workers:
            worker.stop()

    assert "age ceiling" not in before["ACC-OLD"]["priority_reason"], "the old study aged before the check"
    assert [r["accession_number"] for r in rows] == ["ACC-NEW", "ACC-OLD"]  # the flagged study first, at first

    rows = api_get(web_server.url, cookie, "/api/worklist/")["results"]
    assert [r["accession_number"] for r in rows] == ["ACC-OLD", "ACC-NEW"]  # then the aged one
    old_row, new_row = rows
    assert new_row["urgency_code"] == "ai_critical" and "Lung-RADS 4B" in new_row["priority_reason"]
    assert old_row["urgency_code"] == "routine"  # still judged against the routine target
    assert old_row["order_tier"] == 0 and new_row["order_tier"] == 1
    assert "past its 2 min age ceiling: moved up" in old_row["priority_reason"]
    # The move was pushed to the browsers by the periodic pass.
    assert any("moved up" in s["priority_reason"] for s in updates_of(aged, "ACC-OLD"))
