"""Websockets: the Origin must be this site (scheme, host and port), and a socket ends with the
session that opened it — on logout, deactivation or a role change (issue 17)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import Role
from config.asgi import application
from config.websocket import same_origin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def socket_for(user, path="/ws/worklist/", *, origin=b"http://localhost:8000", host=b"localhost:8000",
                     client: Client | None = None):
    client = client or Client()
    await database_sync_to_async(client.force_login)(user)
    headers = [(b"origin", origin), (b"host", host),
               (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    return WebsocketCommunicator(application, path, headers=headers), client


@pytest.mark.parametrize(("origin", "allowed"), [
    (b"http://localhost:8000", True),
    (b"https://localhost:8000", False),  # another scheme
    (b"http://localhost:9999", False),  # another port on the same host
    (b"http://localhost", False),  # default port 80 is another port
    (b"http://evil.example:8000", False),
])
async def test_the_origin_must_match_scheme_host_and_port(radiologist, origin, allowed):
    communicator, _ = await socket_for(radiologist, origin=origin)
    connected, _ = await communicator.connect()
    assert connected is allowed
    await communicator.disconnect()


def test_same_origin_compares_default_ports_and_secure_sockets():
    assert same_origin("https://triage.example", "triage.example", "wss")
    assert same_origin("https://triage.example:443", "triage.example", "wss")
    assert not same_origin("http://triage.example", "triage.example", "wss")
    assert not same_origin("https://triage.example", "triage.example", "ws")
    assert same_origin("http://[::1]:8000", "[::1]:8000", "ws")


async def connected_socket(user, path="/ws/worklist/"):
    communicator, client = await socket_for(user, path)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator, client


async def assert_closed(communicator):
    output = await communicator.receive_output(timeout=5)
    await communicator.disconnect()
    assert output == {"type": "websocket.close", "code": 4401}


@pytest.mark.parametrize("path", ["/ws/worklist/", "/ws/clinician/"])
async def test_logout_closes_the_open_socket(radiologist, clean_redis, path):
    communicator, client = await connected_socket(radiologist, path)
    await database_sync_to_async(client.logout)()
    await assert_closed(communicator)


async def test_deactivation_closes_the_open_socket(radiologist, clean_redis):
    communicator, _ = await connected_socket(radiologist)
    radiologist.is_active = False
    await database_sync_to_async(radiologist.save)()
    await assert_closed(communicator)


async def test_a_role_change_closes_the_open_socket(radiologist, clean_redis):
    communicator, _ = await connected_socket(radiologist)
    radiologist.role = Role.CLINICIAN
    await database_sync_to_async(radiologist.save)()
    await assert_closed(communicator)


async def test_an_unrelated_save_leaves_the_socket_open(radiologist, clean_redis):
    communicator, _ = await connected_socket(radiologist)
    radiologist.first_name = "Rosalind"
    await database_sync_to_async(radiologist.save)()
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
