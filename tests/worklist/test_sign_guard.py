"""The signing guard through the REST API: a script cannot sign what the reading page would refuse
(unreviewed AI findings, images the reader could not view, a category its impression contradicts)
without an override reason, which is kept with the version, in its history and in the audit log."""

import pytest

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import ReportVersion
from tests.support.reading import images_viewed
from tests.worklist.factories import make_study
from worklist.models import AuditEvent, Series

pytestmark = pytest.mark.django_db

FINDINGS = {"findings": [
    {"centre_mm": [-60.0, 10.0, -120.0], "diameter_mm": 11.2, "mean_diameter_mm": 10.1, "type": "solid",
     "probability": 0.94},
]}


@pytest.fixture
def screening_ct(api_as, radiologist):
    study = make_study(study_description="CT LOW DOSE LUNG SCREENING", status="analysed")
    run = AnalysisRun.objects.create(study=study, model_name="lung_nodule", model_version="1",
                                     status=AnalysisStatus.DONE, result=FINDINGS)
    client = api_as(radiologist)
    assert client.post(f"/api/studies/{study.pk}/claim/").status_code == 200
    return study, run, client


def sign(client, study, **fields):
    body = {"lungrads_category": "4A", "impression": "Lung-RADS 4A: suspicious.", "findings_text": "Nodule.",
            "recommendation": "LDCT in 3 months.", **fields}
    return client.post(f"/api/studies/{study.pk}/report/sign/", body, format="json")


def accept(client, study, run):
    assert client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-0/review/",
                       {"decision": "accepted"}).status_code == 200


def test_an_unreviewed_ai_finding_refuses_the_signature(screening_ct, radiologist):
    study, run, client = screening_ct
    images_viewed(study, radiologist)
    refused = sign(client, study)
    assert refused.status_code == 409
    body = refused.json()
    assert body["override_needed"] is True
    assert body["problems"] == ["1 AI finding is not reviewed yet: accept or reject every AI finding before signing."]
    assert body["detail"].startswith("Not signed. 1 AI finding is not reviewed yet")
    assert not ReportVersion.objects.filter(report__study=study).exists()
    accept(client, study, run)
    assert sign(client, study).status_code == 201


def test_images_the_reader_could_not_view_need_an_override_reason(screening_ct, radiologist):
    study, run, client = screening_ct
    accept(client, study, run)
    assert "The images have not been viewed yet." in sign(client, study).json()["detail"]
    series = Series.objects.create(study=study, series_instance_uid="1.2.3.9", orthanc_id="orth-s9", series_number=3,
                                   description="LDCT LUNG", modality="CT", instance_count=60)
    reported = client.post(f"/api/studies/{study.pk}/images-viewed/",
                           {"series_id": series.pk, "shown": False, "error": "unsupported transfer syntax"})
    assert reported.status_code == 204
    refused = sign(client, study)
    assert refused.status_code == 409
    assert ("The viewer could not show the images (series 3 (LDCT LUNG): unsupported transfer syntax)."
            in refused.json()["detail"])
    signed = sign(client, study, override_reason="read on the modality console")
    assert signed.status_code == 201
    version = ReportVersion.objects.get(report__study=study)
    assert version.override_reason == "read on the modality console"
    assert "unsupported transfer syntax" in version.overridden[0]
    # The history shows it, and so does the audit log.
    history = client.get(f"/api/studies/{study.pk}/report/").json()["versions"]
    assert history[0]["override_reason"] == "read on the modality console"
    assert AuditEvent.objects.filter(action="report.sign_override", study=study,
                                     detail__contains="read on the modality console").exists()


def test_a_series_shown_after_a_failure_clears_the_objection(screening_ct, radiologist):
    study, run, client = screening_ct
    accept(client, study, run)
    series = images_viewed(study, radiologist)
    url = f"/api/studies/{study.pk}/images-viewed/"
    client.post(url, {"series_id": series.pk, "shown": False, "error": "timeout"})
    assert sign(client, study).status_code == 409
    client.post(url, {"series_id": series.pk, "shown": True})
    assert sign(client, study).status_code == 201


def test_a_category_contradicted_by_the_impression_is_refused(screening_ct, radiologist):
    study, run, client = screening_ct
    accept(client, study, run)
    images_viewed(study, radiologist)
    refused = sign(client, study, lungrads_category="3", impression="Lung-RADS 1: no lung nodules.",
                   recommendation="Continue annual screening with LDCT in 12 months.")
    assert refused.status_code == 409
    assert refused.json()["problems"] == [
        "The impression says Lung-RADS 1 but the category is 3.",
        "The recommendation is the Lung-RADS 1 management, not that of category 3."]
    assert sign(client, study, lungrads_category="3", impression="Lung-RADS 3: probably benign.",
                recommendation="LDCT in 6 months.").status_code == 201


def test_a_diagnostic_chest_ct_is_not_signed_with_screening_advice(api_as, radiologist):
    study = make_study(study_description="CT CHEST WITHOUT CONTRAST", status="analysed", requested_priority="STAT")
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    images_viewed(study, radiologist)
    report = client.get(f"/api/studies/{study.pk}/report/").json()
    assert report["template"] == "fleischner" and "Lung-RADS does not apply" in report["template_reason"]
    refused = client.post(f"/api/studies/{study.pk}/report/sign/", {
        "impression": "Lung-RADS 1: no lung nodules.", "recommendation": "Continue annual screening."}, format="json")
    assert refused.status_code == 409 and "Lung-RADS applies to screening CT only" in refused.json()["detail"]
    signed = client.post(f"/api/studies/{study.pk}/report/sign/", {**report["draft"]}, format="json")
    assert signed.status_code == 201, signed.content
    assert "Lung-RADS does not apply" in signed.json()["text"]


def test_refusals_are_worded_for_the_reader(screening_ct, radiologist):
    study, _, client = screening_ct
    missing = client.post(f"/api/studies/{study.pk}/report/sign/", {"lungrads_category": "1"}, format="json")
    assert missing.status_code == 400 and missing.json()["detail"] == "Impression: This field is required."
    other = make_study()
    foreign = Series.objects.create(study=other, series_instance_uid="7.7", orthanc_id="orth-77", modality="CT")
    wrong = client.post(f"/api/studies/{study.pk}/images-viewed/", {"series_id": foreign.pk, "shown": True})
    assert wrong.status_code == 409 and wrong.json()["detail"] == "that series is not part of this study"
