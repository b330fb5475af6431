"""Escalation: near/overdue marks move with the clock; unopened AI-critical studies raise one alert."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inference.models import AnalysisRun, AnalysisStatus
from tests.worklist.factories import make_study
from worklist.models import Alert, Study
from worklist.services import escalations_check, study_claim, study_prioritise

pytestmark = pytest.mark.django_db


def ai_critical_study(arrived_minutes_ago: int) -> Study:
    study = make_study(arrived_at=timezone.now() - timedelta(minutes=arrived_minutes_ago), ai_headline="17 mm nodule")
    AnalysisRun.objects.create(study=study, model_name="lung_nodule", model_version="1", status=AnalysisStatus.DONE,
                               category="lungrads:4B", suspicion=0.95, headline="17 mm nodule")
    study_prioritise(study)
    study.save()
    assert study.urgency_code == "ai_critical"
    return study


def test_studies_past_due_are_marked_overdue_and_near_ones_near():
    late = make_study(requested_priority="STAT", arrived_at=timezone.now() - timedelta(minutes=90))
    near = make_study(requested_priority="STAT", arrived_at=timezone.now() - timedelta(minutes=50))
    calm = make_study(requested_priority="STAT", arrived_at=timezone.now())
    escalations_check()
    assert [Study.objects.get(pk=s.pk).escalation for s in (late, near, calm)] == ["overdue", "near", "none"]


def test_an_unopened_ai_critical_study_past_target_raises_one_alert(api_as, radiologist):
    late = ai_critical_study(arrived_minutes_ago=75)
    ai_critical_study(arrived_minutes_ago=10)  # still within its hour
    assert escalations_check()["alerts"] == 1
    assert escalations_check()["alerts"] == 0  # once only
    alert = Alert.objects.get()
    assert alert.study == late and "17 mm nodule" in alert.message
    listed = api_as(radiologist).get("/api/alerts/").json()
    assert [a["id"] for a in listed] == [alert.pk]
    api_as(radiologist).post(f"/api/alerts/{alert.pk}/acknowledge/")
    assert api_as(radiologist).get("/api/alerts/").json() == []


def test_an_opened_ai_critical_study_raises_no_alert(radiologist):
    late = ai_critical_study(arrived_minutes_ago=75)
    study_claim(study_id=late.pk, user=radiologist)
    assert escalations_check()["alerts"] == 0
