"""Critical results: acknowledged by the referring clinician (time kept, department told), escalated once."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from clinician.events import DEPARTMENT_GROUP, WORKLIST_GROUP
from clinician.models import CriticalEscalation
from clinician.services import critical_result_acknowledge, critical_results_escalate
from reporting.models import CriticalResult
from worklist.consumers import WorklistConsumer
from worklist.models import AuditEvent


async def _forward_critical_acknowledged(self, event):
    # The handler the lead adds to worklist/consumers.py (see the report); exercised here as written.
    await self.send_json({"type": "critical.acknowledged", "critical": event["critical"]})


def listen(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def received(channel: str, timeout: float = 3) -> dict:
    import asyncio

    layer = get_channel_layer()

    async def one():
        return await asyncio.wait_for(layer.receive(channel), timeout)

    return async_to_sync(one)()


@pytest.mark.django_db
def test_the_clinician_sees_an_open_critical_result_first(api_as, clinician_a, signed_a):
    data = api_as(clinician_a).get(f"/api/clinician/studies/{signed_a.pk}/").json()
    assert data["critical_results"][0]["note"] == "Large left pneumothorax: call the ward"
    assert data["critical_results"][0]["acknowledged_at"] is None
    listed = api_as(clinician_a).get("/api/clinician/critical-results/").json()
    assert listed[0]["study_id"] == signed_a.pk


@pytest.mark.django_db
def test_acknowledging_keeps_the_first_time_and_is_audited(api_as, clinician_a, signed_a,
                                                           django_capture_on_commit_callbacks):
    critical = CriticalResult.objects.get(study=signed_a)
    with django_capture_on_commit_callbacks():
        first = api_as(clinician_a).post(f"/api/clinician/critical-results/{critical.pk}/acknowledge/").json()
    assert first["acknowledged_by"] == "Samir Haddad" and first["minutes_to_acknowledge"] is not None
    again = api_as(clinician_a).post(f"/api/clinician/critical-results/{critical.pk}/acknowledge/").json()
    assert again["acknowledged_at"] == first["acknowledged_at"]
    assert AuditEvent.objects.filter(action="critical.acknowledge", study=signed_a).count() == 1


@pytest.mark.django_db
def test_the_department_sees_the_acknowledgement(api_as, clinician_a, radiologist, manager, signed_a):
    critical = CriticalResult.objects.get(study=signed_a)
    critical_result_acknowledge(critical_id=critical.pk, user=clinician_a)
    for user in (radiologist, manager):
        rows = api_as(user).get("/api/clinician/critical-results/").json()
        assert rows[0]["acknowledged_by"] == "Samir Haddad" and rows[0]["acknowledged_at"]


@pytest.mark.django_db(transaction=True)
def test_acknowledgement_is_pushed_to_the_department_and_worklist_groups(clinician_a, radiologist, clean_redis,
                                                                         monkeypatch):
    from tests.clinician.conftest import make_patient_study, sign

    monkeypatch.setattr(WorklistConsumer, "critical_acknowledged", _forward_critical_acknowledged, raising=False)
    study = make_patient_study(patient_id="PA-2", accession_number="ACC-A2", referring_physician="Haddad^Samir")
    sign(study, radiologist, critical=True, note="Free air")
    department, worklist = listen(DEPARTMENT_GROUP), listen(WORKLIST_GROUP)
    critical = CriticalResult.objects.get(study=study)
    critical_result_acknowledge(critical_id=critical.pk, user=clinician_a)
    for channel in (department, worklist):
        message = received(channel)
        while message["type"] != "critical.acknowledged":
            message = received(channel)
        assert message["critical"]["id"] == critical.pk
        assert message["critical"]["acknowledged_by"] == "Samir Haddad"
        assert message["critical"]["accession_number"] == "ACC-A2"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_worklist_socket_forwards_the_acknowledgement_with_the_proposed_handler(radiologist, clean_redis,
                                                                                        monkeypatch):
    from channels.db import database_sync_to_async

    from tests.worklist.test_websocket import communicator_for

    monkeypatch.setattr(WorklistConsumer, "critical_acknowledged", _forward_critical_acknowledged, raising=False)
    communicator = await communicator_for(radiologist)
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "hello"
    await get_channel_layer().group_send(WORKLIST_GROUP, {"type": "critical.acknowledged",
                                                          "critical": {"id": 7, "acknowledged_by": "Samir Haddad"}})
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"type": "critical.acknowledged", "critical": {"id": 7, "acknowledged_by": "Samir Haddad"}}
    await communicator.disconnect()
    await database_sync_to_async(lambda: None)()


@pytest.mark.django_db
def test_without_the_worklist_handler_nothing_is_sent_to_radiologists_sockets(clinician_a, signed_a, monkeypatch):
    from clinician import events

    monkeypatch.delattr(WorklistConsumer, "critical_acknowledged", raising=False)
    sent = []
    monkeypatch.setattr(events, "_send", lambda group, message: sent.append(group))
    events.critical_publish(CriticalResult.objects.get(study=signed_a).pk, "acknowledged")
    assert WORKLIST_GROUP not in sent and DEPARTMENT_GROUP in sent


@pytest.mark.django_db
def test_unacknowledged_results_escalate_once_after_the_configured_time(signed_a, settings):
    settings.CLINICIAN_CRITICAL_ESCALATION_MINUTES = 30
    critical = CriticalResult.objects.get(study=signed_a)
    assert critical_results_escalate(now=critical.flagged_at + timedelta(minutes=29)) == 0
    assert critical_results_escalate(now=critical.flagged_at + timedelta(minutes=31)) == 1
    assert critical_results_escalate(now=critical.flagged_at + timedelta(minutes=90)) == 0
    escalation = CriticalEscalation.objects.get(critical_result=critical)
    assert escalation.minutes_unacknowledged == 31
    assert AuditEvent.objects.filter(action="critical.escalate", study=signed_a).count() == 1


@pytest.mark.django_db
def test_acknowledged_results_do_not_escalate(clinician_a, signed_a):
    critical = CriticalResult.objects.get(study=signed_a)
    critical_result_acknowledge(critical_id=critical.pk, user=clinician_a)
    assert critical_results_escalate(now=timezone.now() + timedelta(days=1)) == 0


@pytest.mark.django_db
def test_the_escalation_task_runs_the_service(signed_a, settings):
    from clinician.tasks import escalate_unacknowledged_critical_results

    settings.CLINICIAN_CRITICAL_ESCALATION_MINUTES = 0
    assert escalate_unacknowledged_critical_results() == 1
