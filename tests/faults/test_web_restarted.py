"""The web server restarted while websocket clients are connected.

The clients do what frontend/static/frontend/worklist.js does: when the socket closes they
reconnect (with backoff) and re-read /api/worklist/ over REST, then apply pushed messages.
Studies that arrive while the web server is down must be in that re-read, and studies after
it must be pushed to every client.
"""

import json
import time

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.faults.helpers import (
    assert_each_study_once_analysed_once,
    fault_env,
    make_studies,
    send,
    start_worker,
    uids_of,
    wait_all_analysed,
)
from tests.integration.helpers import api_get, collect_messages, session_cookie
from tests.support import processes
from tests.support.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
CLIENTS = 5


class Client:
    """A worklist page: a socket, and the rows it shows (by StudyInstanceUID)."""

    def __init__(self, url: str, cookie: str):
        self.url, self.cookie = url, cookie
        self.rows: dict[str, dict] = {}
        self.socket = None
        self.reconnects = 0

    def open(self) -> None:
        ws_url = self.url.replace("http://", "ws://") + "/ws/worklist/"
        self.socket = connect(ws_url, origin=self.url, additional_headers={"Cookie": f"sessionid={self.cookie}"},
                              open_timeout=5)
        assert json.loads(self.socket.recv(timeout=10))["type"] == "hello"
        # On every (re)connect the page re-reads the whole list.
        rows = api_get(self.url, self.cookie, "/api/worklist/", limit=1000)["results"]
        uids = [r["study_instance_uid"] for r in rows]
        assert len(uids) == len(set(uids)), "the worklist lists a study twice"
        self.rows = {r["study_instance_uid"]: r for r in rows}

    def is_closed(self) -> bool:
        try:
            self.socket.recv(timeout=0.1)
        except TimeoutError:
            return False
        except ConnectionClosed:
            return True
        return False

    def reconnect(self) -> None:
        wait_until(self._try_open, timeout=30, interval=0.5, what="the socket to reconnect")
        self.reconnects += 1

    def _try_open(self) -> bool:
        self.open()
        return True

    def apply_until(self, done, timeout: float) -> None:
        for message in collect_messages(self.socket, until=lambda ms: done(self._apply(ms)), timeout=timeout):
            self._apply([message])

    def _apply(self, messages) -> dict:
        for m in messages:
            if m["type"] == "study.updated":
                self.rows[m["study"]["study_instance_uid"]] = m["study"]
        return self.rows


def analysed(rows: dict, uids: set) -> bool:
    return all(rows.get(uid, {}).get("status") == "analysed" for uid in uids)


def test_websocket_clients_reconnect_after_a_web_restart_and_miss_nothing(
    orthanc, subprocess_env, service_logs, tmp_path, radiologist
):
    env = fault_env(subprocess_env, tmp_path)
    worker = start_worker(env, service_logs)
    port = processes.free_port()
    web = processes.asgi_process(env, service_logs, port).start()
    url = f"http://127.0.0.1:{port}"
    before, during, after = make_studies("WEB-1", 1), make_studies("WEB-2", 3), make_studies("WEB-3", 1)
    try:
        wait_until(lambda: requests.get(url + "/login/", timeout=2).ok, timeout=30, what="the web server")
        cookie = session_cookie(radiologist)
        clients = [Client(url, cookie) for _ in range(CLIENTS)]
        for client in clients:
            client.open()
        send(before[0])
        for client in clients:
            client.apply_until(lambda rows: analysed(rows, uids_of(before)), timeout=60)

        web.stop()
        assert all(client.is_closed() for client in clients)
        for study in during:
            send(study)
        wait_all_analysed(uids_of(during), timeout=60, what="the studies sent while the web was down")
        time.sleep(1)
        web.start()
        for client in clients:
            client.reconnect()
            # Caught up by the REST re-read alone.
            assert analysed(client.rows, uids_of(before + during))

        send(after[0])
        for client in clients:
            client.apply_until(lambda rows: analysed(rows, uids_of(after)), timeout=60)
        everything = uids_of(before + during + after)
        for client in clients:
            assert set(client.rows) == everything and analysed(client.rows, everything)
            assert client.reconnects == 1
    finally:
        web.stop()
        worker.stop()
    assert_each_study_once_analysed_once(uids_of(before + during + after), tmp_path)
