"""CSRF: forms and session-authenticated API calls without the token are refused."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_login_form_needs_its_csrf_token(radiologist):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login/", {"username": "rosa", "password": "pw-rosa"}).status_code == 403
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    response = client.post("/login/", {"username": "rosa", "password": "pw-rosa", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_a_page_form_needs_its_csrf_token(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.post("/clinician/links/add/", {"username": "x", "referrer": "y"}).status_code == 403


def test_a_session_api_call_needs_its_csrf_token(radiologist):
    from tests.worklist.factories import make_study

    study = make_study(accession_number="ACC-CSRF")
    client = Client(enforce_csrf_checks=True)
    client.force_login(radiologist)
    response = client.post(f"/api/studies/{study.pk}/claim/")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    study.refresh_from_db()
    assert study.claimed_by_id is None
