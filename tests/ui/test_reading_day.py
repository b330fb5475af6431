"""A radiologist's day in a real browser: a study arrives, rises with its AI result, is read and signed."""

import json
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from inference.synthetic import generate_study
from inference.synthetic.sender import store_study
from reporting.models import ReportVersion
from tests.support import processes
from tests.ui.conftest import screenshot
from worklist.models import Study

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def send(study):
    store_study(study, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
                called_aet=settings.ORTHANC_DICOM_AET)


def test_a_radiologist_reads_and_signs_a_study_that_rose_with_its_ai_result(
    orthanc, subprocess_env, service_logs, web_server, login, radiologist, other_radiologist, tmp_path
):
    chest = generate_study("chest_ct", seed=5, matrix=128, slices=60, n_nodules=2,
                           priority="ROUTINE", patient_location="OUTPATIENT CLINIC")
    nodules = chest.truth["lesions"]
    findings = [
        {"centre_mm": nodules[0]["center_mm"], "diameter_mm": 17.0, "type": "solid", "probability": 0.93},
        {"centre_mm": nodules[1]["center_mm"], "diameter_mm": 5.0, "type": "solid", "probability": 0.52},
    ]
    findings_file = tmp_path / "findings.json"
    findings_file.write_text(json.dumps(findings))
    env = dict(subprocess_env, CAD_MODELS="tests.inference.fake_models:FindingsFromFile",
               FAKE_FINDINGS_FILE=str(findings_file), FAKE_FINDINGS_DELAY="4")
    worker = processes.celery_worker_process(env, service_logs).start()
    try:
        reader = login(radiologist)
        colleague = login(other_radiologist)
        expect(reader.locator("#connection")).to_have_text("live")

        knee = generate_study("knee_mri", seed=3, priority="ROUTINE", patient_location="WARD 5 (INPATIENT)")
        send(knee)
        send(chest)
        rows = reader.locator("#worklist-body tr")
        expect(rows).to_have_count(2, timeout=30_000)
        chest_accession = chest.truth["order"]["accession_number"]
        # On arrival the routine chest CT waits behind the inpatient knee MRI...
        expect(rows.nth(1)).to_contain_text("CT", timeout=10_000)
        # ...and rises to the top when its AI result lands.
        expect(rows.nth(0)).to_contain_text("AI critical", timeout=30_000)
        expect(rows.nth(0)).to_contain_text("2 nodules, largest 17 mm solid")
        screenshot(reader, "worklist-ai-critical")

        rows.nth(0).click()
        reader.wait_for_url("**/studies/*/")
        study = Study.objects.get(accession_number=chest_accession)
        # The colleague's worklist shows the claim live, with the reader's name (not her username).
        expect(colleague.locator(f"#worklist-body tr[data-study-id='{study.pk}'] .state")).to_contain_text(
            "in progress (Rosa)", timeout=15_000)

        slice_label = reader.locator(".viewer-slice")
        expect(slice_label).to_contain_text("/60", timeout=20_000)
        before = slice_label.inner_text()
        reader.locator(".viewer-canvas").hover()
        reader.mouse.wheel(0, 200)
        expect(slice_label).not_to_have_text(before)

        items = reader.locator("#findings-list li")
        expect(items).to_have_count(2)
        reader.locator("#marks-visible").uncheck()
        reader.locator("#marks-visible").check()
        items.nth(0).locator(".finding-label").click()
        items.nth(0).locator(".decide-accepted").click()
        expect(items.nth(0)).to_have_attribute("data-decision", "accepted")
        items.nth(1).locator(".decide-rejected").click()
        expect(items.nth(1)).to_have_attribute("data-decision", "rejected")

        form = reader.locator("#report-form")
        expect(form.locator("select[name=lungrads_category]")).to_have_value("4B")
        expect(form.locator("textarea[name=impression]")).to_have_value(re.compile("Lung-RADS 4B"))
        expect(form.locator("textarea[name=findings_text]")).to_have_value(
            re.compile(re.escape("17.0 mm mean diameter (Lung-RADS v2022) solid")))
        screenshot(reader, "study-reading")
        reader.locator("#sign").click()
        expect(reader.locator("#study-banner")).to_have_text("Report signed.")
        expect(reader.locator("#report-history li[data-version]")).to_have_count(1)
        screenshot(reader, "study-signed")

        # The signed study leaves the open worklist on the colleague's screen.
        expect(colleague.locator(f"#worklist-body tr[data-study-id='{study.pk}']")).to_have_count(0, timeout=15_000)
        version = ReportVersion.objects.get(report__study=study)
        assert version.fields["lungrads_category"] == "4B" and version.author == radiologist
        assert version.reading_mode == "concurrent"
    finally:
        worker.stop()
