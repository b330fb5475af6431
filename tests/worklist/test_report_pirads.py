"""Prostate MRI reads: lesions with zone and site, the PI-RADS v2.1 report computed from the reader's
scores, sign and amend.

The AI result is a fixture of the prostate model's output shape (synthetic values).
"""

import pytest

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import ReportVersion
from reporting.reading import ReadingError, report_prefill, report_sign, report_template
from reporting.report_types import report_type
from tests.support.reading import all_findings_reviewed, images_viewed
from tests.worklist.factories import make_study
from worklist.models import Study
from worklist.services import study_claim

pytestmark = pytest.mark.django_db

PROSTATE_RESULT = {
    "findings": [
        {"centre_mm": [-12.0, 28.0, -40.0], "diameter_mm": 12.4, "type": "lesion", "zone": "pz",
         "location": "left mid PZ posterolateral", "probability": 0.82, "volume_ml": 0.9},
        {"centre_mm": [8.0, 10.0, -35.0], "diameter_mm": 9.0, "type": "lesion", "zone": "tz",
         "location": "right base TZ anterior", "probability": 0.41, "volume_ml": 0.3},
    ],
    "gland_volume_ml": 40.0, "pz_volume_ml": 14.0, "tz_volume_ml": 26.0, "psa_ng_ml": 6.0, "psa_density": 0.15,
    "seg_sop_instance_uid": "1.2.826.0.9.1",
}


def prostate_mri(result=PROSTATE_RESULT, **fields):
    values = {"modality": "MR", "body_part": "PROSTATE", "study_description": "MRI PROSTATE", "status": "analysed",
              **fields}
    study = make_study(**values)
    run = AnalysisRun.objects.create(study=study, model_name="prostate", model_version="1",
                                     status=AnalysisStatus.DONE, suspicion=0.82, result=result)
    return study, run


@pytest.fixture
def reading(api_as, radiologist):
    study, run = prostate_mri()
    client = api_as(radiologist)
    assert client.post(f"/api/studies/{study.pk}/claim/").status_code == 200
    images_viewed(study, radiologist)
    return study, run, client


def decide(client, study, run, index, decision):
    response = client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-{index}/review/", {"decision": decision})
    assert response.status_code == 200, response.content
    return response.json()


def lesion(**extra):
    return {"zone": "pz", "location": "left mid PZ posterolateral", "diameter_mm": 12.4, "t2": 4, "dwi": 3,
            "dce": "+", **extra}


def payload(lesions=None, **extra):
    return {"findings_text": "Prostate.", "impression": "Suspicious left PZ lesion.",
            "pirads_lesions": [lesion()] if lesions is None else lesions, "gland_volume_ml": 40, "psa_ng_ml": 6,
            **extra}


@pytest.mark.parametrize(("fields", "template"), [
    ({"modality": "MR", "body_part": "PROSTATE", "study_description": "MRI"}, "pirads"),
    ({"modality": "MR", "body_part": "PELVIS", "study_description": "MR Prostate multiparametric"}, "pirads"),
    ({"modality": "MR", "body_part": "KNEE", "study_description": "MRI KNEE"}, "free"),
    ({"modality": "CT", "body_part": "PELVIS", "study_description": "CT PROSTATE"}, "free"),
])
def test_prostate_mri_gets_the_pirads_template(fields, template):
    assert report_template(make_study(**fields)) == template


def test_prostate_findings_carry_zone_and_site(reading):
    study, _, client = reading
    first = client.get(f"/api/studies/{study.pk}/findings/").json()[0]
    assert first["zone"] == "pz" and first["location"] == "left mid PZ posterolateral"
    assert first["label"] == "12.4 mm long axis (PI-RADS v2.1) lesion, left mid PZ posterolateral"
    assert first["centre_mm"] == [-12.0, 28.0, -40.0]


def test_the_draft_lists_accepted_lesions_with_volume_psa_and_density(reading):
    study, run, client = reading
    decide(client, study, run, 0, "accepted")
    decide(client, study, run, 1, "rejected")
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    assert draft["template"] == "pirads"
    assert (draft["gland_volume_ml"], draft["psa_ng_ml"], draft["psa_density"]) == (40.0, 6.0, 0.15)
    assert draft["pirads_lesions"] == [{"key": f"ai-{run.pk}-0", "zone": "pz", "location": "left mid PZ posterolateral",
                                        "diameter_mm": 12.4, "t2": None, "dwi": None, "dce": None}]
    # Volume and PSA are said once, in the assessment block, not again in the findings.
    assert draft["findings_text"].splitlines() == [
        "- Lesion 1: 12.4 mm long axis (PI-RADS v2.1), peripheral zone, left mid PZ posterolateral"]


def test_without_psa_there_is_no_density_and_without_lesions_the_draft_says_pirads_1(api_as, radiologist):
    study, _ = prostate_mri(result={**PROSTATE_RESULT, "findings": [], "psa_ng_ml": None, "psa_density": None})
    draft = report_prefill(study)  # the AI found nothing
    assert draft["psa_ng_ml"] is None and draft["psa_density"] is None and draft["pirads_lesions"] == []
    assert draft["findings_text"].splitlines() == ["- No focal lesion."]
    assert draft["impression"] == "PI-RADS 1: no focal lesion."


def test_a_reader_adds_a_lesion_by_zone_and_site(reading):
    study, _, client = reading
    url = f"/api/studies/{study.pk}/findings/"
    refused = client.post(url, {"diameter_mm": 8, "finding_type": "lesion"}, format="json")
    assert refused.status_code == 409 and "zone" in refused.json()["detail"]
    added = client.post(url, {"diameter_mm": 8, "finding_type": "lesion", "zone": "tz",
                              "location": "left apex TZ anterior"}, format="json")
    assert added.status_code == 201
    assert added.json()["zone"] == "tz"
    assert added.json()["label"] == "8.0 mm long axis (PI-RADS v2.1) lesion, left apex TZ anterior"
    lesions = report_prefill(study)["pirads_lesions"]
    assert [(entry["zone"], entry["location"]) for entry in lesions] == [("tz", "left apex TZ anterior")]


@pytest.mark.parametrize(("lesions", "message"), [
    ([lesion(t2=6)], "lesion 1: T2W score must be 1 to 5"),
    ([lesion(t2=3.5)], "lesion 1: T2W score must be 1 to 5"),
    ([lesion(dwi=None)], "lesion 1: DWI score must be 1 to 5"),
    ([lesion(), lesion(dwi="0")], "lesion 2: DWI score must be 1 to 5"),
    ([lesion(zone="cz")], "lesion 1: zone must be pz or tz"),
    ([lesion(dce="maybe")], "lesion 1: DCE must be"),
    ([lesion(diameter_mm=-3)], "lesion 1: size"),
    ([lesion()] * 5, "at most 4 lesions"),
])
def test_signing_refuses_invalid_scores(radiologist, lesions, message):
    study, _ = prostate_mri()
    study_claim(study_id=study.pk, user=radiologist)
    with pytest.raises(ReadingError, match=message):
        report_sign(study_id=study.pk, user=radiologist, fields=payload(lesions))
    assert not Study.objects.get(pk=study.pk).reported_at


def test_signing_refuses_an_impossible_psa_or_volume(radiologist):
    study, _ = prostate_mri()
    study_claim(study_id=study.pk, user=radiologist)
    with pytest.raises(ReadingError, match="gland volume"):
        report_sign(study_id=study.pk, user=radiologist, fields=payload(gland_volume_ml=0))


def test_the_category_is_computed_from_the_scores_not_taken_from_the_client(reading, radiologist):
    study, _, client = reading
    all_findings_reviewed(study, radiologist)
    sign = f"/api/studies/{study.pk}/report/sign/"
    lesions = [lesion(), lesion(zone="tz", location="right base TZ anterior", diameter_mm=9, t2=2, dwi=4, dce="-")]
    signed = client.post(sign, payload(lesions, pirads_category="2"), format="json")
    assert signed.status_code == 201, signed.content
    fields = signed.json()["fields"]
    assert [(entry["category"], entry["rule"]) for entry in fields["pirads_lesions"]] == [
        (4, "PZ: DWI 3 with positive DCE -> 4"), (3, "TZ: T2W 2 with DWI 4 (≥ 4) -> 3")]
    assert fields["pirads_category"] == 4 and fields["psa_density"] == 0.15
    text = signed.json()["text"].splitlines()
    start = text.index("ASSESSMENT (PI-RADS v2.1)")
    assert text[start:start + 6] == [
        "ASSESSMENT (PI-RADS v2.1)",
        "Prostate: gland volume 40 ml; PSA 6 ng/ml; PSA density 0.15 ng/ml/ml.",
        "Lesion 1 (12.4 mm long axis, peripheral zone, left mid PZ posterolateral): T2W 4, DWI 3, DCE positive -> "
        "PI-RADS 4",
        "Lesion 2 (9.0 mm long axis, transition zone, right base TZ anterior): T2W 2, DWI 4, DCE negative -> PI-RADS 3",
        "Overall PI-RADS v2.1 assessment category: 4 – High (clinically significant cancer is likely to be present).",
        "Biopsy should be considered.",
    ]


def test_an_amendment_rescores_and_the_pdf_shows_the_assessment(reading, radiologist):
    study, _, client = reading
    all_findings_reviewed(study, radiologist)
    assert client.post(f"/api/studies/{study.pk}/report/sign/", payload(), format="json").status_code == 201
    amend = f"/api/studies/{study.pk}/report/amend/"
    bad = client.post(amend, payload([lesion(dwi=7)], reason="rescored"), format="json")
    assert bad.status_code == 409 and "DWI score" in bad.json()["detail"]
    amended = client.post(amend, payload([lesion(dwi=5, dce="-")], reason="rescored on ADC"), format="json")
    assert amended.status_code == 201 and amended.json()["fields"]["pirads_category"] == 5
    assert "Overall PI-RADS v2.1 assessment category: 5" in amended.json()["text"]
    assert ReportVersion.objects.get(report__study=study, number=1).fields["pirads_category"] == 4

    heading, lines = report_type("pirads").assessment(ReportVersion.objects.get(report__study=study, number=2).fields)
    assert heading == "ASSESSMENT (PI-RADS v2.1)"
    assert lines[1] == ("Lesion 1 (12.4 mm long axis, peripheral zone, left mid PZ posterolateral): T2W 4, DWI 5, "
                        "DCE negative -> PI-RADS 5")
    assert lines[2].startswith("Overall PI-RADS v2.1 assessment category: 5 – Very high")
    pdf = client.get(f"/api/studies/{study.pk}/report/v2.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_report_page_data_has_the_pirads_lookup_table(reading):
    study, _, client = reading
    choices = client.get(f"/api/studies/{study.pk}/report/").json()["choices"]
    assert choices["table"]["pz:2:3:+"] == [4, "PZ: DWI 3 with positive DCE -> 4"]
    assert choices["table"]["tz:3:5:"][0] == 4
