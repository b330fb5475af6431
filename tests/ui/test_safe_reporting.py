"""Safe reporting in a real browser (issue 15): the page cannot sign a report that contradicts the AI,
the images or the protocol.

The chest CT with a nodule is analysed by the real lung model in a Celery worker. The other studies
are real DICOM in the real Orthanc, ingested as the follower would; their AI state is set in the
database (the AI failing on such input is tested in tests/bad_input).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django import db
from django.conf import settings
from playwright.sync_api import expect

from archive import orthanc
from inference.synthetic import generate_study
from reporting.drafts import drafts_discard
from reporting.models import ReportVersion
from tests.bad_input import studies as bad_studies
from tests.support import processes
from tests.support.dicom import c_store
from tests.ui.conftest import screenshot
from worklist.ingest import study_ingest
from worklist.models import AuditEvent, PendingStudy, Study

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LUNG_MODEL = "inference.cad.lung_nodule.model:LungNoduleModel"
SEED = 1037  # one free-standing solid nodule of 13.8 mm (tests/cad/test_lung_end_to_end.py)


def store(datasets) -> None:
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)


def ingested(study_instance_uid: str) -> Study:
    for orthanc_id in orthanc.get_json("studies"):
        if orthanc.get_json(f"studies/{orthanc_id}")["MainDicomTags"]["StudyInstanceUID"] == study_instance_uid:
            return study_ingest(orthanc_id)
    raise AssertionError("study not found in the archive")


@pytest.fixture
def lung_worker(orthanc, subprocess_env, service_logs):
    worker = processes.celery_worker_process(dict(subprocess_env, CAD_MODELS=LUNG_MODEL), service_logs).start()
    yield worker
    worker.stop()


def test_an_unreviewed_nodule_refuses_the_signature_and_the_impression_follows_the_category(
    lung_worker, web_server, login, radiologist
):
    chest = generate_study("chest_ct", seed=SEED, matrix=256, slices=80, n_nodules=1, priority="ROUTINE",
                           patient_location="OUTPATIENT CLINIC")
    store(chest.datasets)
    study = processes.wait_until(
        lambda: Study.objects.filter(study_instance_uid=chest.study_instance_uid, status="analysed").first(),
        timeout=180, what="the chest CT analysed by the lung model")
    reader = login(radiologist)
    reader.goto(f"{web_server.url}/studies/{study.pk}/")
    expect(reader.locator("#report-template")).to_have_text("(Lung-RADS v2022)")
    expect(reader.locator("#report-type-reason")).to_contain_text("lung cancer screening")
    items = reader.locator("#findings-list li")
    expect(items.first).to_have_attribute("data-decision", "pending", timeout=20_000)
    # The label carries the convention the category uses.
    expect(items.first).to_contain_text(re.compile(r"\d+\.\d mm mean diameter \(Lung-RADS v2022\) solid"))
    count = items.count()
    notes = reader.locator("#report-notes")
    expect(notes).to_contain_text(f"{count} AI finding")
    form = reader.locator("#report-form")
    expect(form.locator("select[name=lungrads_category]")).to_have_value("")
    expect(form.locator("textarea[name=findings_text]")).not_to_have_value(re.compile("No pulmonary nodule"))
    expect(form.locator("textarea[name=impression]")).to_have_value("")

    # A script-like shortcut: the reader picks a category and types an impression, then signs.
    form.locator("select[name=lungrads_category]").select_option("4A")
    form.locator("textarea[name=impression]").fill("Solid nodule.")
    impression = form.locator("textarea[name=impression]")
    reader.locator("#sign").click()
    expect(reader.locator("#report-error")).to_contain_text(
        f"Not signed. {count} AI finding{'s are' if count > 1 else ' is'} not reviewed yet")
    expect(reader.locator("#override-field")).to_be_visible()
    screenshot(reader, "sign-refused-unreviewed")
    assert not ReportVersion.objects.filter(report__study=study).exists()

    # What was typed is kept as the reader's draft (tests/ui/test_report_drafts_amend_and_findings.py).
    expect(reader.locator("#draft-status")).to_contain_text("Draft saved")
    for index in range(count):
        items.nth(index).locator(".decide-accepted" if index == 0 else ".decide-rejected").click()
        expect(items.nth(index)).not_to_have_attribute("data-decision", "pending")
    reader.reload()
    expect(impression).to_have_value("Solid nodule.")
    # The reader starts over from the server's draft: their typed draft is dropped.
    drafts_discard(study=study)
    reader.reload()
    expect(reader.locator("#report-notes li")).to_have_count(0, timeout=20_000)  # images seen, all reviewed
    category = form.locator("select[name=lungrads_category]")
    expect(category).to_have_value(re.compile("^4[AB]$"))
    expect(impression).to_have_value(re.compile(r"^Lung-RADS 4[AB]: solid \d+(\.\d)? mm"))
    # The category changes: impression and recommendation follow (words from the server).
    category.select_option("3")
    expect(impression).to_have_value("Lung-RADS 3: probably benign.")
    expect(form.locator("textarea[name=recommendation]")).to_have_value("LDCT in 6 months.")
    # Typed by the reader, the impression stays; a contradiction is then refused with a clear message.
    impression.fill("Lung-RADS 1: no lung nodules.")
    category.select_option("4B")
    expect(impression).to_have_value("Lung-RADS 1: no lung nodules.")
    expect(reader.locator("#report-problems")).to_contain_text(
        "The impression says Lung-RADS 1 but the category is 4B.")
    reader.locator("#sign").click()
    expect(reader.locator("#report-error")).to_contain_text("The impression says Lung-RADS 1")
    impression.fill("Lung-RADS 4B: very suspicious.")
    reader.locator("#sign").click()
    expect(reader.locator("#study-banner")).to_have_text("Report signed.")
    version = ReportVersion.objects.get(report__study=study)
    assert version.fields["lungrads_category"] == "4B" and version.override_reason == ""


def test_failed_ai_and_images_the_viewer_cannot_show(orthanc, web_server, login, radiologist):
    datasets = bad_studies.no_pixel_data()
    store(datasets)
    study = ingested(datasets[0].StudyInstanceUID)
    Study.objects.filter(pk=study.pk).update(status="ai_failed", status_reason="images carry no pixel data")
    reader = login(radiologist)
    reader.goto(f"{web_server.url}/studies/{study.pk}/")
    expect(reader.locator("#findings-list")).to_have_text("AI analysis failed: images carry no pixel data.")
    notes = reader.locator("#report-notes")
    expect(notes).to_contain_text("AI analysis failed: images carry no pixel data; read without AI.")
    # The viewer reports that it could not show the series; the draft says so too.
    expect(notes).to_contain_text("The viewer could not show the images", timeout=30_000)
    form = reader.locator("#report-form")
    expect(form.locator("textarea[name=findings_text]")).to_have_value(
        re.compile("^AI analysis failed: images carry no pixel data; read without AI."))
    for name in ("findings_text", "impression", "recommendation"):
        expect(form.locator(f"textarea[name={name}]")).not_to_have_value(re.compile("Lung-RADS 1|No pulmonary"))
    expect(form.locator("select[name=lungrads_category]")).to_have_value("")

    form.locator("select[name=lungrads_category]").select_option("0")
    expect(form.locator("textarea[name=impression]")).to_have_value(re.compile("^Lung-RADS 0: incomplete"))
    reader.locator("#sign").click()
    expect(reader.locator("#report-error")).to_contain_text("The viewer could not show the images")
    override = reader.locator("#override-field")
    expect(override).to_be_visible()
    screenshot(reader, "sign-refused-images")
    override.locator("textarea").fill("images reviewed on the CT console; archive copy unreadable")
    reader.locator("#sign").click()
    expect(reader.locator("#study-banner")).to_have_text("Report signed.")
    expect(reader.locator("#report-history li[data-version]").first).to_contain_text(
        "signed over the guard: images reviewed on the CT console")
    version = ReportVersion.objects.get(report__study=study)
    assert version.override_reason.startswith("images reviewed on the CT console")
    assert AuditEvent.objects.filter(action="report.sign_override", study=study).exists()


def test_a_diagnostic_chest_ct_gets_the_fleischner_template(orthanc, web_server, login, radiologist):
    chest = generate_study("chest_ct", seed=7, matrix=64, slices=30, n_nodules=0, protocol="diagnostic",
                           priority="STAT", patient_location="EMERGENCY DEPARTMENT")
    store(chest.datasets)
    study = ingested(chest.study_instance_uid)
    Study.objects.filter(pk=study.pk).update(status="analysed")
    reader = login(radiologist)
    reader.goto(f"{web_server.url}/studies/{study.pk}/")
    expect(reader.locator("#report-template")).to_have_text("(Incidental pulmonary nodule (Fleischner 2017))")
    expect(reader.locator("#report-type-reason")).to_contain_text("Lung-RADS does not apply")
    expect(reader.locator("#fleischner-field")).to_be_visible()
    expect(reader.locator("#lungrads-field")).to_be_hidden()
    form = reader.locator("#report-form")
    impression = form.locator("textarea[name=impression]")
    expect(impression).to_have_value("Fleischner 2017: no pulmonary nodule.", timeout=30_000)  # once images are seen
    expect(form.locator("textarea[name=recommendation]")).not_to_have_value(re.compile("annual screening"))
    reader.locator("#preview").click()
    expect(reader.locator("#report-preview")).to_contain_text(
        "Lung-RADS does not apply: this is not a lung cancer screening examination.")
    screenshot(reader, "report-fleischner")
    # The reader may switch template; the reason says it was their choice.
    reader.locator("#report-type").select_option("lungrads")
    expect(reader.locator("#report-type-reason")).to_contain_text("chosen by the reader")
    expect(reader.locator("#lungrads-field")).to_be_visible()


def test_a_study_analysed_before_all_its_images_came_says_so_until_it_is_complete(orthanc, web_server, login,
                                                                                    radiologist):
    chest = generate_study("chest_ct", seed=7, matrix=64, slices=30, n_nodules=0, protocol="diagnostic",
                           priority="STAT", patient_location="EMERGENCY DEPARTMENT")
    store(chest.datasets)
    orthanc_id = ingested(chest.study_instance_uid).orthanc_id
    # As the follower's early pass does (worklist.ingest.complete_studies_ingest): still pending.
    PendingStudy.objects.create(orthanc_id=orthanc_id)
    study = study_ingest(orthanc_id, early=True)
    Study.objects.filter(pk=study.pk).update(status="analysed")
    sentence = ("Images may still be arriving: the AI has read 30 images so far; "
                "the result can change when the study is complete.")
    reader = login(radiologist)
    reader.goto(f"{web_server.url}/")
    tag = reader.locator(f'tr[data-study-id="{study.pk}"] .arriving-tag')
    expect(tag).to_have_text("images may still be arriving")
    expect(tag).to_have_attribute("title", sentence)
    reader.goto(f"{web_server.url}/studies/{study.pk}/")
    banner = reader.locator("#arriving-banner")
    expect(banner).to_have_text(sentence)
    notes = reader.locator("#report-notes")
    expect(notes).to_contain_text(sentence)
    # Once the images are seen, a complete study would get "Fleischner 2017: no pulmonary nodule." here.
    expect(notes).not_to_contain_text("The images have not been viewed yet.", timeout=30_000)
    expect(notes).to_contain_text(sentence)
    expect(reader.locator("#report-form textarea[name=impression]")).to_have_value("")

    # StableStudy's ingest clears the mark; the websocket push takes the banner away. It runs in a
    # thread of its own, as in the follower: Playwright's event loop owns this one, where the
    # publisher's async_to_sync cannot run.
    PendingStudy.objects.filter(orthanc_id=orthanc_id).delete()

    def stable_study_ingest():
        try:
            study_ingest(orthanc_id)
        finally:
            db.connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(stable_study_ingest).result()
    expect(banner).to_be_hidden(timeout=20_000)
    reader.goto(f"{web_server.url}/")
    expect(reader.locator(f'tr[data-study-id="{study.pk}"]')).to_be_visible()
    expect(tag).to_have_count(0)
