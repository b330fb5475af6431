"""The manager dashboard in a real browser, against the live server, a Celery worker and the websocket."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.ui.conftest import screenshot
from tests.worklist.factories import make_study
from worklist.models import ReadingState, Study

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def some_history(reader) -> None:
    """A few days of signed reports, so the turnaround and volume charts have something to show."""
    now = timezone.now()
    kinds = [("CR", "CHEST PA", "EMERGENCY DEPT", "STAT"), ("CT", "CT HEAD", "WARD 5 (INPATIENT)", "ROUTINE"),
             ("MR", "MRI KNEE", "OUTPATIENT CLINIC", "ROUTINE"), ("CT", "CT CHEST", "OUTPATIENT CLINIC", "HIGH")]
    for i in range(48):
        modality, description, location, priority = kinds[i % 4]
        arrived = now - timedelta(hours=2 + i * 1.5)
        study = make_study(modality=modality, study_description=description, patient_location=location,
                           requested_priority=priority, arrived_at=arrived, accession_number=f"H{i:03d}")
        turnaround = timedelta(minutes=20 + (i * 37) % 300)
        Study.objects.filter(pk=study.pk).update(
            reading_state=ReadingState.REPORTED, reported_by=reader, reported_at=arrived + turnaround,
            claimed_at=arrived + turnaround - timedelta(minutes=3 + i % 12))


def test_a_manager_changes_a_target_and_the_radiologists_worklist_reorders_live(
        login, celery_worker, web_server, manager, radiologist):
    now = timezone.now()
    some_history(radiologist)
    make_study(patient_name="EMERG^EMMA", requested_priority="STAT", arrived_at=now - timedelta(minutes=10),
               accession_number="UI-STAT")
    make_study(patient_name="WARD^INA", patient_location="WARD 5 (INPATIENT)", arrived_at=now - timedelta(minutes=60),
               accession_number="UI-INPATIENT")

    reader = login(radiologist)
    expect(reader.locator("#connection")).to_have_text("live")
    first_row = reader.locator("#worklist-body tr").first
    expect(first_row).to_contain_text("EMERG, EMMA")  # STAT: due in 50 min; inpatient: due in 3 h

    dashboard = login(manager)
    dashboard.goto(web_server.url + "/manager/")
    expect(dashboard.locator("#connection")).to_have_text("live")
    expect(dashboard.locator("#backlog-total")).to_have_text("2")
    expect(dashboard.locator("#backlog-overdue")).to_have_text("0")
    expect(dashboard.locator("#backlog-table tbody tr")).to_have_count(2)
    expect(dashboard.locator("#tat-class-table tbody tr").first).to_contain_text("STAT")
    assert dashboard.locator("#chart-tat-class").bounding_box()["height"] > 100
    assert not dashboard.locator("#dashboard-error").count()
    screenshot(dashboard, "dashboard")

    targets = login(manager)
    targets.goto(web_server.url + "/manager/targets/")
    # An inpatient target as short as STAT's (shorter is refused: tests/ui/test_capacity_and_targets_pages.py).
    inpatient = targets.locator("#targets tbody tr[data-code=inpatient]")
    inpatient.locator("input[name=target_minutes]").fill("60")
    inpatient.locator("button").click()
    expect(targets.locator("#targets-status")).to_contain_text("Saved: Inpatient 1.0 h")
    expect(targets.locator("#target-changes tbody tr").first).to_contain_text("inpatient: Inpatient 240 min")

    # The worker re-prioritises open studies; the inpatient study (arrived 60 min ago) is now due, before the
    # STAT one, and goes to the top of the radiologist's list, pushed over the websocket without a reload.
    expect(first_row).to_contain_text("WARD, INA", timeout=30_000)
    # The manager's backlog follows live too.
    expect(dashboard.locator("#backlog-overdue")).to_have_text("1", timeout=30_000)

    for path, canvas in (("/manager/ai/", "#chart-ai-rates"), ("/manager/capacity/", "#chart-hourly"),
                         ("/manager/dose/", "#chart-dose")):
        dashboard.goto(web_server.url + path)
        expect(dashboard.locator(canvas)).to_be_visible()
        assert not dashboard.locator("#dashboard-error").count(), path


def test_radiologists_and_clinicians_are_refused_the_manager_pages_and_apis(login, web_server, radiologist,
                                                                            clinician):
    for user in (radiologist, clinician):
        page = login(user)
        response = page.goto(web_server.url + "/manager/")
        assert response.status == 403
        expect(page.locator("h1")).to_have_text("Not available for your role")
        assert page.goto(web_server.url + "/manager/targets/").status == 403
        assert page.request.get(web_server.url + "/api/stats/backlog/").status == 403
        assert page.request.get(web_server.url + "/api/stats/export/studies.csv").status == 403
