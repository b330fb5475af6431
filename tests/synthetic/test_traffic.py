"""The modality simulator's choices: mix proportions, urgent share and Poisson arrivals."""

from __future__ import annotations

import numpy as np
import pytest

from inference.synthetic import arrivals, choose_study, department_mix, parse_duration, parse_rate
from inference.synthetic.headers import URGENT_PRIORITIES


def test_mix_proportions_over_many_draws():
    mix = department_mix("department")
    rng = np.random.default_rng(0)
    draws = [choose_study(rng, mix, urgent_share=0.2, index=i, base_seed=1).kind for i in range(20000)]
    for kind, share in mix.items():
        observed = draws.count(kind) / len(draws)
        assert abs(observed - share) < 0.015, (kind, observed, share)


def test_urgent_share_and_urgent_orders_are_urgent():
    mix = department_mix("lung")
    rng = np.random.default_rng(1)
    requests = [choose_study(rng, mix, urgent_share=0.2, index=i, base_seed=1) for i in range(5000)]
    urgent = [r for r in requests if r.urgent]
    assert abs(len(urgent) / len(requests) - 0.2) < 0.02
    assert all(r.kwargs["priority"] in URGENT_PRIORITIES for r in urgent)
    assert all(r.kwargs["priority"] not in URGENT_PRIORITIES for r in requests if not r.urgent)


def test_screening_mammography_never_urgent():
    rng = np.random.default_rng(2)
    requests = [choose_study(rng, {"mammography": 1.0}, urgent_share=1.0, index=i, base_seed=1) for i in range(200)]
    assert not any(r.urgent for r in requests)


def test_poisson_interarrival_mean_and_duration():
    rate = parse_rate("120/h")
    times = [t for t, _ in arrivals(5, rate_per_s=rate, mix=department_mix(), urgent_share=0.1, count=4000)]
    gaps = np.diff([0.0, *times])
    assert abs(gaps.mean() - 30.0) < 1.5
    assert abs(gaps.std() - 30.0) < 2.5  # exponential: sd equals mean
    within = list(arrivals(5, rate_per_s=rate, mix=department_mix(), urgent_share=0.1, duration_s=3600))
    assert all(t <= 3600 for t, _ in within) and 90 < len(within) < 150


def test_parsers():
    assert parse_rate("120/h") == pytest.approx(120 / 3600)
    assert parse_rate("2/min") == pytest.approx(2 / 60)
    assert parse_duration("10m") == 600 and parse_duration("1h") == 3600 and parse_duration("30s") == 30
    with pytest.raises(ValueError):
        parse_rate("fast")
    with pytest.raises(ValueError):
        department_mix("nonsense")


def test_seeds_differ_and_repeat():
    first = [r.seed for _, r in arrivals(3, rate_per_s=1, mix=department_mix(), urgent_share=0.2, count=50)]
    again = [r.seed for _, r in arrivals(3, rate_per_s=1, mix=department_mix(), urgent_share=0.2, count=50)]
    assert first == again and len(set(first)) == 50
