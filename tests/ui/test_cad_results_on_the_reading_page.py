"""The real mammography and prostate models' output on the reading page, in headless Chromium.

Nothing here is a fixture of AI output: the studies go to Orthanc by C-STORE, a Celery worker runs
the built-in models, and the radiologist's page must show the mammography marks on the views that
hold the lesion (and on no other view) and the prostate SEG over the T2 series.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from playwright.sync_api import expect

from inference.models import AnalysisRun
from inference.synthetic import generate_study
from priors.models import PriorReport
from priors.services import mined_fields
from tests.imaging.test_viewer_ui import CANVAS_COUNTS, drawn
from tests.support import processes
from tests.support.dicom import c_store
from tests.ui.conftest import screenshot
from worklist.models import Study

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MODELS = "inference.cad.mammography.model:MammographyModel,inference.cad.prostate.model:ProstateModel"
MAMMO_SEED = 18  # one right-breast spiculated mass (tests/cad/test_mammo_end_to_end.py)
PROSTATE_SEED = 1026  # one right PZ lesion of 16.9 mm (tests/cad/test_prostate_end_to_end.py)

# Coloured pixels: the images are grey, so only the overlay paints colour.
COLOURED = """() => {
  const c = document.querySelector(".viewer-canvas");
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let p = 0; p < d.length; p += 4) {
    if (Math.max(d[p], d[p + 1], d[p + 2]) - Math.min(d[p], d[p + 1], d[p + 2]) > 25) n++;
  }
  return n;
}"""


@pytest.fixture
def cad_worker(orthanc, subprocess_env, service_logs):
    worker = processes.celery_worker_process(dict(subprocess_env, CAD_MODELS=MODELS), service_logs).start()
    yield worker
    worker.stop()


def _analysed(uid: str) -> Study:
    return processes.wait_until(
        lambda: Study.objects.filter(study_instance_uid=uid, status__in=("analysed", "ai_failed")).first(),
        timeout=120, what=f"study {uid} analysed")


def imported_report(study: Study, accession: str, day: date, text: str) -> None:
    PriorReport.objects.create(patient_id=study.patient_id, accession_number=accession, study_date=day, text=text,
                               source="imported", **mined_fields(text))


def test_the_models_marks_and_segmentation_show_on_the_right_images(cad_worker, web_server, login, radiologist,
                                                                    manager):
    mammo = generate_study("mammography", seed=MAMMO_SEED, matrix="standard", n_lesions=1, density="b",
                           patient_location="SCREENING CENTRE")
    prostate = generate_study("prostate_mri", seed=PROSTATE_SEED, n_lesions=1)
    [mass] = mammo.truth["lesions"]
    assert mass["breast"] == "R" and set(mass["views"]) == {"RCC", "RMLO"}
    for study in (mammo, prostate):
        c_store(study.datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
                called_aet=settings.ORTHANC_DICOM_AET)
    mg_study, mr_study = _analysed(mammo.study_instance_uid), _analysed(prostate.study_instance_uid)
    assert mg_study.status == "analysed", mg_study.status_reason
    assert mr_study.status == "analysed", mr_study.status_reason
    assert mg_study.reading_queue == "diagnostic_workup" and mg_study.urgency_code == "urgent"
    run = AnalysisRun.objects.get(study=mg_study, model_name="mammography")
    marked_views = {v["view"] for f in run.result["findings"] for v in f["views"]}
    assert marked_views & {"RCC", "RMLO"}, run.result["findings"]
    assert not marked_views & {"LCC", "LMLO"}, run.result["findings"]  # no false mark in this case

    # Last year's report of this patient, and (imported from the RIS) the report of this very study.
    this_day = (mg_study.study_datetime or mg_study.arrived_at).date()
    imported_report(mg_study, "PRIOR-1", this_day - timedelta(days=365),
                    "Bilateral screening mammogram. Scattered areas of fibroglandular density. "
                    "Benign-appearing calcifications left. BI-RADS 2: benign.")
    imported_report(mg_study, mg_study.accession_number, this_day,
                    "Spiculated mass right breast upper outer quadrant. Assessment: BI-RADS 4C, biopsy advised.")

    # Mammography: the marks are on the right breast's views only; the prior result is beside them.
    page = login(radiologist)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{web_server.url}/studies/{mg_study.pk}/")
    expect(page.locator("#findings-list li").first).to_contain_text("AI:")
    viewer = page.locator(".viewer")
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        page.locator(f"#view-buttons button[data-view={view}]").click()
        series_id = str(mg_study.series.get(description__icontains=f"{view[0]} {view[1:]}").pk)
        expect(viewer).to_have_attribute("data-series-id", series_id)
        drawn(page)
        amber = page.evaluate(CANVAS_COUNTS)["amber"]
        if view in marked_views:
            assert amber > 50, (view, amber)
        else:
            assert amber == 0, (view, amber)
    page.locator("#findings-list .finding-label").first.click()  # the finding opens its first view
    first_view = run.result["findings"][0]["views"][0]["view"]
    expect(page.locator(f"#view-buttons button[data-view={first_view}]")).to_have_class(
        re.compile(r"\bactive\b"))
    priors = page.locator("#priors-panel")
    expect(priors).to_be_visible()
    expect(priors.locator("#priors-body tr")).to_have_count(1)  # not this study's own report
    expect(priors.locator("#priors-body tr").first).to_contain_text("2")
    screenshot(page, "study-mammography-ai")

    # Prostate: the SEG the model stored is drawn over the T2 series, at the lesion too.
    page.goto(f"{web_server.url}/studies/{mr_study.pk}/")
    expect(page.locator("#findings-list li").first).to_contain_text("AI:")
    t2 = mr_study.series.get(series_instance_uid=AnalysisRun.objects.get(
        study=mr_study, model_name="prostate").result["series"]["t2w"])
    expect(viewer).to_have_attribute("data-series-id", str(t2.pk))
    expect(viewer).to_have_attribute("data-overlays", re.compile(r"^[3-9]$"), timeout=30_000)
    page.locator("#findings-list .finding-label").first.click()  # jumps to the lesion's slice
    drawn(page)
    expect(viewer).to_have_attribute("data-overlay-slice", "1")
    assert page.evaluate(COLOURED) > 200
    screenshot(page, "study-prostate-ai")
    assert errors == []

    # The manager sees the model's recall call against the category mined from the study's report.
    dashboard = login(manager)
    dashboard.goto(f"{web_server.url}/manager/ai/")
    cells = dashboard.locator("#ai-mammo-reports tbody tr").first.locator("td")
    expect(cells.nth(0)).to_have_text("1")  # one study counted
    expect(cells.nth(1)).to_have_text("1")  # AI recall, report recall (BI-RADS 4C)
