"""The worklist REST API: roles, order, filters, audit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.worklist.factories import make_study
from worklist.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_anonymous_users_get_nothing(client):
    make_study()
    assert client.get("/api/worklist/").status_code in (401, 403)
    assert client.get("/").status_code == 302  # to the login page


def test_clinicians_are_refused_the_department_worklist(api_as, clinician):
    study = make_study()
    assert api_as(clinician).get("/api/worklist/").status_code == 403
    assert api_as(clinician).get(f"/api/studies/{study.pk}/").status_code == 403
    assert api_as(clinician).post(f"/api/studies/{study.pk}/claim/").status_code == 403


def test_the_worklist_is_in_priority_order_with_a_reason(api_as, radiologist):
    now = timezone.now()
    routine = make_study(requested_priority="ROUTINE", arrived_at=now - timedelta(hours=1))
    stat = make_study(requested_priority="STAT", patient_location="EMERGENCY DEPT", arrived_at=now)
    rows = api_as(radiologist).get("/api/worklist/").json()["results"]
    assert [r["id"] for r in rows] == [stat.pk, routine.pk]
    assert all(r["priority_reason"] for r in rows)
    assert rows[0]["urgency_code"] == "stat"


def test_filters_narrow_the_worklist(api_as, radiologist):
    ct = make_study(modality="CT")
    make_study(modality="MR")
    client = api_as(radiologist)
    assert [r["id"] for r in client.get("/api/worklist/?modality=ct").json()["results"]] == [ct.pk]
    assert client.get("/api/worklist/?status=no_ai").json()["results"] == []
    assert client.get("/api/worklist/?status=bogus").status_code == 400


def test_a_suspicious_screening_mammogram_leaves_the_screening_queue_for_diagnostic_workup(api_as, radiologist):
    from inference.models import AnalysisRun, AnalysisStatus
    from worklist.services import study_prioritise

    screening = dict(modality="MG", body_part="BREAST", study_description="MAMMOGRAPHY SCREENING BILATERAL",
                     patient_location="SCREENING CENTRE")
    normal, suspicious = make_study(**screening), make_study(**screening)
    other = make_study(modality="CT")
    AnalysisRun.objects.create(study=suspicious, model_name="mammography", model_version="1",
                               status=AnalysisStatus.DONE, suspicion=0.9, category="birads:0",
                               headline="R breast: spiculated mass 14 mm", result={"threshold": 0.5})
    study_prioritise(suspicious)
    suspicious.save()
    client = api_as(radiologist)
    queue = lambda name: [r["id"] for r in client.get(f"/api/worklist/?queue={name}").json()["results"]]  # noqa: E731
    assert queue("screening") == [normal.pk]
    assert queue("diagnostic_workup") == [suspicious.pk]
    assert queue("general") == [other.pk]
    row = client.get(f"/api/studies/{suspicious.pk}/").json()
    assert row["reading_queue"] == "diagnostic_workup" and row["urgency_code"] == "urgent"
    assert client.get("/api/worklist/?queue=nonsense").status_code == 400


def test_reading_the_worklist_and_a_study_is_audit_logged(api_as, radiologist):
    study = make_study()
    client = api_as(radiologist)
    client.get("/api/worklist/")
    client.get(f"/api/studies/{study.pk}/")
    actions = list(AuditEvent.objects.filter(user=radiologist).values_list("action", "study_id"))
    assert ("worklist.view", None) in actions
    assert ("study.view", study.pk) in actions


def test_study_detail_lists_series_and_analyses(api_as, manager):
    study = make_study()
    body = api_as(manager).get(f"/api/studies/{study.pk}/").json()
    assert body["id"] == study.pk and body["series"] == [] and body["analyses"] == []
    assert api_as(manager).get("/api/studies/999999/").status_code == 404


def test_the_openapi_schema_describes_the_worklist(api_as, radiologist):
    response = api_as(radiologist).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/worklist/" in text and "/api/studies/{study_id}/claim/" in text


def test_scripts_authenticate_with_a_token(client, radiologist):
    response = client.post("/api/auth/token/", {"username": "rosa", "password": "pw-rosa"})
    assert response.status_code == 200
    token = response.json()["token"]
    listed = client.get("/api/worklist/", HTTP_AUTHORIZATION=f"Token {token}")
    assert listed.status_code == 200
    assert client.get("/api/worklist/", HTTP_AUTHORIZATION="Token not-a-token").status_code in (401, 403)
