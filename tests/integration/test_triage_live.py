"""Triage live: an AI-critical finding on a routine study reorders the worklist and is pushed in order."""

import pytest
from django.conf import settings

from tests.integration.helpers import api_get, collect_messages, open_worklist_socket, session_cookie
from tests.support import processes
from tests.support.dicom import c_store, tiny_ct_study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def send(datasets):
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)


def test_a_routine_study_with_an_ai_critical_finding_overtakes_an_emergency(
    orthanc, subprocess_env, service_logs, web_server, radiologist
):
    env = dict(subprocess_env, CAD_MODELS="tests.inference.fake_models:FlagsChestCtAfterAWhile")
    # Ingestion and analysis in separate workers, as in the Procfile: with one process the second
    # arrival could wait behind the first one's analysis and be pushed after its finding.
    workers = [processes.celery_worker_process(env, service_logs, queues="default").start(),
               processes.celery_worker_process(env, service_logs, queues="inference", beat=False).start()]
    try:
        cookie = session_cookie(radiologist)
        routine = tiny_ct_study(accession="ACC-ROUTINE", priority="ROUTINE", location="OUTPATIENT CLINIC")
        emergency = tiny_ct_study(accession="ACC-ED", priority="STAT", location="EMERGENCY DEPT")
        for dataset in emergency:
            dataset.BodyPartExamined, dataset.StudyDescription = "HEAD", "CT HEAD"

        def routine_flagged(messages):
            return any(m.get("study", {}).get("accession_number") == "ACC-ROUTINE"
                       and m["study"]["urgency_code"] == "ai_critical" for m in messages)

        with open_worklist_socket(web_server.url, cookie) as socket:
            send(routine)
            send(emergency)
            messages = collect_messages(socket, until=routine_flagged, timeout=45)
    finally:
        for worker in workers:
            worker.stop()

    updates = [(m["study"]["accession_number"], m["study"]["urgency_code"]) for m in messages
               if m["type"] == "study.updated"]
    # Both arrivals were pushed before the AI finding, and the finding came last.
    first_routine = updates.index(("ACC-ROUTINE", "routine"))
    first_emergency = updates.index(("ACC-ED", "stat"))
    assert max(first_routine, first_emergency) < len(updates) - 1
    assert updates[-1] == ("ACC-ROUTINE", "ai_critical")

    rows = api_get(web_server.url, cookie, "/api/worklist/")["results"]
    order = [r["accession_number"] for r in rows]
    # The routine study arrived first; with the AI-critical hour target it is now due first.
    assert order == ["ACC-ROUTINE", "ACC-ED"]
    assert "Lung-RADS 4B" in rows[0]["priority_reason"]
    assert "ordered routine" in rows[0]["priority_reason"].lower()
