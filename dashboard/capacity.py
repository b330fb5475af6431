"""Capacity planning: the department simulation (triage/simulation.py) fed with this
department's measured arrival rates and reading times.

What is measured, over the last ``MEASURE_DAYS`` days:

* arrivals per hour of the day (the simulation's arrival profile and daily volume);
* the case mix: each study is mapped to the nearest simulated study type (``sim_type_for``);
* the mean reading time per type (claim to signature), where at least ``MIN_TIMED_READS`` reads
  were timed; otherwise the simulation's documented default for that type.

What stays a default (docs/simulation.md): order priorities and locations per type, prevalence of
positive findings, AI sensitivity/specificity and latency, readers working around the clock.
The page says which figures are defaults.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from dashboard import selectors
from triage.priority import DEFAULT_POLICY, OrderPolicy, Target
from triage.simulation import (
    DEFAULT_CASE_MIX,
    HOURLY_PROFILE,
    MINUTES_PER_DAY,
    MISSED,
    POSITIVE,
    Design,
    SimStudy,
    StudyType,
    arrivals_per_day,
    generate_studies,
    mean_read_minutes,
    run_designs,
)

MEASURE_DAYS = 28
MIN_TIMED_READS = 20
MIN_ARRIVALS = 100
DEFAULT_LOAD = 0.9  # when nothing is measured: the simulation's reference load
REPORTED_GROUPS = ("stat", "ai_critical", "inpatient", "urgent", "routine", POSITIVE, MISSED, "all")
DEFAULT_TYPES = {t.name: t for t in DEFAULT_CASE_MIX}


def sim_type_for(modality: str, body_part: str, description: str) -> str:
    """The simulated study type nearest to a real study (by modality, body part, description)."""
    modality, text = (modality or "").upper(), f"{body_part or ''} {description or ''}".upper()
    if modality in ("CR", "DX", "XR"):
        return "chest_xr"
    if modality == "MG":
        return "mammo_screening"
    if modality == "CT":
        if "HEAD" in text or "BRAIN" in text:
            return "head_ct"
        if "CHEST" in text or "LUNG" in text or "THORAX" in text:
            screening = any(word in text for word in ("SCREEN", "LDCT", "LOW DOSE", "LOW-DOSE"))
            return "chest_ct_screening" if screening else "chest_ct_diagnostic"
        return "abdomen_ct"
    if modality == "MR" and "PROSTATE" in text:
        return "prostate_mri"
    # Other MRI and anything unknown: a no-AI type with a mid-length read.
    return "knee_mri"


@dataclass
class TypeInput:
    name: str
    share: float
    read_minutes: float
    arrivals: int
    timed_reads: int
    measured_read: bool


@dataclass
class CapacityInputs:
    days: int
    arrivals: int
    per_day: float
    hourly: list[float]  # arrivals per hour of the day
    radiologists: int
    types: list[TypeInput]
    notes: list[str] = field(default_factory=list)
    measured_arrivals: bool = False  # rates and case mix from this department (else the simulation's defaults)
    measured_radiologists: bool = False  # readers who signed reports in the last 7 days (else assumed)

    @property
    def case_mix(self) -> tuple[StudyType, ...]:
        return tuple(replace(DEFAULT_TYPES[t.name], share=t.share, read_minutes=t.read_minutes)
                     for t in self.types if t.share > 0)

    @property
    def mean_read_minutes(self) -> float:
        return mean_read_minutes(self.case_mix)

    def utilisation(self, *, radiologists: int, volume: float = 1.0) -> float:
        return self.per_day * volume * self.mean_read_minutes / (radiologists * MINUTES_PER_DAY)

    def as_dict(self) -> dict:
        return {
            "days": self.days, "arrivals": self.arrivals, "per_day": self.per_day, "hourly": self.hourly,
            "radiologists": self.radiologists, "mean_read_minutes": self.mean_read_minutes,
            "utilisation": self.utilisation(radiologists=self.radiologists),
            "types": [t.__dict__ for t in self.types], "notes": self.notes,
            "measured_arrivals": self.measured_arrivals, "measured_radiologists": self.measured_radiologists,
            "measured_read_types": sum(1 for t in self.types if t.share > 0 and t.measured_read),
            "read_types": sum(1 for t in self.types if t.share > 0),
        }


def capacity_inputs(*, window: selectors.Window | None = None) -> CapacityInputs:
    """Measure arrivals, case mix and reading times; fall back to defaults where data is thin."""
    window = window or selectors.window_last(MEASURE_DAYS)
    days = max(1, round((window.until - window.since).total_seconds() / 86400))
    arrivals: dict[str, int] = defaultdict(int)
    timed: dict[str, int] = defaultdict(int)
    minutes: dict[str, float] = defaultdict(float)
    for row in selectors.reading_by_protocol(window=window):
        name = sim_type_for(row["modality"], row["body_part"], row["study_description"])
        arrivals[name] += row["arrivals"]
        timed[name] += row["timed_reads"]
        minutes[name] += row["reading_minutes_total"]
    total = sum(arrivals.values())
    radiologists = selectors.active_radiologists(window=selectors.window_last(7, until=window.until))
    notes: list[str] = []
    measured_radiologists = radiologists >= 1
    if not measured_radiologists:
        radiologists = 4
        notes.append("No reports signed in the last 7 days: 4 radiologists assumed (a default, not measured).")

    if total < MIN_ARRIVALS:
        notes.append(f"Only {total} arrivals in the last {days} days (need {MIN_ARRIVALS}): the simulation's "
                     f"default case mix, daily profile and a volume at {DEFAULT_LOAD:.0%} load are used.")
        per_day = arrivals_per_day(load=DEFAULT_LOAD, radiologists=radiologists)
        profile = np.asarray(HOURLY_PROFILE) / np.mean(HOURLY_PROFILE)
        hourly = [float(per_day / 24 * p) for p in profile]
        shares = {t.name: t.share for t in DEFAULT_CASE_MIX}
    else:
        hourly = selectors.arrivals_by_hour_of_day(window=window)
        per_day = float(sum(hourly))
        shares = {t.name: arrivals[t.name] / total for t in DEFAULT_CASE_MIX}

    types, defaulted = [], []
    for default in DEFAULT_CASE_MIX:
        measured = timed[default.name] >= MIN_TIMED_READS
        read = minutes[default.name] / timed[default.name] if measured else default.read_minutes
        if not measured and shares[default.name] > 0:
            defaulted.append(f"{default.name} ({timed[default.name]} timed reads)")
        types.append(TypeInput(default.name, shares[default.name], read, arrivals[default.name],
                               timed[default.name], measured))
    if defaulted:
        notes.append(f"Default reading times (fewer than {MIN_TIMED_READS} timed reads): {', '.join(defaulted)}.")
    notes.append("Defaults always: order priorities per type, prevalence of positive findings, AI sensitivity and "
                 "specificity 0.9/0.9 (scores from a binormal ROC), readers working around the clock "
                 "(docs/simulation.md).")
    return CapacityInputs(days=days, arrivals=total, per_day=per_day, hourly=hourly, radiologists=radiologists,
                          types=types, notes=notes, measured_arrivals=total >= MIN_ARRIVALS,
                          measured_radiologists=measured_radiologists)


def measured_arrivals(*, inputs: CapacityInputs, days: int, seed: int, volume: float = 1.0) -> list[SimStudy]:
    """Arrivals at the measured hourly rates, by thinning the simulation's own Poisson stream.

    ``generate_studies`` draws arrivals from a fixed daily profile. We ask it for a stream at least
    as dense as the measured rate in every hour, then keep each study with probability
    measured / generated for its hour: a thinned Poisson process is a Poisson process with the
    thinned rate, and every other draw (type, order, AI result) is the simulation's own."""
    profile = np.asarray(HOURLY_PROFILE, dtype=float)
    profile = profile / profile.mean()
    target = np.asarray(inputs.hourly, dtype=float) * volume
    generated_per_day = float(np.max(target * 24 / profile)) or 1.0
    generated = generated_per_day / 24 * profile
    keep = np.clip(target / generated, 0.0, 1.0)
    stream = generate_studies(days=days, per_day=generated_per_day, seed=seed, case_mix=inputs.case_mix)
    rng = np.random.default_rng(seed + 7919)
    kept = [s for s in stream if rng.random() < keep[int(s.arrived // 60) % 24]]
    return [replace(s, id=i) for i, s in enumerate(kept)]


def _group_row(stats, policy: str) -> dict:
    def number(value: float) -> float | None:
        return None if value is None or math.isnan(value) else float(value)

    return {
        "group": stats.group, "policy": policy, "n": stats.n, "unread": stats.unread,
        "start_median_minutes": number(stats.start_median),
        "start_p95_minutes": number(stats.start_p95),
        "start_p99_minutes": number(stats.start_p99),
        "start_max_minutes": number(stats.start_max),
        "report_median_minutes": number(stats.report_median),
        "report_p95_minutes": number(stats.report_p95),
        "report_p99_minutes": number(stats.report_p99),
        "report_max_minutes": number(stats.report_max),
        "within_target": number(stats.within_target),
    }


def capacity_plan(*, inputs: CapacityInputs, targets: dict[str, Target], radiologists: int | None = None,
                  days: int = 7, seed: int = 1, volume_growth: float = 0.3,
                  policy: OrderPolicy = DEFAULT_POLICY) -> dict:
    """Run the scenarios: as measured, one radiologist more, one fewer, and more volume, each
    under FIFO and under triage (the live targets, age ceilings and ageing policy) on the
    identical arrival stream. Groups are by the class each study truly needed; each has the
    median, p95, p99 and maximum wait to start and to report."""
    readers = radiologists or inputs.radiologists
    scenarios = [("As measured", readers, 1.0), ("One radiologist more", readers + 1, 1.0)]
    if readers > 1:
        scenarios.append(("One radiologist fewer", readers - 1, 1.0))
    scenarios.append((f"Volume +{volume_growth:.0%}", readers, 1.0 + volume_growth))
    out = []
    for name, n, volume in scenarios:
        studies = measured_arrivals(inputs=inputs, days=days, seed=seed, volume=volume)
        _, stats = run_designs(studies, radiologists=n, policies=["fifo", Design("triage", policy)],
                               targets=targets)
        groups = []
        for policy_name in ("fifo", "triage"):
            groups += [_group_row(g, policy_name) for g in stats[policy_name] if g.group in REPORTED_GROUPS]
        utilisation = inputs.utilisation(radiologists=n, volume=volume)
        out.append({
            "scenario": name, "radiologists": n, "volume": volume, "studies": len(studies),
            "utilisation": utilisation, "overloaded": utilisation >= 1.0, "groups": groups,
        })
    return {"days": days, "seed": seed, "inputs": inputs.as_dict(), "scenarios": out}
