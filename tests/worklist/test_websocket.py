"""The worklist websocket checks the role and pushes study changes (in-process, real Redis layer)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from tests.worklist.factories import make_study
from worklist.events import study_publish

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def communicator_for(user):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        client = Client()
        await database_sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, "/ws/worklist/", headers=headers)


async def test_anonymous_and_clinicians_are_refused(clinician):
    for user, code in ((None, 4401), (clinician, 4403)):
        communicator = await communicator_for(user)
        connected, close_code = await communicator.connect()
        await communicator.disconnect()  # as the server does after a close: the consumer ends
        assert not connected and close_code == code


async def test_a_radiologist_receives_study_updates(radiologist, clean_redis):
    communicator = await communicator_for(radiologist)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    study = await database_sync_to_async(make_study)(accession_number="ACC-WS")
    await database_sync_to_async(study_publish)(study.pk)
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "study.updated"
    assert message["study"]["accession_number"] == "ACC-WS"
    await communicator.disconnect()
