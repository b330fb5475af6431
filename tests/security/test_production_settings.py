"""Production settings: `check --deploy` is clean, cookies are secure, HSTS is on, secrets come from the environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "prod-like-" + "k3y" * 20,
    "DJANGO_ALLOWED_HOSTS": "triage.example.org",
    "ORTHANC_PASSWORD": "from-the-environment",
    "DATABASE_URL": "postgres://triage@db.example.org:5432/triage",
    "REDIS_URL": "redis://redis.example.org:6379/0",
}
# Variables the test runs set to relax production defaults; production leaves them unset.
# DJANGO_ALLOW_ASYNC_UNSAFE comes from the browser tests' conftest (Playwright's loop), never production.
RELAXERS = ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES", "DJANGO_HSTS_SECONDS", "DJANGO_HSTS_PRELOAD",
            "DJANGO_ALLOW_ASYNC_UNSAFE")


def manage(*args: str, env_changes: dict | None = None, drop: tuple = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in RELAXERS + drop}
    env.update(PRODUCTION)
    env.update(env_changes or {})
    for name in drop:
        env.pop(name, None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0 and "no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_fails_on_a_relaxed_production_setting():
    # The check above can fail: switching HSTS off is reported.
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_changes={"DJANGO_HSTS_SECONDS": "0"})
    assert result.returncode != 0 and "security.W004" in result.stdout + result.stderr


def test_production_cookies_are_secure_and_hsts_is_on():
    code = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SESSION_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, "
            "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.DEBUG)")
    result = manage("shell", "-v", "0", "-c", code)
    assert result.stdout.strip().splitlines()[-1].split() == ["True"] * 6 + ["False"], result.stderr


def test_production_refuses_to_start_without_its_secrets():
    for secret in ("DJANGO_SECRET_KEY", "ORTHANC_PASSWORD"):
        result = manage("check", drop=(secret,))
        assert result.returncode != 0
        assert f"environment variable {secret} is required" in result.stderr


def test_no_secret_is_written_in_the_settings():
    # The only literal secrets are the demo's, and they exist only when DEBUG is on.
    text = (ROOT / "config" / "settings.py").read_text()
    for line in text.splitlines():
        if "password" in line.lower() or "secret" in line.lower():
            literal = '"' in line and "env_str(" in line and ", \"" in line
            if literal:
                assert "if DEBUG" in line, line
