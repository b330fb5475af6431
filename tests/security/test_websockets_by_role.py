"""Each websocket with each role: who is let in, and the close code of who is not."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import Role
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

# path -> {role: True (accepted) or the close code}
POLICY = {
    "/ws/worklist/": {None: 4401, Role.RADIOLOGIST: True, Role.MANAGER: True, Role.CLINICIAN: 4403,
                      Role.INTERFACE: 4403},
    "/ws/clinician/": {None: 4401, Role.RADIOLOGIST: True, Role.MANAGER: True, Role.CLINICIAN: True,
                       Role.INTERFACE: 4403},
}


def test_every_websocket_route_has_a_policy():
    from config.asgi import clinician_websockets, websocket_urlpatterns

    assert {"/" + str(p.pattern) for p in websocket_urlpatterns + clinician_websockets} == set(POLICY)


@pytest.mark.parametrize("path", sorted(POLICY))
async def test_each_role_on_each_websocket(path, make_user):
    for role, expected in POLICY[path].items():
        headers = [(b"origin", b"http://localhost")]
        if role is not None:
            user = await database_sync_to_async(make_user)(f"ws-{role}-{path.strip('/').replace('/', '-')}", role)
            client = Client()
            await database_sync_to_async(client.force_login)(user)
            headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect()
        assert (True if connected else code) == expected, (path, role)
        await communicator.disconnect()


async def test_a_foreign_origin_is_refused(radiologist):
    client = Client()
    await database_sync_to_async(client.force_login)(radiologist)
    headers = [(b"origin", b"http://evil.example"),
               (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/worklist/", headers=headers)
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    assert not connected
