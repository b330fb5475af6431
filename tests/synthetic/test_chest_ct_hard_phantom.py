"""The chest CT generator's hard phantom: fissures, benign perifissural nodules and emphysema, drawn
from a stream of their own so the default scan's anatomy, nodules and granulomas are unchanged."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from inference.synthetic import generate_study

KW = {"matrix": 256, "n_nodules": 2, "n_granulomas": 1}


@functools.cache
def study(phantom: str = "default", seed: int = 21):
    return generate_study("chest_ct", seed=seed, phantom=phantom, **KW)


def hu(s) -> np.ndarray:
    return np.stack([ds.pixel_array.astype(np.float32) + float(ds.RescaleIntercept) for ds in s.datasets])


def voxel(s, point_mm) -> tuple[int, int, int]:
    g = s.truth["geometry"]
    ipp, dy = np.array(g["first_ipp"]), g["pixel_spacing_mm"][0]
    p = np.asarray(point_mm)
    return (int(round((p[2] - ipp[2]) / g["slice_step_mm"][2])), int(round((p[1] - ipp[1]) / dy)),
            int(round((p[0] - ipp[0]) / dy)))


def test_the_hard_phantom_keeps_the_default_truth_and_adds_benign_perifissural_nodules():
    default, hard = study(), study("hard")
    assert default.truth["emphysema"] is None and default.truth["params"]["phantom"] == "default"
    assert hard.truth["lesions"] == default.truth["lesions"] and hard.truth["lesions"]
    granulomas = [m for m in hard.truth["benign_mimics"] if m["type"] == "calcified_granuloma"]
    assert granulomas == default.truth["benign_mimics"]
    pfn = [m for m in hard.truth["benign_mimics"] if m["type"] == "perifissural_nodule"]
    assert 1 <= len(pfn) <= 3
    assert all(m["benign"] and 3.0 <= m["long_axis_mm"] <= 9.0 and m["thickness_mm"] < m["short_axis_mm"]
               for m in pfn)
    h, d = hu(hard), hu(default)
    for m in pfn:  # solid in the hard scan, lung where the default scan has nothing
        k, j, i = voxel(hard, m["center_mm"])
        assert h[k, j, i] > -350, m
        assert d[k, j - 1:j + 2, i - 1:i + 2].mean() < -600, m


def test_emphysema_lucencies_darken_the_lung():
    default, hard = study(), study("hard")
    assert hard.truth["emphysema"]["lucencies"] >= 30
    h, d = hu(hard), hu(default)
    darker = []
    for e in hard.truth["emphysema"]["regions"]:
        if e["diameter_mm"] < 6:
            continue
        k, j, i = voxel(hard, e["center_mm"])
        if d[k, j, i] > -700:  # on a vessel or nodule the default scan drew: left as it is
            continue
        darker.append(h[k, j - 1:j + 2, i - 1:i + 2].mean() - d[k, j - 1:j + 2, i - 1:i + 2].mean())
    assert len(darker) >= 5 and np.median(darker) < -60


def test_an_unknown_phantom_is_refused():
    with pytest.raises(ValueError, match="phantom"):
        generate_study("chest_ct", seed=1, matrix=64, slices=8, phantom="harder")
