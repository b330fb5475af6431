"""X-Forwarded-For through a real uvicorn (config.serve, as the Procfile starts it): trusted only
from the proxies DJANGO_BEHIND_PROXY names, so the lockout and the audit log see the real client."""

from __future__ import annotations

import re

import pytest
import requests

from config.serve import ProxySettingInvalid, trusted_proxies
from tests.support import processes
from worklist.models import AuditEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def start_web(env: dict, logs, **extra) -> tuple[processes.ManagedProcess, str]:
    port = processes.free_port()
    server = processes.asgi_process({**env, **extra}, logs, port).start()
    url = f"http://127.0.0.1:{port}"
    processes.wait_until(lambda: requests.get(url + "/login/", timeout=2).ok, timeout=30, what="uvicorn")
    return server, url


def login(session: requests.Session, url: str, username: str, password: str, forwarded: str) -> requests.Response:
    form = session.get(url + "/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return session.post(url + "/login/", data={"username": username, "password": password,
                                               "csrfmiddlewaretoken": token},
                        headers={"X-Forwarded-For": forwarded, "Referer": url + "/login/"},
                        allow_redirects=False, timeout=10)


def test_a_new_forwarded_address_per_guess_does_not_escape_the_lockout(subprocess_env, service_logs, radiologist):
    env = {k: v for k, v in subprocess_env.items() if k not in ("DJANGO_BEHIND_PROXY", "FORWARDED_ALLOW_IPS")}
    server, url = start_web(env, service_logs)
    try:
        session = requests.Session()
        for attempt in range(6):
            login(session, url, "rosa", "guess", f"203.0.113.{attempt}")
        right = login(session, url, "rosa", "pw-rosa", "203.0.113.99")
        assert right.status_code == 429
        # Every refused attempt was recorded against the real peer, never a claimed address.
        from axes.models import AccessAttempt

        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
        other = requests.Session()
        assert login(other, url, "max-unknown", "x", "198.51.100.7").status_code == 200
        cookie = {"sessionid": _session_of(radiologist)}
        requests.get(url + "/", cookies=cookie, headers={"X-Forwarded-For": "198.51.100.8"}, timeout=10)
        assert AuditEvent.objects.filter(action="page.worklist").values_list("remote_addr", flat=True).get() \
            == "127.0.0.1"
    finally:
        server.stop()


def test_the_named_proxy_is_believed(subprocess_env, service_logs, radiologist):
    server, url = start_web(subprocess_env, service_logs, DJANGO_BEHIND_PROXY="127.0.0.1")
    try:
        cookie = {"sessionid": _session_of(radiologist)}
        answer = requests.get(url + "/", cookies=cookie, headers={"X-Forwarded-For": "198.51.100.8"}, timeout=10)
        assert answer.status_code == 200
        assert AuditEvent.objects.filter(action="page.worklist").values_list("remote_addr", flat=True).get() \
            == "198.51.100.8"
    finally:
        server.stop()


def _session_of(user) -> str:
    from tests.integration.helpers import session_cookie

    return session_cookie(user)


def test_the_setting_names_addresses_not_a_switch():
    assert trusted_proxies("") == [] and trusted_proxies("10.0.0.5, 10.1.0.0/16") == ["10.0.0.5", "10.1.0.0/16"]
    with pytest.raises(ProxySettingInvalid):
        trusted_proxies("1")
