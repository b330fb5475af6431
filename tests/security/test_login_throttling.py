"""Login throttling (django-axes): wrong passwords lock out a username from an address."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
LIMIT = 5


def login(client: Client, username: str, password: str, **headers):
    return client.post("/login/", {"username": username, "password": password}, **headers)


def test_the_right_password_is_refused_after_five_wrong_ones(radiologist):
    client = Client()
    for _ in range(LIMIT - 1):
        assert login(client, "rosa", "guess").status_code == 200  # the form again, with its error
    assert login(client, "rosa", "guess").status_code == 429  # the fifth locks the pair out
    locked = login(client, "rosa", "pw-rosa")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_new_x_forwarded_for_on_each_attempt_does_not_escape_the_lockout(radiologist):
    client = Client()
    for attempt in range(LIMIT):
        login(client, "rosa", "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")
    assert login(client, "rosa", "pw-rosa", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_the_api_token_endpoint_is_throttled_too(radiologist):
    client = APIClient()
    for _ in range(LIMIT):
        assert client.post("/api/auth/token/", {"username": "rosa", "password": "guess"}).status_code == 400
    # Locked out: authenticate() turns axes' refusal into "no user", so the right password gets
    # the same 400 as a wrong one, and no token.
    response = client.post("/api/auth/token/", {"username": "rosa", "password": "pw-rosa"})
    assert response.status_code == 400 and "token" not in response.json()


def test_a_success_before_the_limit_resets_the_count(radiologist):
    client = Client()
    for _ in range(LIMIT - 1):
        login(client, "rosa", "guess")
    assert login(client, "rosa", "pw-rosa").status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        login(client, "rosa", "guess")
    assert login(client, "rosa", "pw-rosa").status_code == 302


def test_another_user_is_not_locked_out_by_someone_elses_failures(radiologist, manager):
    client = Client()
    for _ in range(LIMIT):
        login(client, "rosa", "guess")
    assert login(client, "max", "pw-max").status_code == 302


def test_spraying_one_password_across_usernames_from_one_address_is_limited(radiologist, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    sprayer = Client(REMOTE_ADDR="198.51.100.20")
    for index in range(6):  # one wrong password per username: no (username, address) pair is locked
        assert login(sprayer, f"user{index}", "Winter2026!").status_code == 200
    refused = login(sprayer, "rosa", "pw-rosa")
    assert refused.status_code == 429 and "_auth_user_id" not in sprayer.session
    assert APIClient(REMOTE_ADDR="198.51.100.20").post(
        "/api/auth/token/", {"username": "rosa", "password": "pw-rosa"}).status_code == 429
    # Another address is not affected.
    assert login(Client(REMOTE_ADDR="198.51.100.21"), "rosa", "pw-rosa").status_code == 302
