"""No patient identifier reaches the application's logs.

A study with a distinctive patient name, ID, birth date and accession number goes through the
real processes (ingestion, analysis, the websocket push), and a clinician looks the patient up
by ID over the page, the REST API and FHIR (all GET, so the ID sits in the query string). Then
the worker's and the web server's logs are searched for each identifier.
"""

import pytest
import requests
from django.conf import settings

from tests.faults.helpers import fault_env, send, start_worker, wait_all_analysed
from tests.integration.helpers import session_cookie
from tests.support import processes
from tests.support.dicom import tiny_ct_study

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PATIENT_ID, NAME, ACCESSION, BIRTH = "PID-QX7-4711", "ZEBEDEE^QUIXOTE", "ACC-QX7-0099", "19511231"


def test_patient_identifiers_never_reach_the_logs(orthanc, subprocess_env, tmp_path, clinician, radiologist):
    env = fault_env(subprocess_env, tmp_path)
    worker = start_worker(env, tmp_path)
    port = processes.free_port()
    web = processes.asgi_process(env, tmp_path, port).start()
    url = f"http://127.0.0.1:{port}"
    study = tiny_ct_study(patient_id=PATIENT_ID, patient_name=NAME, accession=ACCESSION)
    for ds in study:
        ds.PatientBirthDate = BIRTH
    try:
        processes.wait_until(lambda: requests.get(url + "/login/", timeout=2).ok, timeout=30, what="the web server")
        send(study)
        wait_all_analysed({study[0].StudyInstanceUID}, timeout=60)
        cookies = {settings.SESSION_COOKIE_NAME: session_cookie(clinician)}
        for path, params in (("/clinician/", {"q": PATIENT_ID}), ("/api/clinician/studies/", {"q": NAME}),
                             ("/fhir/ImagingStudy", {"patient": PATIENT_ID}),
                             ("/fhir/DiagnosticReport", {"identifier": ACCESSION})):
            assert requests.get(url + path, params=params, cookies=cookies, timeout=10).status_code < 500
        radiologist_cookies = {settings.SESSION_COOKIE_NAME: session_cookie(radiologist)}
        assert requests.get(url + "/api/worklist/", params={"search": NAME}, cookies=radiologist_cookies,
                            timeout=10).ok
    finally:
        web.stop()
        worker.stop()
    logs = {name: (tmp_path / name).read_text(errors="replace") for name in ("worker.log", "web.log")}
    assert "ingested study" in logs["worker.log"] and "GET /fhir/ImagingStudy" in logs["web.log"]
    for name, text in logs.items():
        for identifier in (PATIENT_ID, "ZEBEDEE", "QUIXOTE", ACCESSION, BIRTH):
            assert identifier not in text, f"{identifier} found in {name}"
