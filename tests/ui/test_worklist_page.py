"""The worklist page in a real browser: log in, watch a study arrive without reloading."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.support.dicom import c_store, tiny_ct_study
from tests.ui.conftest import screenshot

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_radiologist_sees_a_study_arrive_live(login, celery_worker, radiologist):
    page = login(radiologist)
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#worklist-body tr")).to_have_count(0)

    c_store(tiny_ct_study(patient_name="Müller^Anna", accession="ACC-UI-1", priority="STAT",
                          location="EMERGENCY DEPT"),
            host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT, called_aet=settings.ORTHANC_DICOM_AET)

    row = page.locator("#worklist-body tr", has_text="Müller, Anna")
    expect(row).to_have_count(1, timeout=20_000)
    expect(row.locator(".badge")).to_have_text("STAT")
    expect(row.locator(".ai-status")).to_contain_text("No AI for this study type", timeout=20_000)
    screenshot(page, "worklist")


def test_a_clinician_is_refused_the_worklist_and_study_pages(login, clinician, web_server):
    page = login(clinician)
    assert "/clinician/" in page.url  # sent to their own lookup page, never the department's worklist
    expect(page.locator("#worklist-table")).to_have_count(0)
    page.goto(web_server.url + "/studies/1/")
    expect(page.locator("h1")).to_have_text("Not available for your role")
