"""API tokens (accounts.tokens): only a digest is stored, they expire, a password change revokes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def issued(username: str, password: str) -> str:
    response = APIClient().post("/api/auth/token/", {"username": username, "password": password})
    assert response.status_code == 200 and response.json()["expires_at"]
    return response.json()["token"]


def me(key: str) -> int:
    status = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/").status_code
    return 401 if status in (401, 403) else status  # DRF answers 403 when session auth is listed first


def test_a_token_works_and_only_its_digest_is_stored(radiologist):
    key = issued("rosa", "pw-rosa")
    assert me(key) == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest FROM accounts_apitoken")
        rows = cursor.fetchall()
    assert len(rows) == 1 and key not in rows[0][0] and len(rows[0][0]) == 64
    assert me("x" + key[1:]) == 401


def test_an_expired_token_is_refused(radiologist):
    key = issued("rosa", "pw-rosa")
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert me(key) == 401


def test_a_password_change_revokes_every_token(radiologist):
    keys = [issued("rosa", "pw-rosa"), issued("rosa", "pw-rosa")]
    radiologist.set_password("a-new-password-2026")
    radiologist.save()
    assert [me(key) for key in keys] == [401, 401]
    assert me(issued("rosa", "a-new-password-2026")) == 200


def test_other_saves_keep_the_token(radiologist):
    key = issued("rosa", "pw-rosa")
    radiologist.first_name = "Rosalind"
    radiologist.save()
    assert me(key) == 200


def test_fhir_accepts_the_token(clinician):
    key = issued("clara", "pw-clara")
    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/fhir/ImagingStudy").status_code == 200
