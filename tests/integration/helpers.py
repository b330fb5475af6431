"""Browser-like access to the live ASGI server: a logged-in session over HTTP and websocket."""

from __future__ import annotations

import contextlib
import json
import time

import requests
from django.conf import settings
from django.test import Client
from websockets.sync.client import connect


def session_cookie(user) -> str:
    # force_login writes a real session row to the (shared) test database.
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def api_get(server_url: str, cookie: str, path: str, **params):
    response = requests.get(server_url + path, params=params, cookies={settings.SESSION_COOKIE_NAME: cookie},
                            timeout=10)
    response.raise_for_status()
    return response.json()


@contextlib.contextmanager
def open_worklist_socket(server_url: str, cookie: str):
    """A logged-in websocket on /ws/worklist/, past its hello message."""
    ws_url = server_url.replace("http://", "ws://") + "/ws/worklist/"
    with connect(ws_url, origin=server_url, additional_headers={"Cookie": f"sessionid={cookie}"},
                 open_timeout=10) as socket:
        hello = json.loads(socket.recv(timeout=10))
        assert hello["type"] == "hello"
        yield socket


def collect_messages(socket, *, until, timeout: float) -> list[dict]:
    """Read messages until `until(messages)` is true; fail on time-out with what arrived."""
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            raw = socket.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        messages.append(json.loads(raw))
        if until(messages):
            return messages
    raise AssertionError(f"condition not met within {timeout}s; received {len(messages)} messages: "
                         + json.dumps([m.get('study', {}).get('status') for m in messages]))
