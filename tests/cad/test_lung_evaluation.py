"""The lung evaluation counts what a reader would see: split nodules, Lung-RADS per nodule, uncertainty."""

from __future__ import annotations

import pytest

from inference.cad.base import Finding
from inference.cad.lung_nodule.evaluate import (
    DUPLICATE,
    ScanResult,
    bootstrap_ci,
    category_agreement,
    cpm,
    match,
    mimic_lines,
    operating_point,
    per_nodule,
    size_bands_table,
)

NODULE = {"center_mm": [0.0, 0.0, 0.0], "long_axis_mm": 14.0, "mean_diameter_mm": 13.7, "type": "ground_glass",
          "solid_part_mm": None}


def finding(x, probability, diameter=7.2, kind="solid"):
    return Finding(centre_mm=(x, 0.0, 0.0), diameter_mm=diameter, kind=kind, probability=probability,
                   mean_diameter_mm=diameter)


def test_a_nodule_split_in_three_counts_one_hit_and_two_false_positives():
    marks = match([finding(-3, 0.9), finding(0, 0.8), finding(3, 0.7)], [NODULE])
    assert [m[1] for m in marks] == [0, DUPLICATE, DUPLICATE]
    result = ScanResult(seed=1, nodules=[NODULE], marks=marks)
    op = operating_point([result], 0.5)
    assert (op["sensitivity"], op["fp_per_scan"], op["duplicates_per_scan"]) == (1.0, 2.0, 2.0)


def test_lung_rads_is_compared_per_nodule_and_a_miss_counts_as_wrong():
    big_solid = {"center_mm": [50.0, 0, 0], "long_axis_mm": 22.0, "mean_diameter_mm": 21.5, "type": "solid",
                 "solid_part_mm": None}
    small = {"center_mm": [-50.0, 0, 0], "long_axis_mm": 5.0, "mean_diameter_mm": 4.5, "type": "solid",
             "solid_part_mm": None}
    # The 21.5 mm nodule measured as 5.1 mm: found, but Lung-RADS 2 instead of 4B.
    marks = match([finding(50, 0.9, diameter=5.1)], [big_solid, small])
    rows = per_nodule([ScanResult(seed=1, nodules=[big_solid, small], marks=marks)], 0.5)
    assert [(r["truth_category"], r["category"]) for r in rows] == [("4B", "2"), ("2", "missed")]
    assert category_agreement(rows) == (0.0, 0.0)
    table = "\n".join(size_bands_table(rows))
    assert "| ≥ 15 mm | solid | 1 | 1 | 16.40 mm | 16.40 mm | 1 |" in table


def test_the_bootstrap_interval_brackets_the_pooled_figure_and_narrows_with_more_scans():
    hit = ScanResult(seed=1, nodules=[NODULE], marks=[(0.9, 0, 14.0, "ground_glass", 13.7, None)])
    miss = ScanResult(seed=2, nodules=[NODULE], marks=[(0.9, -1, 5.0, "solid", 5.0, None)])
    few = [hit, miss] * 3
    many = [hit, miss] * 30
    low, high = bootstrap_ci(few, lambda rs: cpm(rs)[0])
    assert low <= cpm(few)[0] <= high
    low_many, high_many = bootstrap_ci(many, lambda rs: cpm(rs)[0])
    assert high_many - low_many < high - low
    assert bootstrap_ci(many, lambda rs: cpm(rs)[0]) == pytest.approx((low_many, high_many))  # seeded


def test_marks_on_benign_mimics_are_reported_per_kind():
    granuloma = {"type": "calcified_granuloma", "benign": True, "center_mm": [50.0, 0.0, 0.0], "diameter_mm": 5.0}
    fissural = {"type": "perifissural_nodule", "benign": True, "center_mm": [-50.0, 0.0, 0.0], "diameter_mm": 6.0}
    scans = [ScanResult(seed=1, nodules=[], mimics=[granuloma, fissural, fissural], mimic_marks=[0.9, 0.8, 0.1]),
             ScanResult(seed=2, nodules=[], mimics=[fissural], mimic_marks=[0.7])]
    lines = mimic_lines(scans, threshold=0.5)
    assert len(lines) == 2
    assert lines[0].startswith("| calcified granulomas (benign mimics) marked at the threshold | 1 of 1 ")
    assert lines[1].startswith("| perifissural nodules (benign mimics) marked at the threshold | 2 of 3 ")
    assert mimic_lines([ScanResult(seed=3, nodules=[])], threshold=0.5) == []
