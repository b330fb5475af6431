"""The manager's capacity and targets pages in a real browser: what is measured is called measured, defaults
are called defaults, tail figures are shown, and inconsistent targets are refused in words (issue 18)."""

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import screenshot
from triage.models import UrgencyClass

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_capacity_page_labels_defaults_and_shows_tail_figures(login, manager, web_server):
    page = login(manager)
    page.goto(web_server.url + "/manager/capacity/")
    expect(page.locator("#cap-per-day-label")).to_have_text("studies per day (default: too few arrivals measured)")
    expect(page.locator("#cap-hourly-caption")).to_contain_text("default profile")
    expect(page.locator("#cap-readers-label")).to_contain_text("assumed")
    expect(page.locator("#cap-read-label")).to_have_text("mean reading time (default)")
    for label in ("#cap-per-day-label", "#cap-readers-label", "#cap-read-label", "#cap-hourly-caption"):
        expect(page.locator(label)).not_to_contain_text("measured:")

    page.fill("#cap-form input[name=radiologists]", "1")
    page.fill("#cap-form input[name=days]", "2")
    page.click("#cap-form button[type=submit]")
    first = page.locator("#cap-results .scenario h3").first
    expect(first).to_contain_text("As measured: 1 radiologist,", timeout=120_000)
    expect(page.locator("#cap-results")).not_to_contain_text("1 radiologists")
    header = page.locator("#cap-results .scenario table thead").first
    for column in ("Wait to start: median", "p99", "max", "To report: median"):
        expect(header).to_contain_text(column)
    expect(page.locator("#cap-results .scenario table").first).to_contain_text("Positive, missed by AI")
    expect(page.locator("#cap-status")).to_contain_text("arrivals default, radiologists assumed")
    screenshot(page, "capacity")


def test_targets_page_refuses_an_urgent_target_shorter_than_stat_and_edits_ceilings(login, manager, web_server):
    page = login(manager)
    page.goto(web_server.url + "/manager/targets/")
    urgent = page.locator("#targets tbody tr[data-code=urgent]")
    expect(urgent).to_have_count(1)
    urgent.locator("input[name=target_minutes]").fill("30")
    urgent.locator("button").click()
    expect(page.locator("#targets-status")).to_contain_text(
        "Not saved: Urgent (30 min) would be shorter than STAT (1 h)")
    assert UrgencyClass.objects.get(code="urgent").target_minutes == 24 * 60

    routine = page.locator("#targets tbody tr[data-code=routine]")
    routine.locator("input[name=ceiling_minutes]").fill("60")
    routine.locator("button").click()
    expect(page.locator("#targets-status")).to_contain_text("Saved: Routine 4.0 d, age ceiling 1.0 h")
    expect(page.locator("#targets-warnings")).to_contain_text("Routine studies are moved up after 1 h")
    assert UrgencyClass.objects.get(code="routine").ceiling_minutes == 60

    page.select_option("#ageing-form select[name=mode]", "promote")
    page.click("#ageing-form button[type=submit]")
    expect(page.locator("#targets-status")).to_contain_text("Saved: ageing promote")
    expect(page.locator("#target-changes")).to_contain_text("ageing promote")
    screenshot(page, "targets")
