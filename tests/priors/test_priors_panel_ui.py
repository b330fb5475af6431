"""The priors panel in headless Chromium, fed the real API's answer (the page itself is the partial, served alone).

The lead's study-page UI test covers the panel inside the reading page; this one checks the rendering:
order, values, evidence in the titles, and that report text never becomes HTML.
"""

import json
import re
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.template.loader import render_to_string

from inference.models import AnalysisRun, AnalysisStatus
from priors.models import PriorReport
from priors.services import mined_fields
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.worklist.factories import make_study

pytestmark = [pytest.mark.django_db, pytest.mark.ui]

SCRIPT = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend" / "priors.js"
ORIGIN = "http://priors.test"


def add_prior(accession, day, text):
    PriorReport.objects.create(patient_id="P1", accession_number=accession, study_date=day, text=text,
                               source="imported", **mined_fields(text))


@contextmanager
def panel_page(study_id, api_body):
    """Chromium started after the database work: with the shared module-wide browser running, the test
    database was left with an extra session at teardown."""
    from playwright.sync_api import sync_playwright

    partial = render_to_string("frontend/_priors.html", {"study_id": study_id})
    html = f"<!doctype html><html><body>{partial}</body></html>"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: _serve(route, study_id, html, api_body))
            page.goto(ORIGIN + "/study")
            yield page
        finally:
            browser.close()


def _serve(route, study_id, html, api_body):
    url = route.request.url
    if url.endswith("/study"):
        route.fulfill(status=200, content_type="text/html", body=html)
    elif script := re.search(r"/frontend/([a-z-]+)(\.[0-9a-f]+)?\.js$", url):  # hashed by the static storage
        # priors.js and the modules it imports (api.js), from the source tree.
        route.fulfill(status=200, content_type="text/javascript",
                      body=(SCRIPT.parent / f"{script.group(1)}.js").read_text())
    elif url.endswith(f"/api/studies/{study_id}/priors/"):
        route.fulfill(status=200, content_type="application/json", body=json.dumps(api_body))
    else:
        route.fulfill(status=404, body="")


def test_the_panel_lists_prior_results_with_their_evidence(api_as, radiologist):
    study = make_study(modality="MG", body_part="BREAST", patient_id="P1", accession_number="NOW",
                       study_datetime=datetime(2025, 6, 1, tzinfo=UTC))
    AnalysisRun.objects.create(study=study, model_name="mammography", model_version="1", status=AnalysisStatus.DONE,
                               category="birads:0", headline="L breast: mass 12 mm")
    add_prior("OLD-1", date(2023, 5, 1), "Heterogeneously dense. BI-RADS 3. Focal asymmetry right breast.")
    add_prior("OLD-2", date(2024, 5, 1), "ACR B. Spiculated irregular mass left breast <img src=x onerror=alert(1)>. "
                                         "BIRADS: 4a")
    api_body = api_as(radiologist).get(f"/api/studies/{study.pk}/priors/").json()
    with panel_page(study.pk, api_body) as page:
        page.wait_for_selector("#priors-body tr")
        assert page.is_visible("#priors-panel")
        rows = page.locator("#priors-body tr")
        assert rows.count() == 2
        first = [rows.nth(0).locator("td").nth(i).inner_text() for i in range(4)]
        assert first[:3] == ["2024-05-01", "4A", "b"]
        assert first[3].startswith("mass L (") and "spiculated" in first[3]
        assert rows.nth(0).locator("td").nth(1).get_attribute("title") == "BIRADS: 4a"
        assert "<img" in rows.nth(0).locator(".prior-feature").get_attribute("title")
        assert page.locator("#priors-panel img").count() == 0  # report text stays text
        assert rows.nth(1).locator("td").nth(3).inner_text() == "asymmetry R (focal)"
        assert page.inner_text("#priors-ai") == "AI on this study: BI-RADS 0 (recall)"


def test_the_panel_stays_hidden_without_priors_or_mammography_ai(api_as, radiologist):
    study = make_study(modality="CT", body_part="CHEST", patient_id="P1")
    api_body = api_as(radiologist).get(f"/api/studies/{study.pk}/priors/").json()
    with panel_page(study.pk, api_body) as page:
        page.wait_for_load_state("networkidle")
        assert not page.is_visible("#priors-panel")
        assert page.locator("#priors-body tr").count() == 0
        # The script did run: it un-hid the "no earlier report" line inside the hidden panel.
        assert page.locator("#priors-empty").get_attribute("hidden") is None
