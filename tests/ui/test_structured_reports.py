"""Structured reports in a real browser: a BI-RADS mammogram and a PI-RADS prostate MRI, read and signed.

The studies are synthetic DICOM stored in the real Orthanc and ingested; the AI results are put in
the database directly, in the shapes the mammography and prostate models write (a fixture of known
AI output: the models themselves are tested end to end elsewhere).
"""

import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from archive import orthanc
from inference.models import AnalysisRun, AnalysisStatus
from inference.synthetic import generate_study
from inference.synthetic.sender import store_study
from reporting.models import ReportVersion
from tests.ui.conftest import screenshot
from worklist.ingest import study_ingest
from worklist.models import Study

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NAMES = {"mass_spiculated": "spiculated mass", "mass_circumscribed": "circumscribed mass",
         "calcification_cluster": "calcification cluster"}


def archived(synthetic):
    """Store a synthetic study in Orthanc and ingest it as the follower would."""
    store_study(synthetic, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
                called_aet=settings.ORTHANC_DICOM_AET)
    for orthanc_id in orthanc.get_json("studies"):
        tags = orthanc.get_json(f"studies/{orthanc_id}")["MainDicomTags"]
        if tags["StudyInstanceUID"] == synthetic.study_instance_uid:
            return study_ingest(orthanc_id)
    raise AssertionError("study not found in the archive")


def ai_run(study, model_name, result):
    # As the pipeline leaves it: the study analysed (otherwise the draft says the AI is not finished).
    Study.objects.filter(pk=study.pk).update(status="analysed")
    return AnalysisRun.objects.create(study=study, model_name=model_name, model_version="test",
                                      status=AnalysisStatus.DONE, finished_at=timezone.now(), result=result)


def mammography_result(truth):
    views = {v["view"]: v for v in truth["views"]}
    findings = []
    for index, lesion in enumerate(truth["lesions"]):
        marks = []
        for name, where in sorted(lesion["views"].items()):
            x0, _, x1, _ = where["bbox_px"]
            marks.append({"view": name, "series_instance_uid": views[name]["series_instance_uid"],
                          "sop_instance_uid": views[name]["sop_instance_uid"], "point_px": where["center_px"],
                          "radius_px": max((x1 - x0) / 2, 4)})
        findings.append({"lesion_id": index + 1, "type": lesion["type"], "breast": lesion["breast"],
                         "diameter_mm": lesion["size_mm"], "probability": 0.9 - 0.2 * index,
                         "depth_mm": lesion["depth_from_chest_wall_mm"], "views": marks})
    return {"findings": findings, "density": truth["density"], "breasts": {}, "case_suspicion": 0.9}


def test_a_radiologist_signs_a_birads_mammogram_and_a_pirads_prostate_mri(orthanc, web_server, login, radiologist):
    mammo = generate_study("mammography", seed=21, matrix="small", n_lesions=2)
    prostate = generate_study("prostate_mri", seed=8, t2_matrix=128, slices=16, n_lesions=1)
    mg_study, mr_study = archived(mammo), archived(prostate)
    assert (mg_study.modality, mr_study.modality, mr_study.body_part) == ("MG", "MR", "PROSTATE")
    ai_run(mg_study, "mammography", mammography_result(mammo.truth))
    lesion = prostate.truth["lesions"][0]
    ai_run(mr_study, "prostate", {
        "findings": [{"centre_mm": lesion["center_mm"], "diameter_mm": lesion["diameter_mm"], "type": "lesion",
                      "zone": lesion["zone"], "location": "left mid posterolateral", "probability": 0.8,
                      "volume_ml": 0.5}],
        "gland_volume_ml": 40.0, "pz_volume_ml": 15.0, "tz_volume_ml": 25.0, "psa_ng_ml": 6.0, "psa_density": 0.15,
        "seg_sop_instance_uid": ""})

    # --- the mammogram -------------------------------------------------------------------------
    reader = login(radiologist)
    page_errors = []
    reader.on("pageerror", lambda error: page_errors.append(str(error)))
    reader.goto(f"{web_server.url}/studies/{mg_study.pk}/")
    items = reader.locator("#findings-list li")
    expect(items).to_have_count(2, timeout=20_000)
    buttons = reader.locator("#view-buttons button")
    expect(buttons).to_have_text(["RCC", "LCC", "RMLO", "LMLO"])
    for button in buttons.all():
        expect(button).to_be_enabled()
    buttons.nth(3).click()  # LMLO
    expect(reader.locator(".viewer-ov-tl")).to_contain_text("L MLO", timeout=20_000)
    expect(buttons.nth(3)).to_have_class(re.compile(r"\bactive\b"))

    first = mammo.truth["lesions"][0]
    # A finding's label opens its first view (CC) with the mark, whichever view was on screen.
    items.nth(0).locator(".finding-label").click()
    expect(reader.locator(".viewer-ov-tl")).to_contain_text(f"{first['breast']} CC", timeout=20_000)
    expect(reader.locator(f"#view-buttons button[data-view={first['breast']}CC]")).to_have_class(
        re.compile(r"\bactive\b"))
    items.nth(0).locator(".decide-accepted").click()
    expect(items.nth(0)).to_have_attribute("data-decision", "accepted")
    items.nth(1).locator(".decide-rejected").click()
    expect(items.nth(1)).to_have_attribute("data-decision", "rejected")

    # A finding the AI missed: breast, type and size are enough on a mammogram.
    reader.locator("#add-finding summary").click()
    adding = reader.locator("#add-finding-form")
    expect(adding.locator("input[name=centre]:visible")).to_have_count(0)
    adding.locator("select[name=breast]").select_option("L")
    adding.locator("select[name=finding_type]").select_option("mass_circumscribed")
    adding.locator("input[name=diameter_mm]").fill("8")
    adding.locator("button[type=submit]").click()
    expect(items).to_have_count(3)
    expect(items.nth(2)).to_contain_text("Reader: L breast: 8 mm long axis (BI-RADS 5th ed.) circumscribed mass")

    form = reader.locator("#report-form")
    expect(reader.locator("#report-template")).to_have_text("(BI-RADS, ACR 5th edition)")
    expect(form.locator("select[name=breast_composition]")).to_have_value(mammo.truth["density"])
    line = (f"{first['breast']} breast: {NAMES[first['type']]} {first['size_mm']:.0f} mm long axis (BI-RADS 5th ed.) "
            f"at {first['depth_from_chest_wall_mm']:.0f} mm from the chest wall, seen on CC and MLO")
    expect(form.locator("textarea[name=findings_text]")).to_have_value(re.compile(re.escape(line)))
    expect(form.locator("textarea[name=findings_text]")).to_have_value(
        re.compile(re.escape("L breast: circumscribed mass 8 mm long axis (BI-RADS 5th ed.)")))
    # The synthetic mammogram is a screening exam: an accepted finding means recall.
    expect(reader.locator("#birads-exam")).to_have_text("Screening examination")
    expect(form.locator("select[name=birads_category]")).to_have_value("0")
    expect(reader.locator("#birads-rule")).to_contain_text("recall")
    expect(form.locator("textarea[name=recommendation]")).to_have_value(
        "Recall for additional imaging and/or comparison with prior examination(s).")
    screenshot(reader, "study-birads")
    reader.locator("#sign").click()
    expect(reader.locator("#study-banner")).to_have_text("Report signed.")
    text = ReportVersion.objects.get(report__study=mg_study).text
    assert line in text and "L breast: circumscribed mass 8 mm long axis" in text
    assert f"Breast composition {mammo.truth['density']}:" in text
    assert "BI-RADS Category 0: Incomplete" in text
    assert text.count("Recall for additional imaging and/or comparison with prior examination(s).") == 1

    # --- the prostate MRI ----------------------------------------------------------------------
    reader.goto(f"{web_server.url}/studies/{mr_study.pk}/")
    items = reader.locator("#findings-list li")
    expect(items).to_have_count(1, timeout=20_000)
    expect(reader.locator("#view-buttons")).to_be_hidden()
    expect(reader.locator(".viewer-ov-tl")).to_contain_text("T2 TSE AX", timeout=20_000)  # read from the T2W
    items.nth(0).locator(".decide-accepted").click()
    expect(items.nth(0)).to_have_attribute("data-decision", "accepted")
    expect(reader.locator("#report-template")).to_have_text("(PI-RADS v2.1)")
    expect(reader.locator("#psa-density")).to_have_text("0.15")
    card = reader.locator("#pirads-lesions li")
    expect(card).to_have_count(1)
    expect(card.locator("[data-field=zone]")).to_have_value(lesion["zone"])
    expect(card.locator("[data-field=location]")).to_have_value("left mid posterolateral")
    expect(card.locator(".pirads-category")).to_have_text("–")  # not scored yet
    card.locator("[data-field=t2]").select_option("2")
    card.locator("[data-field=dwi]").select_option("3")
    card.locator("[data-field=dce]").select_option("+")
    # The same scores give 2 in the TZ (T2W decides, DCE plays no part) and 4 in the PZ (DWI 3
    # with positive DCE): the reader's zone decides, and the category follows at once.
    zone = card.locator("[data-field=zone]")
    zone.select_option("tz")
    expect(card.locator(".pirads-category")).to_have_text("PI-RADS 2")
    expect(card.locator(".pirads-rule")).to_have_text("TZ: T2W 2 -> 2")
    zone.select_option("pz")
    expect(card.locator(".pirads-category")).to_have_text("PI-RADS 4")
    expect(card.locator(".pirads-rule")).to_have_text("PZ: DWI 3 with positive DCE -> 4")
    expect(reader.locator("#pirads-overall")).to_have_text("4")
    expect(form.locator("textarea[name=impression]")).to_have_value(re.compile(r"^PI-RADS 4"))
    screenshot(reader, "study-pirads")
    reader.locator("#sign").click()
    expect(reader.locator("#study-banner")).to_have_text("Report signed.")
    version = ReportVersion.objects.get(report__study=mr_study)
    assert version.template == "pirads" and version.fields["pirads_category"] == 4
    assert "peripheral zone, left mid posterolateral): T2W 2, DWI 3, DCE positive -> PI-RADS 4" in version.text
    assert "Overall PI-RADS v2.1 assessment category: 4" in version.text
    assert "PSA density 0.15 ng/ml/ml" in version.text
    assert page_errors == []
