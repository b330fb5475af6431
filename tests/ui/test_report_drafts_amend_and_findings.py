"""Reading-page safety in a real browser: drafts survive a reload, a missed finding is placed by a
click on the image, an amendment corrects the findings and the new version follows them, and the
Reported filter lists signed studies."""

import re

import pytest
from playwright.sync_api import expect

from archive import orthanc as archive
from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import FindingReview, ReportDraft, ReportVersion
from tests.reporting.stored import stored_ct
from tests.ui.conftest import screenshot
from worklist.models import Study, StudyStatus

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def open_study(page, web_server, study):
    page.goto(f"{web_server.url}/studies/{study.pk}/")
    expect(page.locator(".viewer-slice")).to_contain_text(f"/{study.series.get().instance_count}", timeout=20_000)


def test_a_typed_draft_and_its_key_image_come_back_after_a_reload_in_another_browser(
        orthanc, web_server, login, radiologist):
    study, _, _ = stored_ct("PID-DRAFT", "ACC-DRAFT", slices=6)
    page = login(radiologist)
    open_study(page, web_server, study)
    expect(page.locator("#study-claim")).to_have_text("Being read by Rosa")
    # The page has read the (empty) draft from the server: what is typed now is kept.
    expect(page.locator("#draft-status")).to_have_text("No draft saved yet")
    page.locator("#report-form textarea[name=impression]").fill("Typed before the workstation crashed.")
    page.locator("#add-key-image").click()
    expect(page.locator("#key-images li")).to_have_count(1)
    expect(page.locator("#draft-status")).to_contain_text("Draft saved")
    assert ReportDraft.objects.get(study=study).fields["impression"] == "Typed before the workstation crashed."

    elsewhere = login(radiologist)  # another browser context: nothing shared but the server
    open_study(elsewhere, web_server, study)
    expect(elsewhere.locator("#report-form textarea[name=impression]")).to_have_value(
        "Typed before the workstation crashed.")
    expect(elsewhere.locator("#key-images li")).to_have_count(1)
    expect(elsewhere.locator("#draft-status")).to_contain_text("Draft restored")


def test_a_missed_finding_is_placed_by_a_click_on_the_image_at_that_slice_and_position(
        orthanc, web_server, login, radiologist):
    study, _, instance_ids = stored_ct("PID-CLICK", "ACC-CLICK", slices=10)
    page = login(radiologist)
    open_study(page, web_server, study)
    page.locator(".viewer").focus()
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    label = page.locator(".viewer-slice")
    # The label follows the frame drawn after the last key, not the first that left slice 1.
    expect(page.locator(".viewer")).to_have_attribute("data-slice", "5")
    slice_number = int(re.search(r"Slice (\d+)/10", label.inner_text()).group(1))

    page.locator("#add-finding summary").click()
    page.locator("#pick-on-image").click()
    # The tiny CT is 16 x 16 pixels, fitted into the stage: aim at the centre of pixel (5, 11).
    box = page.locator(".viewer-stage").bounding_box()
    size = min(box["width"], box["height"])
    x = box["x"] + (box["width"] - size) / 2 + 5.5 * size / 16
    y = box["y"] + (box["height"] - size) / 2 + 11.5 * size / 16
    page.mouse.click(x, y)
    expect(page.locator("#picked-place")).to_contain_text(f"Slice {slice_number}, pixel 5, 11")
    adding = page.locator("#add-finding-form")
    adding.locator("input[name=diameter_mm]").fill("7")
    adding.locator("select[name=finding_type]").select_option("part_solid")
    adding.locator("#finding-save").click()
    # No part-solid nodule without its solid part: the server says so in the form.
    expect(page.locator("#finding-error")).to_contain_text("solid part")
    adding.locator("input[name=solid_mm]").fill("3")
    adding.locator("#finding-save").click()
    items = page.locator("#findings-list li")
    expect(items).to_have_count(1)
    expect(items.nth(0)).to_contain_text("Reader: 7.0 mm mean diameter (Lung-RADS v2022) part-solid")
    screenshot(page, "study-finding-placed-on-the-image")

    review = FindingReview.objects.get(study=study)
    assert review.site["image"]["slice_index"] == slice_number - 1 and review.site["image"]["pixel"] == [5, 11]
    assert review.site["solid_mm"] == 3.0
    # The position is the clicked pixel's, in patient mm, from that slice's own header.
    by_uid = {}
    for instance_id in instance_ids:
        tags = archive.get_json(f"instances/{instance_id}/simplified-tags")
        by_uid[tags["SOPInstanceUID"]] = [float(v) for v in tags["ImagePositionPatient"].split("\\")]
    origin = by_uid[review.site["image"]["sop_instance_uid"]]
    assert review.centre_mm == pytest.approx([origin[0] + 5 * 0.8, origin[1] + 11 * 0.8, origin[2]])

    # Reader findings are edited in the page and removed until signing.
    items.nth(0).locator(".decide-edited").click()
    adding.locator("input[name=diameter_mm]").fill("9")
    adding.locator("#finding-save").click()
    expect(items.nth(0)).to_contain_text("Reader: 9.0 mm mean diameter (Lung-RADS v2022) part-solid")
    items.nth(0).locator(".finding-remove").click()
    expect(page.locator("#findings-list li")).to_have_count(1)
    # The empty list says why: this study was stored without an AI run ("No AI finding" only once the AI ran).
    expect(page.locator("#findings-list li")).to_contain_text("AI analysis not finished yet.")
    assert not FindingReview.objects.filter(study=study).exists()


def test_an_amendment_corrects_the_findings_and_the_reported_filter_lists_the_study(
        orthanc, web_server, login, radiologist):
    study, _, _ = stored_ct("PID-AMEND", "ACC-AMEND", slices=6, patient_name="AMEND^ALICE")
    AnalysisRun.objects.create(study=study, model_name="lung_nodule", model_version="1", status=AnalysisStatus.DONE,
                               result={"findings": [{"centre_mm": [-94.0, -94.0, -3.0], "diameter_mm": 9.0,
                                                     "type": "solid", "probability": 0.9}]})
    # As the pipeline leaves a study whose analysis is done: only then does the draft suggest a category.
    Study.objects.filter(pk=study.pk).update(status=StudyStatus.ANALYSED)
    page = login(radiologist)
    open_study(page, web_server, study)
    items = page.locator("#findings-list li")
    expect(items).to_have_count(1)
    items.nth(0).locator(".decide-accepted").click()
    expect(items.nth(0)).to_have_attribute("data-decision", "accepted")
    form = page.locator("#report-form")
    expect(form.locator("select[name=lungrads_category]")).to_have_value("4A")
    page.locator("#sign").click()
    expect(page.locator("#study-banner")).to_have_text("Report signed.")
    # Signed: findings are read-only until the reader opens an amendment.
    expect(items.nth(0).locator(".decide-rejected")).to_be_disabled()
    page.locator("#amend-open").click()
    expect(items.nth(0).locator(".decide-rejected")).to_be_enabled()
    items.nth(0).locator(".decide-rejected").click()
    expect(items.nth(0)).to_have_attribute("data-decision", "rejected")
    expect(form.locator("textarea[name=findings_text]")).to_have_value(re.compile("No pulmonary nodule"))
    expect(form.locator("select[name=lungrads_category]")).to_have_value("1")
    page.locator("#sign").click()
    expect(page.locator("#report-error")).to_have_text("Give a reason for the amendment: say what was corrected.")
    form.locator("input[name=reason]").fill("the nodule is a vessel")
    page.locator("#sign").click()
    expect(page.locator("#study-banner")).to_have_text("Amendment v2 signed.")
    history = page.locator("#report-history li")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("v2")
    expect(history.nth(0)).to_contain_text("the nodule is a vessel")
    expect(history.nth(1)).to_contain_text("first report")
    screenshot(page, "study-amended")
    first, second = ReportVersion.objects.filter(report__study=study).order_by("number")
    assert (first.fields["lungrads_category"], second.fields["lungrads_category"]) == ("4A", "1")
    assert "No pulmonary nodule" in second.text and second.amendment_reason == "the nodule is a vessel"

    page.goto(web_server.url + "/")
    expect(page.locator("#worklist-empty")).to_have_text("No open study.")
    page.locator("select[name=state]").select_option("reported")
    rows = page.locator("#worklist-body tr")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_have_attribute("data-study-id", str(study.pk))
    expect(rows.nth(0)).to_contain_text("AMEND, ALICE")
    expect(page.locator("#count")).to_have_text("1 reported studies")
