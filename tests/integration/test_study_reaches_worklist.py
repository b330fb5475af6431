"""The walking skeleton end to end: DICOM C-STORE → Orthanc → worklist API and websocket."""

import time

import pytest
from django.conf import settings

from tests.integration.helpers import api_get, collect_messages, open_worklist_socket, session_cookie
from tests.support.dicom import c_store, tiny_ct_study
from tests.support.processes import wait_until
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def send(datasets):
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)


def test_a_study_sent_over_dicom_reaches_the_api_and_the_websocket(orthanc, celery_worker, web_server, radiologist):
    cookie = session_cookie(radiologist)
    study = tiny_ct_study(patient_name="王^小明", accession="ACC-WS-1", priority="STAT",
                          location="EMERGENCY DEPT")
    uid = study[0].StudyInstanceUID

    with open_worklist_socket(web_server.url, cookie) as socket:
        send(study)
        sent_at = time.monotonic()
        messages = collect_messages(
            socket,
            until=lambda ms: any(m["type"] == "study.updated" and m["study"]["study_instance_uid"] == uid
                                 and m["study"]["status"] == "no_ai" for m in ms),
            timeout=30,
        )
    pushed = [m["study"] for m in messages if m["type"] == "study.updated"]
    assert pushed[0]["study_instance_uid"] == uid
    # Every pipeline step is pushed, in order, ending with the honest "no AI" answer.
    statuses = [s["status"] for s in pushed]
    assert statuses[-1] == "no_ai" and "queued" in statuses
    assert statuses.index("queued") < statuses.index("no_ai")
    assert time.monotonic() - sent_at < 20

    rows = api_get(web_server.url, cookie, "/api/worklist/")["results"]
    row = next(r for r in rows if r["study_instance_uid"] == uid)
    assert row["patient_name"] == "王^小明"
    assert row["accession_number"] == "ACC-WS-1"
    assert row["modality"] == "CT" and row["body_part"] == "CHEST"
    assert row["requested_priority"] == "STAT"
    assert row["patient_location"] == "EMERGENCY DEPT"
    assert row["instance_count"] == 4 and row["series_count"] == 1
    assert row["status_reason"] == "No AI for this study type (CT CHEST)"
    assert row["urgency_code"] == "stat"
    # The push carries the same shape as the API.
    assert set(pushed[-1]) == set(row)


def test_gb18030_names_come_through_intact(orthanc, celery_worker):
    study = tiny_ct_study(patient_name="李^华", charset="GB18030", accession="ACC-GB")
    send(study)
    saved = wait_until(lambda: Study.objects.filter(accession_number="ACC-GB").first(), timeout=30,
                       what="the GB18030 study")
    assert saved.patient_name == "李^华"


def test_studies_stored_while_web_and_worker_are_down_appear_once_after_restart(
    orthanc, subprocess_env, service_logs, radiologist
):
    from tests.support import processes

    studies = [tiny_ct_study(accession=f"ACC-DOWN-{i}", patient_id=f"PID-DOWN-{i}") for i in range(3)]
    for study in studies:
        send(study)
    uids = {s[0].StudyInstanceUID for s in studies}
    # Let Orthanc declare them stable while nothing of ours runs.
    time.sleep(settings_stable_age() + 2)
    assert Study.objects.count() == 0

    worker = processes.celery_worker_process(subprocess_env, service_logs).start()
    web = processes.asgi_process(subprocess_env, service_logs, processes.free_port())
    try:
        wait_until(lambda: Study.objects.filter(study_instance_uid__in=uids, status="no_ai").count() == 3,
                   timeout=60, what="the three studies to be ingested and analysed")
        # Reading the whole change feed again (a cursor lost in a crash) must not duplicate anything.
        from worklist.ingest import CURSOR_NAME, orthanc_changes_follow
        from worklist.models import IngestCursor

        IngestCursor.objects.filter(name=CURSOR_NAME).update(last_seq=0)
        assert orthanc_changes_follow() >= 3  # the three studies were really read again
        assert Study.objects.filter(study_instance_uid__in=uids).count() == 3
        assert all(s.analysed_generation == 1 for s in Study.objects.filter(study_instance_uid__in=uids))
        web.start()
        port = web.argv[web.argv.index("--port") + 1]
        url = f"http://127.0.0.1:{port}"
        import requests

        wait_until(lambda: requests.get(url + "/login/", timeout=2).ok, timeout=30, what="web server")
        rows = api_get(url, session_cookie(radiologist), "/api/worklist/")["results"]
        listed = [r["study_instance_uid"] for r in rows if r["study_instance_uid"] in uids]
        assert sorted(listed) == sorted(uids)
    finally:
        web.stop()
        worker.stop()


def settings_stable_age() -> int:
    import os

    return int(os.environ.get("ORTHANC_STABLE_AGE", "3"))
