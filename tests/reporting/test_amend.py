"""Amending as a correction: the written rule of who may amend, enforced on the server; amending
reopens findings review for that reader and the corrected findings drive the new version."""

import pytest
from django.core.management import call_command

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import ReportVersion
from tests.support.reading import images_viewed
from tests.worklist.factories import make_study
from worklist.models import AuditEvent, ReadingState, Study, StudyStatus

pytestmark = pytest.mark.django_db

FINDINGS = {"findings": [{"centre_mm": [-60.0, 10.0, -120.0], "diameter_mm": 11.2, "type": "solid",
                          "probability": 0.94}]}


@pytest.fixture
def signed_ct(api_as, radiologist):
    """A chest CT whose AI nodule `rosa` accepted and signed as Lung-RADS 4A."""
    study = make_study(study_description="CT CHEST LOW DOSE", status=StudyStatus.ANALYSED)
    run = AnalysisRun.objects.create(study=study, model_name="lung_nodule", model_version="1",
                                     status=AnalysisStatus.DONE, result=FINDINGS)
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-0/review/", {"decision": "accepted"})
    images_viewed(study, radiologist)  # the reader saw the images before signing (signing guard)
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    signed = client.post(f"/api/studies/{study.pk}/report/sign/", draft, format="json")
    assert signed.status_code == 201, signed.content
    return study, run


def amend(client, study, **fields):
    return client.post(f"/api/studies/{study.pk}/report/amend/",
                       {"impression": "Corrected.", "lungrads_category": "2", **fields}, format="json")


def test_after_signing_the_author_reopens_findings_review_and_the_corrected_findings_drive_the_new_version(
        api_as, radiologist, signed_ct):
    study, run = signed_ct
    client = api_as(radiologist)
    review = f"/api/studies/{study.pk}/findings/ai-{run.pk}-0/review/"
    # Without opening the amendment the reported study is not this reader's read.
    assert client.post(review, {"decision": "rejected"}).status_code == 409
    opened = client.post(f"/api/studies/{study.pk}/report/amendment/")
    assert opened.status_code == 200 and opened.json()["claimed_by"] == "rosa"
    assert opened.json()["reading_state"] == "reported"  # the signed report stands until amended
    assert client.post(review, {"decision": "rejected"}).json()["decision"] == "rejected"
    report = client.get(f"/api/studies/{study.pk}/report/").json()
    assert report["amending"] and report["draft"]["lungrads_category"] == "1"
    assert "No pulmonary nodule" in report["draft"]["findings_text"]
    amended = client.post(f"/api/studies/{study.pk}/report/amend/",
                          {**report["draft"], "reason": "nodule was a vessel"}, format="json")
    assert amended.status_code == 201
    versions = ReportVersion.objects.filter(report__study=study).order_by("number")
    assert [v.fields["lungrads_category"] for v in versions] == ["4A", "1"]
    assert "No pulmonary nodule" in versions[1].text and versions[1].amendment_reason == "nodule was a vessel"
    study.refresh_from_db()
    assert study.reading_state == ReadingState.REPORTED and study.claimed_by is None  # the claim ended
    assert AuditEvent.objects.filter(action="report.amendment_open", study=study).exists()


def test_another_radiologist_may_not_amend(api_as, other_radiologist, signed_ct):
    study, _ = signed_ct
    client = api_as(other_radiologist)
    opened = client.post(f"/api/studies/{study.pk}/report/amendment/")
    assert opened.status_code == 403 and "supervisor" in opened.json()["detail"]
    refused = amend(client, study, reason="I disagree")
    assert refused.status_code == 403 and "Rosa" in refused.json()["detail"]
    assert ReportVersion.objects.filter(report__study=study).count() == 1
    assert Study.objects.get(pk=study.pk).claimed_by is None


def test_a_supervisor_marked_by_a_manager_may_amend(api_as, other_radiologist, manager, signed_ct):
    study, _ = signed_ct
    assert api_as(other_radiologist).post("/api/radiologists/ravi/supervisor/",
                                          {"is_supervisor": True}).status_code == 403
    assert api_as(manager).post("/api/radiologists/ravi/supervisor/", {"is_supervisor": True}).json() == {
        "is_supervisor": True}
    other_radiologist.refresh_from_db()  # force_authenticate keeps the object it was given
    client = api_as(other_radiologist)
    assert client.post(f"/api/studies/{study.pk}/report/amendment/").status_code == 200
    images_viewed(study, other_radiologist)  # the supervisor looks at the images before correcting
    assert amend(client, study, reason="second opinion").status_code == 201
    assert ReportVersion.objects.get(report__study=study, number=2).author == other_radiologist


def test_the_manage_command_marks_a_supervisor(other_radiologist, manager):
    call_command("set_supervisor", "ravi")
    other_radiologist.refresh_from_db()
    assert other_radiologist.is_supervisor
    call_command("set_supervisor", "ravi", "--off")
    other_radiologist.refresh_from_db()
    assert not other_radiologist.is_supervisor


def test_managers_and_clinicians_never_amend(api_as, manager, clinician, signed_ct):
    study, _ = signed_ct
    for user in (manager, clinician):
        assert api_as(user).post(f"/api/studies/{study.pk}/report/amendment/").status_code == 403
        assert amend(api_as(user), study, reason="x").status_code == 403


def test_amending_without_a_reason_gets_a_sentence_not_a_field_map(api_as, radiologist, signed_ct):
    study, _ = signed_ct
    response = amend(api_as(radiologist), study)
    assert response.status_code == 400
    assert response.json() == {"detail": "Give a reason for the amendment: say what was corrected."}


def test_a_colleague_cannot_sign_over_an_amendment_in_progress(api_as, radiologist, other_radiologist, signed_ct):
    study, _ = signed_ct
    other_radiologist.is_supervisor = True
    other_radiologist.save()
    assert api_as(radiologist).post(f"/api/studies/{study.pk}/report/amendment/").status_code == 200
    supervisor = api_as(other_radiologist)
    assert supervisor.post(f"/api/studies/{study.pk}/report/amendment/").status_code == 409
    assert amend(supervisor, study, reason="x").status_code == 409
    # Giving the amendment up leaves the study reported and free.
    assert api_as(radiologist).post(f"/api/studies/{study.pk}/release/").status_code == 200
    study.refresh_from_db()
    assert study.reading_state == ReadingState.REPORTED and study.claimed_by is None


def test_an_unsigned_study_has_nothing_to_amend(api_as, radiologist):
    study = make_study()
    assert api_as(radiologist).post(f"/api/studies/{study.pk}/report/amendment/").status_code == 409


def test_an_amendment_passes_the_signing_guard_unless_an_override_reason_is_given(
        api_as, other_radiologist, manager, signed_ct):
    study, _ = signed_ct
    api_as(manager).post("/api/radiologists/ravi/supervisor/", {"is_supervisor": True})
    other_radiologist.refresh_from_db()
    client = api_as(other_radiologist)
    assert client.post(f"/api/studies/{study.pk}/report/amendment/").status_code == 200
    # The supervisor has not viewed the images: the guard refuses the amendment as it would a signature.
    refused = amend(client, study, reason="second opinion")
    assert refused.status_code == 409 and refused.json()["override_needed"] and refused.json()["problems"]
    assert not ReportVersion.objects.filter(report__study=study, number=2).exists()
    signed = amend(client, study, reason="second opinion", override_reason="read on the PACS workstation")
    assert signed.status_code == 201, signed.content
    version = ReportVersion.objects.get(report__study=study, number=2)
    assert version.override_reason == "read on the PACS workstation" and version.overridden
    assert AuditEvent.objects.filter(study=study, action="report.sign_override",
                                     detail__contains="read on the PACS workstation").exists()
