"""What a department sends and when: case mixes, urgent orders and Poisson arrivals.

Plain functions so the modality simulator stays a thin command and the choices can be tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .headers import LOCATION_ED, LOCATION_ICU, LOCATION_INPATIENT

# Shares of studies by kind. "department" follows a general hospital's day: many radiographs,
# chest CT with a good share of nodule-positive cases, head CT from the emergency department.
MIXES: dict[str, dict[str, float]] = {
    "department": {"chest_xr": 0.32, "chest_ct": 0.24, "head_ct": 0.14, "mammography": 0.13,
                   "prostate_mri": 0.07, "knee_mri": 0.10},
    "lung": {"chest_ct": 1.0},
    "screening": {"chest_ct": 0.5, "mammography": 0.5},
    "cad": {"chest_ct": 0.5, "mammography": 0.3, "prostate_mri": 0.2},
}
# Screening programmes do not take urgent orders.
NEVER_URGENT = frozenset({"mammography"})
URGENT_ORDERS = (("STAT", LOCATION_ED), ("STAT", LOCATION_ICU), ("HIGH", LOCATION_ED), ("HIGH", LOCATION_INPATIENT))


@dataclass(frozen=True)
class StudyRequest:
    """Everything needed to generate one study: generate_study(kind, seed=seed, **kwargs)."""

    kind: str
    seed: int
    urgent: bool
    kwargs: dict = field(default_factory=dict)


def department_mix(name: str = "department") -> dict[str, float]:
    """The named mix, normalised to sum to 1; also accepts 'kind=weight,kind=weight'."""
    if name in MIXES:
        weights = MIXES[name]
    else:
        weights = {}
        for part in name.split(","):
            kind, _, weight = part.partition("=")
            weights[kind.strip()] = float(weight or 1)
    from .generate import STUDY_KINDS

    unknown = set(weights) - set(STUDY_KINDS)
    if unknown or not weights:
        raise ValueError(f"unknown mix {name!r}: choose from {sorted(MIXES)} or kind=weight pairs of {STUDY_KINDS}")
    total = sum(weights.values())
    return {kind: w / total for kind, w in weights.items()}


def parse_rate(text: str) -> float:
    """'120/h', '2/min', '0.5/s' -> studies per second."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*/\s*(h|hr|hour|m|min|minute|s|sec|second)\s*", text)
    if not match:
        raise ValueError(f"rate must look like 120/h or 2/min, got {text!r}")
    per = {"h": 3600, "hr": 3600, "hour": 3600, "m": 60, "min": 60, "minute": 60, "s": 1, "sec": 1, "second": 1}
    return float(match.group(1)) / per[match.group(2)]


def parse_duration(text: str) -> float:
    """'10m', '1h', '30s', '90' (seconds) -> seconds."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*(h|m|min|s)?\s*", text)
    if not match:
        raise ValueError(f"duration must look like 10m, 1h or 30s, got {text!r}")
    return float(match.group(1)) * {"h": 3600, "m": 60, "min": 60, "s": 1, None: 1}[match.group(2)]


def next_interarrival(rng: np.random.Generator, rate_per_s: float) -> float:
    """Poisson arrivals have exponential gaps with mean 1/rate."""
    return float(rng.exponential(1.0 / rate_per_s))


def choose_study(rng: np.random.Generator, mix: dict[str, float], *, urgent_share: float, index: int,
                 base_seed: int, ct_matrix: int | None = None) -> StudyRequest:
    """Pick the kind, urgency and generator options of the next study."""
    kinds = list(mix)
    kind = kinds[int(rng.choice(len(kinds), p=[mix[k] for k in kinds]))]
    urgent = kind not in NEVER_URGENT and rng.random() < urgent_share
    kwargs: dict = {}
    if urgent:
        priority, location = URGENT_ORDERS[int(rng.integers(len(URGENT_ORDERS)))]
        kwargs.update(priority=priority, patient_location=location)
    else:
        kwargs.update(priority=str(rng.choice(("ROUTINE", "ROUTINE", "ROUTINE", "MEDIUM", "LOW"))))
    if kind == "chest_ct":
        kwargs["protocol"] = "diagnostic" if urgent or rng.random() < 0.3 else "screening"
        if ct_matrix:
            kwargs["matrix"] = ct_matrix
    # Seeds are spread so studies of one run never share a seed with another run's.
    return StudyRequest(kind=kind, seed=base_seed * 1_000_003 + index, urgent=urgent, kwargs=kwargs)


def arrivals(seed: int, *, rate_per_s: float, mix: dict[str, float], urgent_share: float,
             duration_s: float | None = None, count: int | None = None,
             ct_matrix: int | None = None) -> Iterator[tuple[float, StudyRequest]]:
    """(seconds since start, request) pairs until the duration or count runs out."""
    rng = np.random.default_rng(seed)
    t = 0.0
    index = 0
    while count is None or index < count:
        t += next_interarrival(rng, rate_per_s)
        if duration_s is not None and t > duration_s:
            return
        yield t, choose_study(rng, mix, urgent_share=urgent_share, index=index, base_seed=seed, ct_matrix=ct_matrix)
        index += 1
