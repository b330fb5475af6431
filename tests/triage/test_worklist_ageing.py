"""Ageing on the worklist in PostgreSQL: the stored order, the periodic pass, the targets editor."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inference.models import AnalysisRun, AnalysisStatus
from tests.worklist.factories import make_study
from triage.models import AgeingPolicy, UrgencyClass
from triage.priority import prioritise, study_sort_key
from triage.selectors import order_policy, urgency_targets
from worklist.models import AuditEvent, Study, StudyStatus
from worklist.selectors import worklist_order
from worklist.services import escalations_check, study_facts, study_prioritise
from worklist.tasks import reprioritise_open_studies

pytestmark = pytest.mark.django_db


def flag(study: Study, *, suspicion=0.93, category="lungrads:4B", model="lung_nodule") -> Study:
    AnalysisRun.objects.create(study=study, model_name=model, model_version="1", status=AnalysisStatus.DONE,
                               suspicion=suspicion, category=category, headline="1 nodule, largest 18 mm solid")
    study.status = StudyStatus.ANALYSED
    study_prioritise(study)
    study.save()
    return study


def open_order() -> list[int]:
    return list(worklist_order(Study.objects.all()).values_list("pk", flat=True))


def test_the_database_order_is_the_python_sort_key(radiologist):
    now = timezone.now()
    studies = [
        make_study(arrived_at=now - timedelta(hours=7)),  # routine, past a 4 h ceiling
        make_study(arrived_at=now - timedelta(minutes=30), requested_priority="STAT"),
        make_study(arrived_at=now - timedelta(minutes=20), patient_location="WARD 5 (INPATIENT)"),
        make_study(arrived_at=now - timedelta(hours=2)),
        make_study(arrived_at=now - timedelta(minutes=10)),
    ]
    flag(studies[4])
    flag(studies[3], suspicion=0.3, category="lungrads:2")
    rows = Study.objects.all()
    # The stored position is what triage computes for the study now.
    targets, policy = urgency_targets(), order_policy()
    for s in rows:
        p = prioritise(study_facts(s), targets, now=now, policy=policy)
        assert (s.order_tier, s.order_at) == (p.order_tier, p.order_at)
    assert rows.get(pk=studies[0].pk).order_at == studies[0].arrived_at + timedelta(hours=48)  # the routine ceiling
    by_key = sorted(rows, key=lambda s: study_sort_key(order_tier=s.order_tier, order_at=s.order_at,
                                                       ai_suspicion=s.ai_suspicion, arrived_at=s.arrived_at, id=s.pk))
    assert open_order() == [s.pk for s in by_key]


def test_the_periodic_pass_moves_an_aged_study_above_a_newer_flagged_one_and_says_why(radiologist):
    AgeingPolicy.objects.all().delete()  # the migration seeded the default row
    AgeingPolicy.objects.create(mode="promote", score_weight=0.0, unscored_closeness=0.0)
    UrgencyClass.objects.filter(code="routine").update(ceiling_minutes=6 * 60)
    now = timezone.now()
    old = make_study(arrived_at=now - timedelta(hours=5, minutes=50), modality="MR", body_part="KNEE")
    new = flag(make_study(arrived_at=now - timedelta(minutes=5)))
    assert new.urgency_code == "ai_critical"
    assert open_order() == [new.pk, old.pk]

    escalations_check(now=now + timedelta(minutes=20))  # the beat task's pass, 20 minutes on: no new event

    assert open_order() == [old.pk, new.pk]
    old.refresh_from_db()
    assert old.urgency_code == "routine" and old.due_at == old.arrived_at + timedelta(days=4)  # still judged as routine
    assert "waited 6 h 10 min, past its 6 h age ceiling: moved up" in old.priority_reason


def test_an_urgent_target_shorter_than_stat_is_refused_in_words(api_as, manager):
    response = api_as(manager).patch("/api/urgency-classes/urgent/", {"target_minutes": 30}, format="json")
    assert response.status_code == 400
    assert "Urgent (30 min) would be shorter than STAT (1 h)" in response.json()["detail"]
    assert UrgencyClass.objects.get(code="urgent").target_minutes == 24 * 60
    response = api_as(manager).patch("/api/urgency-classes/routine/", {"ceiling_minutes": 5 * 24 * 60}, format="json")
    assert response.status_code == 400 and "longer than its target" in response.json()["detail"]


def test_a_manager_sets_a_ceiling_and_the_policy_and_both_are_audited(api_as, manager, radiologist,
                                                                      django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(reprioritise_open_studies, "delay", lambda: reprioritise_open_studies())
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(manager).patch("/api/urgency-classes/routine/", {"ceiling_minutes": 60}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ceiling_minutes"] == 60
    assert any("Routine studies are moved up after 1 h, sooner than Urgent" in w for w in body["warnings"])

    assert api_as(radiologist).patch("/api/ageing-policy/", {"mode": "off"}, format="json").status_code == 403
    assert api_as(radiologist).get("/api/ageing-policy/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(manager).patch("/api/ageing-policy/", {"mode": "promote", "score_weight": 0.25},
                                         format="json")
    assert response.status_code == 200 and response.json()["mode"] == "promote"
    assert api_as(manager).patch("/api/ageing-policy/", {"score_weight": 2}, format="json").status_code == 400
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"urgency_class.update",
                                                                         "ageing_policy.update"}
    changes = api_as(manager).get("/api/stats/target-changes/").json()
    assert any("ceiling 60" in c["detail"] for c in changes) and any("promote" in c["detail"] for c in changes)


def test_the_admin_form_refuses_inconsistent_targets_too():
    from triage.admin import AgeingPolicyForm, UrgencyClassForm

    urgent = UrgencyClass.objects.get(code="urgent")
    form = UrgencyClassForm(instance=urgent, data={"code": "urgent", "name": "Urgent", "rank": 40,
                                                   "target_minutes": 30, "ceiling_minutes": "", "description": ""})
    assert not form.is_valid()
    assert "would be shorter than STAT" in str(form.errors)
    assert not AgeingPolicyForm(data={"mode": "ceiling", "score_weight": 3, "unscored_closeness": 0}).is_valid()
