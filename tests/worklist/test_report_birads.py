"""Mammography reads: findings with breast and view marks, the prefilled BI-RADS report, sign and amend.

The AI result is a fixture of the mammography model's output shape (synthetic values).
"""

import pytest

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import ReportVersion
from reporting.reading import ReadingError, report_prefill, report_sign, report_template, study_is_screening
from reporting.report_types import report_type
from tests.support.reading import images_viewed
from tests.worklist.factories import make_study
from worklist.models import Order, Study
from worklist.services import study_claim

pytestmark = pytest.mark.django_db


def view(name, point, radius=12.0):
    return {"view": name, "series_instance_uid": f"1.2.826.0.1.{name}", "sop_instance_uid": f"1.2.826.0.2.{name}",
            "point_px": point, "radius_px": radius}


MAMMO_RESULT = {
    "findings": [
        {"lesion_id": 1, "type": "mass_spiculated", "breast": "R", "diameter_mm": 14.2, "probability": 0.91,
         "depth_mm": 62.0, "views": [view("RCC", [300, 210]), view("RMLO", [310, 180])]},
        {"lesion_id": 2, "type": "calcification_cluster", "breast": "L", "diameter_mm": 7.5, "probability": 0.55,
         "depth_mm": 40.0, "views": [view("LCC", [120, 260], 8)]},
        {"lesion_id": 3, "type": "mass_circumscribed", "breast": "L", "diameter_mm": 11.0, "probability": 0.48,
         "depth_mm": 30.0, "views": [view("LCC", [90, 200]), view("LMLO", [95, 230])]},
    ],
    "density": "c", "breasts": {"R": {"suspicion": 0.91}, "L": {"suspicion": 0.55}}, "case_suspicion": 0.91,
}


def mammogram(description="MAMMOGRAPHY SCREENING BILATERAL", **fields):
    study = make_study(modality="MG", body_part="BREAST", study_description=description, status="analysed", **fields)
    run = AnalysisRun.objects.create(study=study, model_name="mammography", model_version="1",
                                     status=AnalysisStatus.DONE, suspicion=0.91, result=MAMMO_RESULT)
    return study, run


@pytest.fixture
def reading(api_as, radiologist):
    """A claimed diagnostic mammogram and the reader's API client."""
    study, run = mammogram("MAMMOGRAPHY DIAGNOSTIC BILATERAL")
    client = api_as(radiologist)
    assert client.post(f"/api/studies/{study.pk}/claim/").status_code == 200
    images_viewed(study, radiologist)
    return study, run, client


def decide(client, study, run, index, decision, **extra):
    response = client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-{index}/review/",
                           {"decision": decision, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def payload(**extra):
    return {"findings_text": "R breast: spiculated mass.", "impression": "Suspicious right breast mass.",
            "recommendation": "Ultrasound-guided core biopsy.", "birads_category": "4C", "breast_composition": "c",
            **extra}


def test_mammograms_get_the_birads_template():
    assert report_template(make_study(modality="MG", body_part="BREAST")) == "birads"


def test_mammography_findings_carry_their_breast_depth_and_view_marks(reading):
    study, _, client = reading
    findings = client.get(f"/api/studies/{study.pk}/findings/").json()
    first = findings[0]
    assert first["breast"] == "R" and first["depth_mm"] == 62.0
    assert first["label"] == "R breast: 14 mm long axis (BI-RADS 5th ed.) spiculated mass"
    assert (first["size_mm"], first["size_label"]) == (14.0, "long axis (BI-RADS 5th ed.)")
    assert [v["view"] for v in first["views"]] == ["RCC", "RMLO"]
    assert first["views"][1] == {"view": "RMLO", "series_instance_uid": "1.2.826.0.1.RMLO",
                                 "sop_instance_uid": "1.2.826.0.2.RMLO", "point_px": [310.0, 180.0],
                                 "radius_px": 12.0}
    assert first["centre_mm"] is None and first["zone"] == ""


def test_the_draft_takes_density_and_accepted_findings_only(reading):
    study, run, client = reading
    decide(client, study, run, 0, "accepted")
    decide(client, study, run, 1, "rejected")  # the calcification cluster is left out
    decide(client, study, run, 2, "rejected")
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    assert draft["template"] == "birads" and draft["breast_composition"] == "c" and not draft["screening"]
    # The composition is said once, in the assessment block, not again in the findings.
    lines = draft["findings_text"].splitlines()
    assert lines == ["- R breast: spiculated mass 14 mm long axis (BI-RADS 5th ed.) at 62 mm from the chest wall, "
                     "seen on CC and MLO"]
    assert draft["birads_category"] == "4C" and "spiculated mass -> 4C" in draft["birads_rule"]
    assert draft["recommendation"] == "Tissue diagnosis."


def test_a_diagnostic_exam_with_only_a_circumscribed_mass_suggests_3_and_without_findings_1(reading):
    study, run, client = reading
    draft = report_prefill(study)  # nothing reviewed yet: no category, no normal sentence
    assert draft["birads_suggested"] == "" and draft["birads_category"] == "" and draft["impression"] == ""
    assert "No suspicious mass" not in draft["findings_text"]
    assert draft["findings_text"] == "3 AI findings are not reviewed yet."
    decide(client, study, run, 2, "accepted")
    decide(client, study, run, 0, "rejected")
    decide(client, study, run, 1, "rejected")
    draft = report_prefill(study)
    assert draft["birads_category"] == "3" and draft["recommendation"].startswith("Short-interval (6-month)")


def test_a_screening_exam_with_an_accepted_finding_suggests_recall(api_as, radiologist):
    study, run = mammogram("MAMMOGRAPHY SCREENING BILATERAL")
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    decide(client, study, run, 2, "accepted")
    decide(client, study, run, 0, "rejected")
    decide(client, study, run, 1, "rejected")
    draft = report_prefill(study)
    assert draft["screening"] and draft["birads_category"] == "0" and "recall" in draft["birads_rule"]
    assert draft["recommendation"].startswith("Recall for additional imaging")


def test_screening_can_come_from_the_ris_order_procedure():
    study = make_study(modality="MG", body_part="BREAST", study_description="MAMMO BILAT", accession_number="A77")
    assert not study_is_screening(study)
    Order.objects.create(accession_number="A77", procedure="SCREENING MAMMOGRAM BILATERAL")
    assert study_is_screening(study)


def test_an_edit_can_retype_a_finding_and_a_reader_adds_one_by_breast_and_type(reading):
    study, run, client = reading
    assert client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-2/review/",
                       {"decision": "edited", "finding_type": "solid"}).status_code == 409  # a lung type
    edited = decide(client, study, run, 2, "edited", finding_type="mass_spiculated", diameter_mm=12)
    assert edited["label"] == "L breast: 12 mm long axis (BI-RADS 5th ed.) spiculated mass"
    url = f"/api/studies/{study.pk}/findings/"
    no_breast = client.post(url, {"diameter_mm": 6, "finding_type": "calcification_cluster"}, format="json")
    assert no_breast.status_code == 409 and "breast" in no_breast.json()["detail"]
    added = client.post(url, {"breast": "R", "diameter_mm": 6, "finding_type": "calcification_cluster",
                              "depth_mm": 25}, format="json")
    assert added.status_code == 201 and added.json()["breast"] == "R" and added.json()["views"] == []
    lines = report_prefill(study)["findings_text"].splitlines()
    size = "long axis (BI-RADS 5th ed.)"
    assert f"- L breast: spiculated mass 12 mm {size} at 30 mm from the chest wall, seen on CC and MLO" in lines
    assert f"- R breast: calcification cluster 6 mm {size} at 25 mm from the chest wall" in lines


@pytest.mark.parametrize(("change", "message"), [
    ({"birads_category": "7"}, "BI-RADS category must be one of"),
    ({"birads_category": ""}, "BI-RADS category must be one of"),
    ({"breast_composition": "e"}, "breast composition must be a, b, c or d"),
    ({"breast_composition": ""}, "breast composition must be a, b, c or d"),
])
def test_signing_refuses_invalid_birads_fields(radiologist, change, message):
    study, _ = mammogram()
    study_claim(study_id=study.pk, user=radiologist)
    with pytest.raises(ReadingError, match=message):
        report_sign(study_id=study.pk, user=radiologist, fields=payload(**change))
    assert not Study.objects.get(pk=study.pk).reported_at


def test_sign_and_amend_through_the_api_keep_the_atlas_wording(reading, radiologist):
    study, run, client = reading
    decide(client, study, run, 0, "accepted")
    decide(client, study, run, 1, "rejected")
    decide(client, study, run, 2, "rejected")
    sign = f"/api/studies/{study.pk}/report/sign/"
    assert client.post(sign, payload(birads_category="4D"), format="json").status_code == 409
    signed = client.post(sign, payload(birads_category="4c"), format="json")
    assert signed.status_code == 201, signed.content
    body = signed.json()
    assert body["template"] == "birads"
    assert body["fields"]["birads_category"] == "4C" and body["fields"]["birads_suggested"] == "4C"
    assert body["fields"]["screening"] is False
    text = body["text"]
    assert "ASSESSMENT (ACR BI-RADS Atlas, 5th edition)" in text
    assert "Breast composition c: The breasts are heterogeneously dense" in text
    assert "BI-RADS Category 4C: High suspicion for malignancy (> 50 % to < 95 % likelihood of malignancy)." in text
    assert text.count("Ultrasound-guided core biopsy.") == 1  # the recommendation, said once

    amend = f"/api/studies/{study.pk}/report/amend/"
    assert client.post(amend, payload(birads_category="9", reason="typo"), format="json").status_code == 409
    amended = client.post(amend, payload(birads_category="5", reason="second look: pleomorphic calcifications"),
                          format="json")
    assert amended.status_code == 201 and amended.json()["number"] == 2
    assert "BI-RADS Category 5: Highly suggestive of malignancy" in amended.json()["text"]
    assert "BI-RADS Category 4C" in ReportVersion.objects.get(report__study=study, number=1).text

    version = ReportVersion.objects.get(report__study=study, number=2)
    heading, lines = report_type("birads").assessment(version.fields)
    assert heading == "ASSESSMENT (ACR BI-RADS Atlas, 5th edition)"
    assert lines[1:] == ["BI-RADS Category 5: Highly suggestive of malignancy (≥ 95 % likelihood of malignancy)."]
    pdf = client.get(f"/api/studies/{study.pk}/report/v2.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_report_page_data_offers_every_birads_category(reading):
    study, _, client = reading
    choices = client.get(f"/api/studies/{study.pk}/report/").json()["choices"]
    assert [c["value"] for c in choices["categories"]] == ["0", "1", "2", "3", "4", "4A", "4B", "4C", "5", "6"]
    assert [c["value"] for c in choices["compositions"]] == ["a", "b", "c", "d"]
