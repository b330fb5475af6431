"""The web process keeps its PostgreSQL connections between requests (issue 19).

Under ASGI Django runs each request's sync code in a thread of its own, so CONN_MAX_AGE cannot
keep a connection: before the pool every worklist read opened (forked) a new backend and closed
it at the end. The server here is started as the Procfile starts it (config.serve)."""

import pytest
import requests
from django.db import connection

from tests.integration.helpers import session_cookie
from tests.worklist.factories import make_study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worklist_reads_reuse_the_web_process_s_database_connections(web_server, radiologist):
    make_study()
    cookie = {"sessionid": session_cookie(radiologist)}

    def read() -> None:
        response = requests.get(web_server.url + "/api/worklist/", cookies=cookie, timeout=10)
        assert response.status_code == 200 and response.json()["count"] == 1

    for _ in range(10):
        read()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        mark = cursor.fetchone()[0]
    for _ in range(20):
        read()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND backend_start < %s",
                       [mark])
        kept = cursor.fetchone()[0]
    # A connection opened during the first ten reads still serves after twenty more.
    assert 1 <= kept <= 8


def test_no_access_log_means_none(subprocess_env, tmp_path, radiologist):
    """`config.serve --no-access-log` (the Procfile's) writes no line per request: uvicorn emptied
    its access logger, then Django's LOGGING filled it again, so every read was logged anyway."""
    from tests.support import processes

    port = processes.free_port()
    argv = [str(processes.VENV_BIN / "python"), "-m", "config.serve", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log"]
    log = tmp_path / "web.log"
    server = processes.ManagedProcess("web", argv, subprocess_env, log).start()
    try:
        url = f"http://127.0.0.1:{port}"
        processes.wait_until(lambda: requests.get(url + "/login/", timeout=2).ok, timeout=30, what="the ASGI server")
        cookie = {"sessionid": session_cookie(radiologist)}
        assert requests.get(url + "/api/worklist/", cookies=cookie, timeout=10).status_code == 200
    finally:
        server.stop()
    assert "/api/worklist/" not in log.read_text() and "/login/" not in log.read_text()
