"""Websocket origin check: the page that opens a socket must be this site — same scheme, host and port.

Channels' AllowedHostsOriginValidator compares only the Origin's host with ALLOWED_HOSTS, so a
page on http://localhost:9999 (another local service) or plain http could open a socket to the
https site. This check runs after it and compares the Origin with the Host the browser connected
to and the socket's own scheme (ws -> http, wss -> https; behind a proxy, config.serve sets the
scheme from the trusted proxy's X-Forwarded-Proto).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier

DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_and_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS[scheme]
    except (ValueError, KeyError):
        return None


def same_origin(origin: str, host: str, socket_scheme: str) -> bool:
    expected_scheme = "https" if socket_scheme == "wss" else "http"
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    if parsed.scheme != expected_scheme:
        return False
    theirs = _host_and_port(parsed.netloc, parsed.scheme)
    ours = _host_and_port(host, expected_scheme)
    return theirs is not None and theirs == ours


class SameOriginValidator:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        origin, host = headers.get(b"origin"), headers.get(b"host")
        # Every HTTP/1.1 upgrade carries Host (uvicorn refuses one without); only in-process test
        # communicators have none, and they are left to the ALLOWED_HOSTS check.
        if host is not None and (origin is None or not same_origin(origin.decode("latin-1"),
                                                                   host.decode("latin-1"),
                                                                   scope.get("scheme", "ws"))):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
