"""Turnaround statistics against numbers worked out by hand."""

from datetime import timedelta

import pytest

from dashboard import selectors
from dashboard.selectors import Window, percentile_cont
from tests.dashboard.helpers import NOW, open_study, reported_study
from worklist.models import AuditEvent

pytestmark = pytest.mark.django_db

WINDOW = Window(since=NOW - timedelta(days=7), until=NOW)


@pytest.fixture
def reports():
    # Routine, target 4 days (5760 min); turnarounds 10, 20, 30, 40, 100 min, all within target
    # except the one we give a 35-minute due time.
    for turnaround in (10, 20, 30, 100):
        reported_study(arrived_minutes_ago=600, turnaround=turnaround, modality="CR")
    reported_study(arrived_minutes_ago=600, turnaround=40, target=35, modality="CR")
    # STAT, target 60 min: 30 (within) and 90 (breach).
    reported_study(arrived_minutes_ago=300, turnaround=30, requested_priority="STAT", modality="CT")
    reported_study(arrived_minutes_ago=300, turnaround=90, requested_priority="STAT", modality="CT")
    # Outside the window (signed 8 days ago): must not count.
    reported_study(arrived_minutes_ago=8 * 1440 + 60, turnaround=5, modality="CR")


def test_percentile_cont_interpolates_like_postgresql():
    # Sorted 10 20 30 40 100. Median: rank 0.5 x 4 = 2 -> 30.
    # P90: rank 0.9 x 4 = 3.6 -> 40 + 0.6 x (100 - 40) = 76.
    assert percentile_cont([100, 10, 40, 20, 30], 0.5) == 30
    assert percentile_cont([100, 10, 40, 20, 30], 0.9) == pytest.approx(76)
    # Two values 30, 90: median 60; P90 = 30 + 0.9 x 60 = 84.
    assert percentile_cont([30, 90], 0.9) == pytest.approx(84)
    assert percentile_cont([7], 0.9) == 7
    assert percentile_cont([], 0.5) is None


def test_turnaround_by_class_gives_median_p90_and_share_within_target(reports):
    rows = {r["key"]: r for r in selectors.turnaround_by(group="urgency", window=WINDOW)}
    assert list(rows) == ["stat", "routine"]  # by class rank: STAT first
    routine, stat = rows["routine"], rows["stat"]
    assert routine["n"] == 5
    assert routine["median_minutes"] == pytest.approx(30)
    assert routine["p90_minutes"] == pytest.approx(76)
    assert routine["mean_minutes"] == pytest.approx(40)  # (10 + 20 + 30 + 40 + 100) / 5
    assert routine["within_target"] == 4 and routine["within_target_share"] == pytest.approx(0.8)  # 4 of 5
    assert routine["target_minutes"] == 4 * 24 * 60
    assert stat["n"] == 2
    assert stat["median_minutes"] == pytest.approx(60)
    assert stat["p90_minutes"] == pytest.approx(84)
    assert stat["within_target_share"] == pytest.approx(0.5)  # 30 min within 60, 90 min not
    assert stat["label"] == "STAT"


def test_turnaround_by_modality_and_by_day(reports):
    by_modality = {r["key"]: r for r in selectors.turnaround_by(group="modality", window=WINDOW)}
    assert by_modality["CR"]["n"] == 5 and by_modality["CT"]["n"] == 2
    assert by_modality["CT"]["median_minutes"] == pytest.approx(60)
    # Everything was signed today (arrived 10 h and 5 h before noon, read within 100 min).
    by_day = selectors.turnaround_by(group="day", window=WINDOW)
    assert [r["key"] for r in by_day] == ["2025-03-10"]
    # All seven: 10 20 30 30 40 90 100 -> median 30 (rank 3); P90 rank 5.4 -> 90 + 0.4 x 10 = 94.
    assert by_day[0]["n"] == 7
    assert by_day[0]["median_minutes"] == pytest.approx(30)
    assert by_day[0]["p90_minutes"] == pytest.approx(94)
    only_ct = selectors.turnaround_by(group="urgency", window=WINDOW, modality="CT")
    assert [r["key"] for r in only_ct] == ["stat"]


def test_the_python_fallback_matches_the_database(reports, monkeypatch):
    in_db = selectors.turnaround_by(group="urgency", window=WINDOW)
    monkeypatch.setattr(selectors, "_is_postgres", lambda: False)
    in_python = selectors.turnaround_by(group="urgency", window=WINDOW)
    assert [r["key"] for r in in_python] == [r["key"] for r in in_db]
    for db_row, python_row in zip(in_db, in_python, strict=True):
        assert python_row["median_minutes"] == pytest.approx(db_row["median_minutes"])
        assert python_row["p90_minutes"] == pytest.approx(db_row["p90_minutes"])
        assert python_row["within_target_share"] == db_row["within_target_share"]


def test_breaches_list_late_reports_and_open_overdue_studies(reports, api_as, manager):
    overdue = open_study(arrived_minutes_ago=120, due_in=-60, requested_priority="STAT", patient_name="LATE^OPEN")
    open_study(arrived_minutes_ago=5, due_in=55)  # open but not yet due: no breach
    rows = selectors.turnaround_breaches(window=WINDOW, now=NOW)
    # Late: routine 40 min against 35 (5 over), STAT 90 against 60 (30 over); open 60 over now.
    assert [round(r["minutes_over"]) for r in rows] == [60, 30, 5]
    assert rows[0]["id"] == overdue.pk and rows[0]["open"] and rows[0]["turnaround_minutes"] == pytest.approx(120)
    assert not rows[1]["open"] and rows[1]["urgency_code"] == "stat"

    response = api_as(manager).get("/api/stats/breaches/", {"days": 7, "until": NOW.isoformat()})
    assert response.status_code == 200
    assert response.json()[0]["patient_name"] == "LATE^OPEN"
    assert AuditEvent.objects.filter(action="stats.breaches", user=manager).exists()
