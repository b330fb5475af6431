"""A study analysed before its images were all in (issue 19's early start): the draft states no
negative result, and signing it is a guard objection that needs an override reason, kept with the
version and in the audit log, like the others. The reading page's banner is the same sentence."""

import pytest

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import ReportVersion
from reporting.reading import report_prefill
from tests.support.reading import images_viewed
from tests.worklist.factories import make_study
from worklist.models import AuditEvent

pytestmark = pytest.mark.django_db

ARRIVING = ("Images may still be arriving: the AI has read 120 images so far; "
            "the result can change when the study is complete.")


def screening_ct_without_findings(*, arriving: bool):
    study = make_study(study_description="CT LOW DOSE LUNG SCREENING", status="analysed", instance_count=120,
                       images_arriving=arriving)
    AnalysisRun.objects.create(study=study, model_name="lung_nodule", model_version="1",
                               status=AnalysisStatus.DONE, result={"findings": []})
    return study


def test_a_complete_study_without_findings_gets_the_negative_draft(radiologist):
    study = screening_ct_without_findings(arriving=False)
    images_viewed(study, radiologist)
    draft = report_prefill(study, radiologist)
    assert draft["lungrads_category"] == "1" and "No pulmonary nodule" in draft["findings_text"]


def test_a_study_still_arriving_gets_no_negative_draft(radiologist):
    study = screening_ct_without_findings(arriving=True)
    images_viewed(study, radiologist)
    draft = report_prefill(study, radiologist)
    assert draft["notes"] == [ARRIVING]
    assert draft["findings_text"].splitlines()[0] == ARRIVING
    assert draft["lungrads_category"] == "" and draft["lungrads_suggested"] == ""
    assert draft["impression"] == "" and draft["recommendation"] == ""
    assert "No pulmonary nodule" not in draft["findings_text"]
    # Without a reader (a script, the archive) the draft knows it too.
    assert report_prefill(study)["notes"] == [ARRIVING] and report_prefill(study)["lungrads_category"] == ""


def test_signing_a_study_still_arriving_needs_an_override_reason_and_is_audited(api_as, radiologist):
    study = screening_ct_without_findings(arriving=True)
    client = api_as(radiologist)
    assert client.post(f"/api/studies/{study.pk}/claim/").status_code == 200
    images_viewed(study, radiologist)
    fields = {"lungrads_category": "1", "impression": "Lung-RADS 1: negative.", "findings_text": "No nodule.",
              "recommendation": "Annual LDCT in 12 months."}

    refused = client.post(f"/api/studies/{study.pk}/report/sign/", fields, format="json")

    assert refused.status_code == 409
    assert refused.json()["problems"] == [f"{ARRIVING} Reports are signed on the complete study."]
    assert not ReportVersion.objects.filter(report__study=study).exists()
    signed = client.post(f"/api/studies/{study.pk}/report/sign/",
                         {**fields, "override_reason": "all 120 slices on the console, the series is complete"},
                         format="json")
    assert signed.status_code == 201, signed.content
    assert signed.json()["overridden"] == [f"{ARRIVING} Reports are signed on the complete study."]
    event = AuditEvent.objects.get(action="report.sign_override", study=study)
    assert "series is complete" in event.detail and "Images may still be arriving" in event.detail


def test_the_reading_page_shows_the_servers_sentence(api_as, radiologist):
    study = screening_ct_without_findings(arriving=True)
    detail = api_as(radiologist).get(f"/api/studies/{study.pk}/").json()
    assert detail["images_arriving"] is True and detail["images_arriving_note"] == ARRIVING
