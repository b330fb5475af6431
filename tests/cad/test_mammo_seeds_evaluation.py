"""evaluate_model mammography --seeds: figures per seed, their mean and a pooled bootstrap interval,
with benign-mimic cases counted as negatives and marks on mimics counted (unit level, hand-made cases)."""

from __future__ import annotations

import numpy as np
import pytest

from inference.cad.mammography.evaluate import (
    CaseResult,
    bootstrap_figures,
    case_figures,
    mimic_marks,
    mimic_type_lines,
    seeds_table,
)

BOX = {"LCC": [100, 100, 140, 140], "LMLO": [100, 200, 140, 240]}
OTHER = {"LCC": [300, 300, 330, 330]}


def case(seed, group, suspicion, *, malignant=False, benign=False, marks=()):
    truth = [{"type": "mass_spiculated", "breast": "L", "size_mm": 10, "views": BOX}] if malignant else []
    mimics = [{"type": "cyst", "breast": "L", "size_mm": 10, "views": OTHER if malignant else BOX}] if benign else []
    lesions = [(p, "mass", "L", [(view, c, r)]) for p, view, c, r in marks]
    return CaseResult(seed=seed, density="b", predicted_density="b", suspicion=suspicion, truth=truth,
                      lesions=lesions, benign=mimics, seed_group=group)


@pytest.fixture
def results():
    return [
        # seed group 1: two positives, one benign-only case recalled (a mark on its cyst), one clean normal
        case(1, 1, 0.9, malignant=True, marks=[(0.9, "LCC", 120, 120)]),
        case(2, 1, 0.7, malignant=True, benign=True, marks=[(0.7, "LCC", 310, 310), (0.2, "LCC", 120, 120)]),
        case(3, 1, 0.8, benign=True, marks=[(0.8, "LCC", 110, 130), (0.8, "LMLO", 110, 210)]),
        case(4, 1, 0.1),
        # seed group 2: one positive missed, two benign-only cases not recalled
        case(5, 2, 0.3, malignant=True),
        case(6, 2, 0.2, benign=True, marks=[(0.2, "LCC", 120, 120)]),
        case(7, 2, 0.1, benign=True),
    ]


def test_marks_on_mimics_count_only_at_the_threshold_and_not_on_a_finding_that_needs_recall(results):
    assert mimic_marks(results[2], 0.5) == 2  # both views of the cyst
    assert mimic_marks(results[1], 0.5) == 1  # the mark on the cyst beside the cancer
    assert mimic_marks(results[5], 0.5) == 0  # below the threshold
    overlapping = case(8, 1, 0.9, malignant=True, marks=[(0.9, "LCC", 120, 120)])
    overlapping.benign = [{"type": "cyst", "breast": "L", "size_mm": 10, "views": BOX}]
    assert mimic_marks(overlapping, 0.5) == 0


def test_case_figures_treat_benign_only_cases_as_negative(results):
    f = case_figures(results, 0.5)
    assert (f["cases"], f["positive"], f["benign_only"], f["mimics"]) == (7, 3, 3, 4)
    assert f["sensitivity"] == pytest.approx(2 / 3)
    assert f["specificity"] == pytest.approx(3 / 4)
    assert f["recall_benign_only"] == pytest.approx(1 / 3)
    assert f["mimic_marks_per_case"] == pytest.approx(3 / 7)
    # AUC: positives 0.9, 0.7, 0.3 against negatives 0.8, 0.1, 0.2, 0.1 -> 10 of 12 pairs.
    assert f["auc"] == pytest.approx(10 / 12)


def test_seeds_table_has_each_seed_their_mean_and_a_pooled_interval(results):
    lines = seeds_table(results, 0.5, [1, 2])
    first, second = case_figures(results[:4], 0.5), case_figures(results[4:], 0.5)
    assert lines[2].startswith("| 1 | 4 (2 / 1) | 0.750 |")  # 3 of 4 pairs
    assert lines[3].startswith("| 2 | 3 (1 / 2) | 1.000 |")
    mean_row = lines[4]
    assert mean_row.startswith("| **mean of 2 seeds** | 7 (3 / 3) |")
    assert f"**{(first['auc'] + second['auc']) / 2:.3f}**" in mean_row
    assert f"**{(first['recall_benign_only'] + second['recall_benign_only']) / 2:.3f}**" in mean_row
    assert lines[5].startswith("| pooled, 95 % CI (bootstrap over cases) | | 0.833 (")


def test_bootstrap_interval_holds_the_pooled_figure_and_is_reproducible(results):
    many = results * 6
    f = case_figures(many, 0.5)
    ci = bootstrap_figures(many, 0.5, rounds=300)
    for key, (low, high) in ci.items():
        assert low <= f[key] <= high, key
        assert high > low, key
    assert ci == bootstrap_figures(many, 0.5, rounds=300)
    assert np.isfinite(ci["recall_benign_only"][0])


def test_mimic_type_lines_count_marked_mimics(results):
    lines = mimic_type_lines(results, 0.5)
    assert lines[2] == "| cyst | 4 | 2 (0.50) |"
