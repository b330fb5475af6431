"""The prostate evaluation: marks on benign BPH nodules, AUCs and the mean over seeds with its interval."""

from __future__ import annotations

import pytest

from inference.cad.prostate.analysis import Lesion
from inference.cad.prostate.evaluate import (
    CaseResult,
    bootstrap_ci,
    case_auc,
    match,
    mean_over_seeds,
    mimic_auc,
    mimic_marks,
    mimics_marked,
    seeds_table,
    sensitivity_at_fp,
)

LESION = {"id": 1, "center_mm": [10.0, 0.0, 0.0], "diameter_mm": 10.0}
BPH = {"id": 1, "center_mm": [-12.0, 0.0, 0.0], "diameter_mm": 12.0, "benign": True}


def mark(x: float, probability: float) -> Lesion:
    return Lesion(centre_mm=(x, 0.0, 0.0), diameter_mm=8.0, zone="tz", location="", probability=probability,
                  volume_ml=0.2)


def case(seed: int, *, found: float | None, on_mimic: float = 0.0, elsewhere: float | None = None,
         lesions: int = 1) -> CaseResult:
    marks = ([(found, 0)] if found is not None and lesions else []) + ([(on_mimic, -1)] if on_mimic else [])
    if elsewhere is not None:
        marks.append((elsewhere, -1))
    score = max([p for p, _ in marks], default=0.0)
    return CaseResult(seed=seed, dice={"gland": 0.9, "pz": 0.8, "tz": 0.8}, volume_true_ml=30.0, volume_pred_ml=30.0,
                      lesions=lesions, marks=marks, case_score=score, mimic_marks=[on_mimic])


def test_a_mark_on_a_bph_nodule_is_a_false_positive_and_reported_against_the_nodule():
    found = [mark(10.0, 0.9), mark(-12.0, 0.7), mark(-14.0, 0.4), mark(60.0, 0.8)]
    assert match(found, [LESION]) == [(0.9, 0), (0.8, -1), (0.7, -1), (0.4, -1)]
    assert mimic_marks(found, [LESION], [BPH]) == [0.7]  # the best of the two marks on it
    assert mimic_marks([mark(10.0, 0.9)], [LESION], [BPH]) == [0.0]  # unmarked nodule scores 0
    # A mark on a lesion lying beside the nodule belongs to the lesion, not the nodule.
    touching = {**BPH, "center_mm": [4.0, 0.0, 0.0]}
    assert mimic_marks([mark(9.0, 0.9)], [LESION], [touching]) == [0.0]


def test_lesion_suspicion_against_benign_nodules_and_case_auc():
    separated = [case(1, found=0.9, on_mimic=0.3), case(2, found=0.8, on_mimic=0.2, lesions=1)]
    assert mimic_auc(separated) == 1.0
    fooled = [case(1, found=None, on_mimic=0.9), case(2, found=0.5, on_mimic=0.7)]
    assert mimic_auc(fooled) == 0.0  # a missed lesion scores 0, below every marked nodule
    # Pairs (lesion, nodule): (0, 0.3) lost, (0, 0) tied, (0.9, 0.3) and (0.9, 0) won.
    assert mimic_auc([case(1, found=None, on_mimic=0.3), case(2, found=0.9)]) == pytest.approx(0.625)
    assert mimics_marked(fooled, 0.8) == 0.5
    cases = [case(1, found=0.9), case(2, found=None, elsewhere=0.6, lesions=0), case(3, found=0.5),
             case(4, found=None, lesions=0)]
    assert case_auc(cases) == pytest.approx(0.75)  # pairs: (0.9>0.6), (0.9>0), (0.5<0.6), (0.5>0)
    assert case_auc([case(1, found=0.9)]) != case_auc([case(1, found=0.9)])  # NaN without a normal study


def test_the_mean_over_seeds_and_its_bootstrap_interval():
    seed_a = [case(1, found=0.9)] * 4  # every lesion found: sensitivity 1
    seed_b = [case(2, found=0.9), case(3, found=None)] * 2  # half found: 0.5
    groups = [seed_a, seed_b]
    assert mean_over_seeds(groups, lambda g: sensitivity_at_fp(g, 1.0)) == pytest.approx(0.75)
    low, high = bootstrap_ci(groups, lambda g: sensitivity_at_fp(g, 1.0))
    assert 0.5 <= low <= 0.75 <= high <= 1.0
    # Cases are redrawn within their own seed: every resample keeps each seed's size.
    assert bootstrap_ci(groups, lambda g: len(g)) == (4.0, 4.0)
    assert bootstrap_ci(groups, lambda g: sensitivity_at_fp(g, 1.0)) == (low, high)  # seeded
    wide = bootstrap_ci([seed_b], lambda g: sensitivity_at_fp(g, 1.0))
    narrow = bootstrap_ci([seed_b * 20], lambda g: sensitivity_at_fp(g, 1.0))
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


def test_the_seeds_table_has_a_column_per_seed_and_the_mean_with_its_interval():
    groups = {424242: [case(1, found=0.9, on_mimic=0.3)] * 3,
              424243: [case(2, found=0.9, on_mimic=0.95), case(3, found=None, on_mimic=0.1, lesions=1)] * 2}
    table = seeds_table(groups, 0.5, command="evaluate_model prostate --seeds 424242,424243", phantom="hard",
                        vendor="A")
    assert "| measure | seed 424242 | seed 424243 | **mean over seeds** (95 % CI) |" in table
    row = next(line for line in table.splitlines() if line.startswith("| Lesion sensitivity at 1 false"))
    assert row.startswith("| Lesion sensitivity at 1 false positive per case (FROC) | 1.000 | 0.500 | **0.750** (")
    marked = next(line for line in table.splitlines() if line.startswith("| BPH nodules marked, at the operating"))
    assert "| 0.000 | 0.500 | **0.250**" in marked  # 0 of 3; 2 of 4
    assert "7 studies over 2 seeds" in table and "7 benign BPH nodules" in table
