"""Personas and real-service fixtures shared by every test.

Unit tests use the database only. Integration tests (marked `integration`) start the real
processes: the project's Orthanc on spare ports, a Celery worker (with beat) and uvicorn, all
pointed at the pytest-django test database and a Redis database of their own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
import pytest_asyncio
import redis
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from accounts.models import Role
from tests.support import processes
from tests.support.dicom import TEST_MODALITIES
from tests.support.orthanc_admin import admin_delete, admin_request

# Hypothesis times each example; on a loaded 2-core machine (CI runs the suite beside Orthanc, Celery
# and Chromium) a pure-Python property has failed its "too slow" health check. The properties and
# their example counts are unchanged; only the wall-clock checks are off.
hypothesis_settings.register_profile("shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("shared-machine")


@pytest.fixture(autouse=True)
def urgency_classes_seeded(request):
    """The urgency classes a migration seeds, back after a transactional test flushed them."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db" if not _transactional(request) else "transactional_db")
    from triage.models import UrgencyClass
    from triage.priority import DEFAULT_TARGETS

    for target in DEFAULT_TARGETS.values():
        UrgencyClass.objects.get_or_create(
            code=target.code, defaults={"name": target.name, "rank": target.rank, "target_minutes": target.minutes,
                                        "ceiling_minutes": target.ceiling_minutes}
        )


@pytest.fixture(autouse=True)
def worklist_pages_forgotten():
    """Each test's database is rolled back or flushed under the same Redis version token: no
    worklist page cached by an earlier test in this process is served (worklist.page_cache)."""
    yield
    from worklist.page_cache import page_cache_clear

    page_cache_clear()


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


@pytest.fixture
def make_user(django_user_model):
    def make(username: str, role: str, **extra):
        return django_user_model.objects.create_user(username=username, password="pw-" + username, role=role,
                                                     **extra)

    return make


@pytest.fixture
def radiologist(make_user):
    return make_user("rosa", Role.RADIOLOGIST, first_name="Rosa")


@pytest.fixture
def other_radiologist(make_user):
    return make_user("ravi", Role.RADIOLOGIST, first_name="Ravi")


@pytest.fixture
def manager(make_user):
    return make_user("max", Role.MANAGER)


@pytest.fixture
def clinician(make_user):
    return make_user("clara", Role.CLINICIAN)


@pytest.fixture
def api_as():
    def client_for(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


# --- real services -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def service_logs(tmp_path_factory) -> Path:
    path = Path(os.environ.get("TEST_LOG_DIR") or tmp_path_factory.mktemp("service-logs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _service_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    return env


@pytest.fixture(scope="session")
def orthanc_server(tmp_path_factory, service_logs):
    """The project's own Orthanc configuration, on the test ports, with throwaway storage."""
    storage = tmp_path_factory.mktemp("orthanc-storage")
    # The AE titles the tests send as, from this host: only they may store (scripts/orthanc.sh).
    env = _service_env({"ORTHANC_STORAGE": str(storage), "ORTHANC_NAME": "triage-test",
                        "DICOM_MODALITIES": TEST_MODALITIES})
    server = processes.orthanc_process(env, service_logs).start()
    auth = (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    try:
        processes.wait_until(lambda: processes.orthanc_ready(settings.ORTHANC_URL, auth), timeout=30,
                             what="Orthanc to start")
    except TimeoutError:
        server.stop()
        raise RuntimeError("Orthanc did not start:\n" + server.log_tail()) from None
    server.storage = storage
    yield server
    server.stop()
    shutil.rmtree(storage, ignore_errors=True)


@pytest.fixture
def orthanc(orthanc_server):
    """A running, empty archive for one test."""
    if not orthanc_server.alive():
        orthanc_server.start()
    auth = (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    processes.wait_until(lambda: processes.orthanc_ready(settings.ORTHANC_URL, auth), timeout=30,
                         what="Orthanc to answer")
    for study_id in admin_request("GET", "studies").json():
        admin_delete(f"studies/{study_id}")
    return orthanc_server


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("asyncio") is not None:
            item.fixturenames.append("consumers_end")


@pytest_asyncio.fixture
async def consumers_end():
    """An asyncio test must end every consumer it started (communicator.disconnect(), as a server
    sends websocket.disconnect after a close). A consumer left running waits on the Redis channel
    layer until the event loop is torn down, and that teardown once hung a CI run for 600 s."""
    yield
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert not left, f"{len(left)} task(s) still running at the end of the test: {left}"


@pytest.fixture
def clean_redis():
    connection = redis.Redis.from_url(settings.REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def subprocess_env(transactional_db, clean_redis):
    """Environment for child processes: the same settings, on the pytest-django test database."""
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return _service_env({"DATABASE_URL": url, "PYTHONUNBUFFERED": "1"})


@pytest.fixture
def celery_worker(subprocess_env, service_logs, orthanc):
    worker = processes.celery_worker_process(subprocess_env, service_logs).start()
    yield worker
    worker.stop()


@pytest.fixture
def web_server(subprocess_env, service_logs):
    port = processes.free_port()
    server = processes.asgi_process(subprocess_env, service_logs, port).start()
    server.url = f"http://127.0.0.1:{port}"
    import requests

    processes.wait_until(lambda: requests.get(server.url + "/login/", timeout=2).ok, timeout=30,
                         what="the ASGI server")
    yield server
    server.stop()
