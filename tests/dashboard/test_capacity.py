"""Capacity planning: measured inputs, the thinned arrival stream and the what-if scenarios."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from dashboard import capacity
from tests.worklist.factories import make_study
from triage.simulation import DEFAULT_CASE_MIX
from worklist.models import ReadingState, Study

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("modality", "body_part", "description", "expected"), [
    ("DX", "CHEST", "CHEST PA", "chest_xr"),
    ("CT", "HEAD", "CT HEAD WITHOUT CONTRAST", "head_ct"),
    ("CT", "CHEST", "LDCT LUNG SCREENING", "chest_ct_screening"),
    ("CT", "CHEST", "CT CHEST WITH CONTRAST", "chest_ct_diagnostic"),
    ("CT", "ABDOMEN", "CT ABDOMEN PELVIS", "abdomen_ct"),
    ("MG", "BREAST", "SCREENING MAMMOGRAM", "mammo_screening"),
    ("MR", "PROSTATE", "MRI PROSTATE BIPARAMETRIC", "prostate_mri"),
    ("MR", "KNEE", "MRI KNEE", "knee_mri"),
])
def test_studies_map_to_the_nearest_simulated_type(modality, body_part, description, expected):
    assert capacity.sim_type_for(modality, body_part, description) == expected


def test_with_too_little_data_the_defaults_are_used_and_said(radiologist):
    inputs = capacity.capacity_inputs()
    assert inputs.arrivals == 0 and inputs.radiologists == 4
    # Defaults are never called measured.
    data = inputs.as_dict()
    assert data["measured_arrivals"] is False and data["measured_radiologists"] is False
    assert data["measured_read_types"] == 0
    assert any("default case mix" in note for note in inputs.notes)
    assert any("4 radiologists assumed" in note for note in inputs.notes)
    assert inputs.utilisation(radiologists=4) == pytest.approx(0.9)


def test_measured_rates_and_reading_times_feed_the_simulation(make_user):
    reader = make_user("rhea", "radiologist")
    now = timezone.now()
    # 140 chest radiographs over 28 days, all arriving in one hour of the day, each read in 3 minutes.
    hour_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    for day in range(28):
        for i in range(5):
            arrived = hour_start - timedelta(days=day) + timedelta(minutes=10 + i)
            study = make_study(arrived_at=arrived, modality="DX", body_part="CHEST", study_description="CHEST PA")
            Study.objects.filter(pk=study.pk).update(
                reading_state=ReadingState.REPORTED, reported_by=reader,
                claimed_at=arrived + timedelta(minutes=30), reported_at=arrived + timedelta(minutes=33))
    inputs = capacity.capacity_inputs()
    assert inputs.arrivals == 140
    assert inputs.per_day == pytest.approx(5)  # 140 / 28
    assert inputs.hourly[hour_start.hour] == pytest.approx(5) and sum(inputs.hourly) == pytest.approx(5)
    xr = next(t for t in inputs.types if t.name == "chest_xr")
    assert xr.measured_read and xr.read_minutes == pytest.approx(3) and xr.share == 1
    assert inputs.radiologists == 1
    data = inputs.as_dict()
    assert data["measured_arrivals"] is True and data["measured_radiologists"] is True
    assert data["measured_read_types"] == data["read_types"] == 1
    assert [t.name for t in inputs.case_mix] == ["chest_xr"]
    # 5 studies x 3 minutes / (1 reader x 1440 minutes) = 1.04 %
    assert inputs.utilisation(radiologists=1) == pytest.approx(15 / 1440)

    studies = capacity.measured_arrivals(inputs=inputs, days=40, seed=3)
    assert [s.id for s in studies] == list(range(len(studies)))
    hours = {int(s.arrived // 60) % 24 for s in studies}
    assert hours == {hour_start.hour}  # thinning keeps arrivals in the measured hour only
    # 40 days x 5 a day = 200 expected; Poisson sd about 14.
    assert 150 < len(studies) < 250
    assert {s.kind for s in studies} == {"chest_xr"}


def test_thinning_reproduces_a_flat_hourly_rate():
    inputs = capacity.CapacityInputs(days=28, arrivals=10_000, per_day=240.0, hourly=[10.0] * 24, radiologists=4,
                                     types=[capacity.TypeInput(t.name, t.share, t.read_minutes, 0, 0, False)
                                            for t in DEFAULT_CASE_MIX])
    studies = capacity.measured_arrivals(inputs=inputs, days=20, seed=5)
    per_hour = np.bincount([int(s.arrived // 60) % 24 for s in studies], minlength=24) / 20
    # 10 an hour expected in every hour; 20 days give 200 per hour, sd about 14 (0.7 per day).
    assert np.all(np.abs(per_hour - 10) < 3)
    assert len(studies) == pytest.approx(4800, rel=0.08)
    more = capacity.measured_arrivals(inputs=inputs, days=20, seed=5, volume=1.3)
    assert len(more) == pytest.approx(1.3 * 4800, rel=0.08)


def test_capacity_api_runs_the_scenarios(api_as, manager):
    response = api_as(manager).post("/api/stats/capacity/", {"days": 2, "radiologists": 3}, format="json")
    assert response.status_code == 200, response.content
    plan = response.json()
    names = [s["scenario"] for s in plan["scenarios"]]
    assert names == ["As measured", "One radiologist more", "One radiologist fewer", "Volume +30%"]
    readers = {s["scenario"]: s["radiologists"] for s in plan["scenarios"]}
    assert readers["One radiologist more"] == 4 and readers["One radiologist fewer"] == 2
    # No data: the default volume is 90 % of 4 (assumed) readers' capacity, so with 3 readers utilisation is
    # 0.9 x 4 / 3 = 1.2, with 2 readers 1.8, with 4 readers 0.9, and +30 % volume on 3 readers 1.56.
    util = {s["scenario"]: s["utilisation"] for s in plan["scenarios"]}
    assert util["As measured"] == pytest.approx(1.2) and util["One radiologist fewer"] == pytest.approx(1.8)
    assert util["One radiologist more"] == pytest.approx(0.9) and util["Volume +30%"] == pytest.approx(1.56)
    assert [s["overloaded"] for s in plan["scenarios"]] == [True, False, True, True]
    groups = {(g["group"], g["policy"]): g for g in plan["scenarios"][0]["groups"]}
    assert ("all", "fifo") in groups and ("all", "triage") in groups
    assert ("truly positive", "triage") in groups and ("positive, missed by AI", "fifo") in groups
    # The tail figures, for waits to start and to report.
    row = groups[("all", "triage")]
    for kind in ("start", "report"):
        assert row[f"{kind}_median_minutes"] <= row[f"{kind}_p95_minutes"] <= row[f"{kind}_p99_minutes"] \
            <= row[f"{kind}_max_minutes"]
    assert plan["inputs"]["measured_arrivals"] is False
