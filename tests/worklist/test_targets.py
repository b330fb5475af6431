"""Managers edit turnaround targets; the change is audit-logged and re-orders open studies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.worklist.factories import make_study
from worklist.models import AuditEvent, Study
from worklist.tasks import reprioritise_open_studies

pytestmark = pytest.mark.django_db


def test_only_managers_change_targets(api_as, radiologist, clinician, manager):
    for user in (radiologist, clinician):
        assert api_as(user).patch("/api/urgency-classes/routine/", {"target_minutes": 30}).status_code == 403
    assert api_as(manager).patch("/api/urgency-classes/routine/", {"target_minutes": 0}).status_code == 400
    assert api_as(manager).patch("/api/urgency-classes/nonsense/", {"target_minutes": 9}).status_code == 404


def test_a_target_change_is_audited_and_reorders_open_studies(api_as, manager, django_capture_on_commit_callbacks,
                                                              monkeypatch):
    now = timezone.now()
    stat = make_study(requested_priority="STAT", arrived_at=now - timedelta(minutes=10))
    inpatient = make_study(patient_location="WARD 5 (INPATIENT)", arrived_at=now - timedelta(minutes=60))
    assert stat.due_at < inpatient.due_at
    # An inpatient target as short as STAT's (shorter would be refused: tests/triage/test_worklist_ageing.py).
    sent = []
    monkeypatch.setattr(reprioritise_open_studies, "delay", lambda: sent.append(reprioritise_open_studies()))

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(manager).patch("/api/urgency-classes/inpatient/", {"target_minutes": 60}, format="json")
    assert response.status_code == 200 and response.json()["target_minutes"] == 60
    assert sent and sent[0] >= 1
    assert Study.objects.get(pk=inpatient.pk).due_at < Study.objects.get(pk=stat.pk).due_at
    event = AuditEvent.objects.get(action="urgency_class.update")
    assert event.user == manager and "240 min" in event.detail and "→ Inpatient 60 min" in event.detail
