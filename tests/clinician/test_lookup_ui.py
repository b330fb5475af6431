"""In a real browser: a clinician finds a patient being read, sees the signed report arrive live and
acknowledges its critical result; the radiologist side sees the acknowledgement arrive live."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from reporting.models import CriticalResult
from reporting.reading import report_sign
from tests.clinician.conftest import make_patient_study
from tests.integration.helpers import session_cookie
from tests.support.reading import images_viewed
from tests.ui.conftest import screenshot
from worklist.services import study_claim

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def in_another_thread(function, *args, **kwargs):
    # Playwright keeps an event loop in the test thread; the signing (and its after-commit push
    # over the channel layer) runs where async_to_sync is allowed, on its own connection.
    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)


def test_a_clinician_follows_a_study_to_its_signed_report_and_acknowledges_the_critical_result(
        login, web_server, clinician_a, radiologist):
    study = make_patient_study(patient_id="PUI-1", patient_name="Müller^Anna", accession_number="ACC-UI-7",
                               referring_physician="HADDAD^SAMIR^^DR")
    study_claim(study_id=study.pk, user=radiologist)
    images_viewed(study, radiologist)  # the signing guard asks that the reader saw the images

    clinician = login(clinician_a)
    clinician.goto(web_server.url + "/clinician/")
    clinician.fill("input[name=q]", "Müller")
    clinician.press("input[name=q]", "Enter")
    row = clinician.locator("#results tr", has_text="Müller, Anna")
    expect(row.locator(".state")).to_have_text("Being read")
    row.get_by_role("link", name="Müller, Anna").click()
    expect(clinician.locator("#study-state")).to_have_text("Being read")
    expect(clinician.locator("#timeline li.current .label")).to_have_text("Being read")
    expect(clinician.locator("#no-report")).to_be_visible()
    expect(clinician.locator("#connection")).to_have_text("live")

    department = login(radiologist)
    department.goto(web_server.url + "/clinician/critical-results/")
    expect(department.locator("#connection")).to_have_text("live")

    in_another_thread(report_sign, study_id=study.pk, user=radiologist,
                      fields={"findings_text": "Left apical pneumothorax, 3 cm.", "impression": "Large pneumothorax."},
                      critical=True, critical_note="Large left pneumothorax: call the ward")
    critical = CriticalResult.objects.get(study=study)

    # No reload: the websocket says the study changed and the page re-reads it.
    expect(clinician.locator("#report .report-text")).to_contain_text("Large pneumothorax.", timeout=15_000)
    expect(clinician.locator("#study-state")).to_have_text("Reported")
    banner = clinician.locator("#critical-results li.critical.open")
    expect(banner).to_contain_text("Large left pneumothorax: call the ward")
    expect(clinician.locator("#report a", has_text="version 1")).to_have_attribute(
        "href", f"/api/clinician/studies/{study.pk}/report/v1.pdf")
    screenshot(clinician, "clinician-study")

    dept_row = department.locator(f"#department-critical tr[data-critical-id='{critical.pk}']")
    expect(dept_row.locator(".ack")).to_have_text("not yet", timeout=15_000)

    banner.get_by_role("button", name="Acknowledge").click()
    expect(clinician.locator("#critical-results .acknowledged")).to_contain_text("Acknowledged by Samir Haddad")

    expect(dept_row.locator(".ack")).to_contain_text("Acknowledged by Samir Haddad", timeout=15_000)
    screenshot(department, "clinician-critical-acknowledged")
    cookie = session_cookie(radiologist)
    listed = requests.get(web_server.url + "/api/clinician/critical-results/",
                          cookies={settings.SESSION_COOKIE_NAME: cookie}, timeout=10).json()
    assert listed[0]["id"] == critical.pk and listed[0]["acknowledged_by"] == "Samir Haddad"
    critical.refresh_from_db()
    assert critical.acknowledged_by == clinician_a and critical.acknowledged_at is not None
