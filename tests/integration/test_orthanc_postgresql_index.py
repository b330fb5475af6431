"""Orthanc on its PostgreSQL index (scripts/orthanc.sh with ORTHANC_INDEX_DATABASE_URL), as a
multi-machine deployment runs it (docker-compose.yml): the application's path is unchanged.

A study sent over DICOM is indexed in PostgreSQL, not in Orthanc's SQLite file, and still reaches
the worklist through the change feed, the ingestion worker, a CAD model writing its SR back through
the application's restricted Orthanc account, and the API.
"""

from __future__ import annotations

import os
import subprocess

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection

from inference.models import AnalysisRun
from inference.synthetic import generate_study
from tests.integration.helpers import api_get, session_cookie
from tests.support import processes
from tests.support.dicom import TEST_MODALITIES, c_store
from tests.support.orthanc_admin import admin_auth
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STUDY_INSTANCE_UID_TAG = (0x0020, 0x000D)
SOP_INSTANCE_UID_TAG = (0x0008, 0x0018)
MAMMO_MODEL = "inference.cad.mammography.model:MammographyModel"


def _server_url(database: str) -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}"


@pytest.fixture
def index_database(transactional_db):
    """A database of Orthanc's own beside the test database (e.g. test_triage_s4_orthanc_idx), dropped after."""
    name = f"{connection.settings_dict['NAME']}_orthanc_idx"
    with psycopg.connect(_server_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # left by an interrupted run
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _server_url(name)
    with psycopg.connect(_server_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def orthanc_on_postgresql(index_database, tmp_path, service_logs):
    """The project's Orthanc launcher on ports of its own, its index in `index_database`, open to
    other hosts as docker-compose runs it (the application in other containers)."""
    http_port, dicom_port = processes.free_port(), processes.free_port()
    env = dict(os.environ, **{
        "ORTHANC_STORAGE": str(tmp_path / "storage"), "ORTHANC_NAME": "triage-test-pg",
        "DICOM_MODALITIES": TEST_MODALITIES, "ORTHANC_HTTP_PORT": str(http_port),
        "ORTHANC_DICOM_PORT": str(dicom_port), "ORTHANC_URL": f"http://127.0.0.1:{http_port}",
        "ORTHANC_INDEX_DATABASE_URL": index_database, "ORTHANC_REMOTE_ACCESS": "true",  # as docker-compose
    })
    server = processes.orthanc_process(env, service_logs, "orthanc-postgresql.log").start()
    server.url, server.dicom_port, server.storage = env["ORTHANC_URL"], dicom_port, tmp_path / "storage"
    server.index_database = index_database
    auth = (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    try:
        processes.wait_until(lambda: processes.orthanc_ready(server.url, auth), timeout=60,
                             what="Orthanc on its PostgreSQL index to start")
    except TimeoutError:
        server.stop()
        raise RuntimeError("Orthanc did not start:\n" + server.log_tail()) from None
    yield server
    server.stop()


@pytest.fixture
def app_on_postgresql_orthanc(orthanc_on_postgresql, subprocess_env, service_logs):
    """The ingestion/inference worker (the mammography model) and the web server, pointed at that Orthanc."""
    env = dict(subprocess_env, ORTHANC_URL=orthanc_on_postgresql.url,
               ORTHANC_DICOM_PORT=str(orthanc_on_postgresql.dicom_port), CAD_MODELS=MAMMO_MODEL)
    worker = processes.celery_worker_process(env, service_logs).start()
    port = processes.free_port()
    web = processes.asgi_process(env, service_logs, port).start()
    web.url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until(lambda: requests.get(web.url + "/login/", timeout=2).ok, timeout=30,
                             what="the ASGI server")
        yield web
    finally:
        web.stop()
        worker.stop()


def test_orthanc_keeps_its_index_in_postgresql(orthanc_on_postgresql):
    base, auth = orthanc_on_postgresql.url, (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    # The application's account may read /system (its health check); only the operator's lists plugins.
    system = requests.get(f"{base}/system", auth=auth, timeout=5).json()
    assert "libOrthancPostgreSQLIndex" in (system["DatabaseBackendPlugin"] or "")
    plugins = requests.get(f"{base}/plugins", auth=admin_auth(), timeout=5).json()
    assert "postgresql-index" in plugins and "dicom-web" in plugins
    # No SQLite index beside the DICOM files.
    assert not (orthanc_on_postgresql.storage / "index").exists()


def test_orthanc_answers_other_hosts_with_credentials_only_when_remote_access_is_on(orthanc_on_postgresql):
    url, auth = f"{orthanc_on_postgresql.url}/system", (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    assert processes.status_from("127.0.0.2", url, auth) == 200
    assert processes.status_from("127.0.0.2", url) == 401
    assert processes.status_from("127.0.0.2", url, (settings.ORTHANC_USERNAME, "wrong-password")) == 401
    # access.lua still narrows the application's account for them.
    assert processes.status_from("127.0.0.2", f"{orthanc_on_postgresql.url}/plugins", auth) == 403


def test_by_default_orthanc_keeps_its_sqlite_index(orthanc_server):
    base, auth = settings.ORTHANC_URL, (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    assert requests.get(f"{base}/system", auth=auth, timeout=5).json()["DatabaseBackendPlugin"] is None
    assert "postgresql-index" not in requests.get(f"{base}/plugins", auth=admin_auth(), timeout=5).json()
    assert (orthanc_server.storage / "index").exists()


@pytest.mark.parametrize("url", ["mysql://orthanc@db/orthanc", 'postgresql://orthanc:pa"ss@db/orthanc',
                                 "postgresql://orthanc:pa ss@db/orthanc", "postgresql://"])
def test_orthanc_is_not_started_with_an_index_url_it_cannot_use(url, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ORTHANC_INDEX_DATABASE_URL": url, "ORTHANC_STORAGE": str(tmp_path),
           "ORTHANC_ADMIN_PASSWORD": "x", "ORTHANC_HTTP_PORT": "1", "ORTHANC_DICOM_PORT": "1"}
    run = subprocess.run([str(processes.ROOT / "scripts" / "orthanc.sh")], env=env, capture_output=True, text=True,
                         timeout=20)
    assert run.returncode == 1 and "ORTHANC_INDEX_DATABASE_URL" in run.stderr


def test_a_study_sent_over_dicom_is_analysed_and_listed_through_the_postgresql_index(
    orthanc_on_postgresql, app_on_postgresql_orthanc, radiologist
):
    # A four-view mammogram (the quickest model): ingestion reads it through Orthanc's change feed,
    # the model fetches the images and writes its SR back, the worklist lists it analysed.
    study = generate_study("mammography", seed=18, matrix="standard", n_lesions=1, density="b", priority="ROUTINE")
    uid = study.study_instance_uid
    c_store(study.datasets, host="127.0.0.1", port=orthanc_on_postgresql.dicom_port,
            called_aet=settings.ORTHANC_DICOM_AET)

    saved = processes.wait_until(
        lambda: Study.objects.filter(study_instance_uid=uid, status__in=("analysed", "ai_failed")).first(),
        timeout=120, what="the study to be ingested and analysed")
    assert saved.status == "analysed", saved.status_reason
    run = AnalysisRun.objects.get(study=saved, model_name="mammography")
    assert run.status == "done"

    rows = api_get(app_on_postgresql_orthanc.url, session_cookie(radiologist), "/api/worklist/")["results"]
    row = next(r for r in rows if r["study_instance_uid"] == uid)
    assert row["status"] == "analysed" and row["ai_headline"] == run.headline
    assert row["modality"] == "MG" and row["instance_count"] == 4

    # Orthanc indexed the images and the application's SR in PostgreSQL (the plugin's identifier table).
    with psycopg.connect(orthanc_on_postgresql.index_database) as index:
        def indexed(tag, value) -> int:
            return index.execute("SELECT count(*) FROM dicomidentifiers WHERE taggroup = %s AND tagelement = %s"
                                 " AND value = %s", (*tag, value)).fetchone()[0]

        assert indexed(STUDY_INSTANCE_UID_TAG, uid) == 1
        assert indexed(SOP_INSTANCE_UID_TAG, run.result["sr_sop_instance_uid"]) == 1
        for dataset in study.datasets:
            assert indexed(SOP_INSTANCE_UID_TAG, dataset.SOPInstanceUID) == 1


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", " true"])
def test_orthanc_is_not_started_with_a_remote_access_it_cannot_read(value, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ORTHANC_REMOTE_ACCESS": value, "ORTHANC_STORAGE": str(tmp_path),
           "ORTHANC_ADMIN_PASSWORD": "x", "ORTHANC_HTTP_PORT": "1", "ORTHANC_DICOM_PORT": "1"}
    run = subprocess.run([str(processes.ROOT / "scripts" / "orthanc.sh")], env=env, capture_output=True, text=True,
                         timeout=20)
    assert run.returncode == 1 and "ORTHANC_REMOTE_ACCESS" in run.stderr
