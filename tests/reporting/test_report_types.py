"""Report templates (reporting.report_types): one module gives the signed text, the page's preview
and the PDF; template choice by protocol; the draft states only what is known; sizes with their
convention; the Fleischner 2017 rules; no report wording in the page's JavaScript."""

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import ReportVersion
from reporting.reading import report_prefill
from reporting.report_types import template_choice
from reporting.report_types.incidental_nodule import advise
from tests.support.reading import images_viewed
from tests.worklist.factories import make_study
from worklist.models import AuditEvent, Order

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend"
LUNG = {"centre_mm": [-60.0, 10.0, -120.0], "diameter_mm": 15.9, "mean_diameter_mm": 14.04, "type": "solid",
        "probability": 0.94}
MASS = {"type": "mass_spiculated", "breast": "R", "diameter_mm": 14.2, "probability": 0.91, "depth_mm": 62.0}
LESION = {"centre_mm": [-12.0, 28.0, -40.0], "diameter_mm": 16.0, "type": "lesion", "zone": "pz",
          "location": "left mid PZ posterolateral", "probability": 0.82}


def analysed(model, findings, extra=None, **study):
    study = make_study(status="analysed", **study)
    run = AnalysisRun.objects.create(study=study, model_name=model, model_version="1", status=AnalysisStatus.DONE,
                                     suspicion=0.9, result={"findings": findings, **(extra or {})})
    return study, run


@pytest.fixture
def reader(api_as, radiologist):
    def open_study(study, accept=()):
        client = api_as(radiologist)
        assert client.post(f"/api/studies/{study.pk}/claim/").status_code == 200
        images_viewed(study, radiologist)
        for key in accept:
            assert client.post(f"/api/studies/{study.pk}/findings/{key}/review/",
                               {"decision": "accepted"}).status_code == 200
        return client
    return open_study


def preview(client, study, fields, edited=("impression", "recommendation")):
    response = client.post(f"/api/studies/{study.pk}/report/preview/", {**fields, "edited": list(edited)},
                           format="json")
    assert response.status_code == 200, response.content
    return response.json()


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def lungrads_report(reader):
    study, run = analysed("lung_nodule", [LUNG], study_description="CT LOW DOSE LUNG SCREENING")
    client = reader(study, [f"ai-{run.pk}-0"])
    return study, client, client.get(f"/api/studies/{study.pk}/report/").json()["draft"]


def fleischner_report(reader):
    study, run = analysed("lung_nodule", [{**LUNG, "diameter_mm": 8.0, "mean_diameter_mm": 7.4}],
                          study_description="CT CHEST WITHOUT CONTRAST")
    client = reader(study, [f"ai-{run.pk}-0"])
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    assert draft["fleischner_risk_needed"] and draft["impression"] == ""  # a solid nodule: the risk is asked
    return study, client, preview(client, study, {**draft, "fleischner_risk": "high"}, edited=())["fields"]


def birads_report(reader):
    study, run = analysed("mammography", [MASS], {"density": "c"}, modality="MG", body_part="BREAST",
                          study_description="MAMMOGRAPHY DIAGNOSTIC BILATERAL")
    client = reader(study, [f"ai-{run.pk}-0"])
    return study, client, client.get(f"/api/studies/{study.pk}/report/").json()["draft"]


def pirads_report(reader):
    study, run = analysed("prostate", [LESION], {"gland_volume_ml": 40.0, "psa_ng_ml": 6.0}, modality="MR",
                          body_part="PROSTATE", study_description="MRI PROSTATE")
    client = reader(study, [f"ai-{run.pk}-0"])
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    draft["pirads_lesions"][0].update({"t2": 4, "dwi": 5, "dce": "-"})
    return study, client, preview(client, study, draft, edited=())["fields"] | {
        "pirads_lesions": draft["pirads_lesions"], "gland_volume_ml": 40.0, "psa_ng_ml": 6.0}


def free_report(reader):
    study = make_study(modality="CR", body_part="KNEE", study_description="XR KNEE", status="no_ai")
    client = reader(study)
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    assert draft["findings_text"] == "AI analysis does not apply to this study; read without AI."
    return study, client, {**draft, "impression": "No fracture."}


@pytest.mark.parametrize("make", [lungrads_report, fleischner_report, birads_report, pirads_report, free_report])
def test_text_preview_and_pdf_come_from_one_template_module(reader, make):
    study, client, fields = make(reader)
    previewed = preview(client, study, fields)
    assert previewed["problems"] == []
    signed = client.post(f"/api/studies/{study.pk}/report/sign/", fields, format="json")
    assert signed.status_code == 201, signed.content
    version = ReportVersion.objects.get(report__study=study)
    assert version.text == previewed["text"]
    pdf_text = compact("".join(page.extract_text() for page in PdfReader(io.BytesIO(
        client.get(f"/api/studies/{study.pk}/report/v1.pdf").content)).pages))
    for line in filter(None, version.text.splitlines()):
        # Every line of the signed text is in the PDF, once: no repeated category or composition.
        assert pdf_text.count(compact(line)) == 1, line


def test_each_template_names_its_standard_and_measure(reader):
    study, _, draft = lungrads_report(reader)
    assert draft["lungrads_category"] == "4A" and "solid 14 mm, 8 to < 15 mm at baseline" in draft["impression"]
    # The AI measured 15.9 mm long axis and 14.04 mm mean: Lung-RADS v2022 uses the mean, to 0.1 mm.
    assert "- 14.0 mm mean diameter (Lung-RADS v2022) solid nodule" in draft["findings_text"]
    study, client, fields = fleischner_report(reader)
    # Fleischner 2017: the same average, rounded to the nearest whole mm (7.4 -> 7).
    assert fields["impression"].startswith("Fleischner 2017: single solid nodule, largest 7 mm (6-8 mm), high risk.")
    assert "Lung-RADS does not apply" in preview(client, study, fields)["text"]
    assert fields["recommendation"] == "CT at 6-12 months, then CT at 18-24 months."


def test_template_choice_follows_the_protocol_and_the_reader_may_switch():
    screening = make_study(study_description="CT LOW DOSE LUNG SCREENING")
    diagnostic = make_study(study_description="CT CHEST WITHOUT CONTRAST", requested_priority="STAT")
    ordered = make_study(study_description="CT CHEST", accession_number="A9")
    Order.objects.create(accession_number="A9", procedure="LDCT LUNG CANCER SCREENING")
    assert template_choice(screening).type.name == "lungrads"
    assert template_choice(ordered).type.name == "lungrads"
    choice = template_choice(diagnostic)
    assert choice.type.name == "fleischner" and "Lung-RADS does not apply" in choice.reason
    switched = template_choice(diagnostic, "lungrads")
    assert switched.type.name == "lungrads" and switched.reason.startswith("chosen by the reader")
    assert template_choice(make_study(modality="MR", body_part="KNEE")).type.name == "free"


def test_a_failed_analysis_is_said_and_no_negative_category_is_prefilled():
    study = make_study(study_description="CT LOW DOSE LUNG SCREENING", status="ai_failed",
                       status_reason="irregular slice spacing")
    draft = report_prefill(study)
    assert draft["findings_text"].splitlines()[0] == "AI analysis failed: irregular slice spacing; read without AI."
    assert draft["lungrads_category"] == "" and draft["impression"] == "" and draft["recommendation"] == ""
    assert "No pulmonary nodule" not in draft["findings_text"] and "Lung-RADS 1" not in str(draft)


def test_pending_ai_and_unreviewed_findings_prefill_nothing_normal(radiologist):
    pending = make_study(study_description="CT LOW DOSE LUNG SCREENING", status="analysing")
    assert report_prefill(pending)["findings_text"].startswith("AI analysis is not finished yet")
    study, _ = analysed("mammography", [MASS], {"density": "b"}, modality="MG", body_part="BREAST",
                        study_description="MAMMOGRAPHY SCREENING")
    draft = report_prefill(study, radiologist)
    assert draft["notes"] == ["1 AI finding is not reviewed yet.", "The images have not been viewed yet."]
    assert draft["birads_category"] == "" and "BI-RADS 1" not in str(draft)


def test_a_category_change_regenerates_impression_and_recommendation_unless_typed(reader):
    study, client, draft = lungrads_report(reader)
    changed = preview(client, study, {**draft, "lungrads_category": "4B"}, edited=())
    assert changed["fields"]["impression"] == "Lung-RADS 4B: very suspicious."
    assert changed["fields"]["recommendation"].startswith("Diagnostic chest CT")
    assert changed["problems"] == []
    typed = preview(client, study, {**draft, "lungrads_category": "2"}, edited=["impression", "recommendation"])
    assert typed["fields"]["impression"] == draft["impression"]  # the reader's words are kept...
    assert "The impression says Lung-RADS 4A but the category is 2." in typed["problems"]  # ...and contradict


def test_a_pirads_5_report_gets_a_recommendation(reader):
    study, client, fields = pirads_report(reader)
    assert fields["pirads_category"] == 5
    assert fields["recommendation"] == ("MRI-targeted biopsy should be considered; discuss at the multidisciplinary "
                                        "meeting.")


def test_fleischner_2017_rules():
    solid = lambda mm, n=1: [("solid", mm, None)] * n  # noqa: E731
    assert advise(solid(5), "low").recommendation == "No routine follow-up"
    assert advise(solid(5), "high").recommendation == "Optional CT at 12 months"
    assert advise(solid(8), "low").recommendation == "CT at 6-12 months, then consider CT at 18-24 months"
    assert advise(solid(9), "low").recommendation == "Consider CT at 3 months, PET/CT, or tissue sampling"
    assert advise(solid(7, 2), "high").recommendation == "CT at 3-6 months, then CT at 18-24 months"
    assert advise(solid(7), "") is None  # the risk matters and is not given
    assert advise([("ground_glass", 5, None)], "").recommendation == "No routine follow-up"
    assert advise([("ground_glass", 6, None)], "").recommendation.startswith("CT at 6-12 months to confirm")
    assert advise([("part_solid", 7, 3)], "").recommendation.startswith("CT at 3-6 months to confirm persistence")
    assert advise([("ground_glass", 4, None), ("part_solid", 5, 2)], "").recommendation.startswith(
        "CT at 3-6 months; if stable, consider CT at 2 and 4 years")
    # Solid and subsolid together: the most suspicious advice wins.
    assert advise([("ground_glass", 4, None), ("solid", 10, None)], "low").urgency == 4


def test_the_page_holds_no_report_wording():
    sentences = ["Lung-RADS v2022 category", "IMPRESSION", "RECOMMENDATION", "FINDINGS", "Continue annual screening",
                 "No pulmonary nodule", "Management:", "Overall PI-RADS v2.1", "Lung-RADS does not apply",
                 "Fleischner 2017:", "BI-RADS Category", "no focal lesion", "no lung nodules", "Biopsy should be",
                 "Tissue diagnosis", "mean diameter (Lung-RADS"]
    for script in STATIC.glob("*.js"):
        text = script.read_text()
        found = [s for s in sentences if s in text]
        assert not found, f"{script.name} words the report itself: {found}"


def test_signing_over_the_guard_is_audited(reader, radiologist):
    study, run = analysed("lung_nodule", [LUNG, {**LUNG, "centre_mm": [50.0, 0.0, -90.0]}],
                          study_description="CT LOW DOSE LUNG SCREENING")
    client = reader(study, [f"ai-{run.pk}-0"])
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    signed = client.post(f"/api/studies/{study.pk}/report/sign/",
                         {**draft, "lungrads_category": "4A", "impression": "Lung-RADS 4A: suspicious.",
                          "override_reason": "second nodule is a vessel, seen on MIP"}, format="json")
    assert signed.status_code == 201, signed.content
    assert signed.json()["override_reason"] == "second nodule is a vessel, seen on MIP"
    assert signed.json()["overridden"] == ["1 AI finding is not reviewed yet: accept or reject every AI finding "
                                           "before signing."]
    event = AuditEvent.objects.get(action="report.sign_override", study=study)
    assert "second nodule is a vessel" in event.detail and event.user == radiologist


def test_the_headline_the_findings_list_and_the_report_show_one_size_with_its_label(reader):
    from inference.cad.base import Finding
    from inference.cad.lung_nodule.model import lungrads_summary
    from reporting.reading import study_findings

    finding = Finding(centre_mm=(-60.0, 10.0, -120.0), diameter_mm=15.9, kind="solid", probability=0.94,
                      mean_diameter_mm=14.04)
    _, headline = lungrads_summary([finding])
    study, run = analysed("lung_nodule", [finding.as_dict()], study_description="CT LOW DOSE LUNG SCREENING")
    client = reader(study, [f"ai-{run.pk}-0"])
    shown = "14.0 mm mean diameter (Lung-RADS v2022)"
    assert shown in headline
    assert study_findings(study)[0].label == f"{shown} solid"
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    signed = client.post(f"/api/studies/{study.pk}/report/sign/", draft, format="json").json()
    assert f"{shown} solid nodule" in signed["text"]


@pytest.mark.integration
def test_the_pdf_shows_the_key_images(orthanc, reader, monkeypatch):
    from reporting import pdf as report_pdf_module
    from tests.reporting.stored import stored_ct

    # A key image must be a real slice of the study (reporting/key_images.py), so the study is stored
    # in the real archive and the PDF shows the archive's rendering of that slice.
    study, series, instances = stored_ct("PID-PDF", "ACC-PDF", slices=10, body_part="KNEE",
                                         study_description="CT KNEE", status="no_ai")
    asked = []
    render = report_pdf_module.key_image_png
    monkeypatch.setattr(report_pdf_module, "key_image_png", lambda image: asked.append(image) or render(image))
    client = reader(study)
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    assert draft["findings_text"] == "AI analysis does not apply to this study; read without AI."
    fields = {**draft, "impression": "No fracture."}
    key = {"series_id": series.pk, "instance_id": instances[3], "label": "Series 1, slice 4/10"}
    signed = client.post(f"/api/studies/{study.pk}/report/sign/", {**fields, "key_images": [key]}, format="json")
    assert signed.status_code == 201, signed.content
    document = PdfReader(io.BytesIO(client.get(f"/api/studies/{study.pk}/report/v1.pdf").content))
    assert [image["instance_id"] for image in asked] == [instances[3]]
    assert sum(len(page.images) for page in document.pages) == 1
    assert "Series 1, slice 4/10" in document.pages[-1].extract_text()
