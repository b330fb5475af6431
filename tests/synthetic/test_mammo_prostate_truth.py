"""Mammography and prostate MRI lesions are where the truth says, measured from the pixels."""

from __future__ import annotations

import numpy as np
import pytest

from inference.synthetic import generate_study
from inference.synthetic.prostate_mri import prostate_masks


@pytest.fixture(scope="module")
def mammo():
    return generate_study("mammography", seed=21, matrix="small", n_lesions=2)


def test_mammography_has_four_standard_views(mammo):
    views = sorted((ds.ImageLaterality, ds.ViewPosition) for ds in mammo.datasets)
    assert views == [("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO")]
    assert all(ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.2" for ds in mammo.datasets)


def test_mammography_lesion_is_bright_where_truth_says_in_both_views(mammo):
    pixels = {f"{ds.ImageLaterality}{ds.ViewPosition}": ds.pixel_array.astype(float) for ds in mammo.datasets}
    assert mammo.truth["lesions"]
    for lesion in mammo.truth["lesions"]:
        side = lesion["breast"]
        assert set(lesion["views"]) == {f"{side}CC", f"{side}MLO"}
        depths = []
        for view, where in lesion["views"].items():
            img = pixels[view]
            x0, y0, x1, y1 = (int(round(v)) for v in where["bbox_px"])
            inside = img[y0:y1 + 1, x0:x1 + 1]
            cx, cy = (int(round(v)) for v in where["center_px"])
            ring = img[max(cy - 3 * (y1 - y0), 0):cy + 3 * (y1 - y0), max(cx - 3 * (x1 - x0), 0):cx + 3 * (x1 - x0)]
            # The brightest part of the box beats the surroundings' typical level by a clear margin.
            assert np.percentile(inside, 98) > np.median(ring) + 300, (lesion["type"], view)
            chest_wall_col = 0 if view[0] == "L" else img.shape[1] - 1  # R views hang chest wall right
            depths.append(abs(where["center_px"][0] - chest_wall_col))
        assert abs(depths[0] - depths[1]) < 1.0, "same depth from the chest wall in CC and MLO"


def test_mammography_normal_case_has_no_lesions():
    study = generate_study("mammography", seed=4, matrix="small", n_lesions=0)
    assert study.truth["lesions"] == [] and study.truth["density"] in "abcd"


@pytest.fixture(scope="module")
def prostate():
    return generate_study("prostate_mri", seed=8, t2_matrix=128, n_lesions=2)


def _series(study, number: int, b: int | None = None) -> np.ndarray:
    items = [ds for ds in study.datasets if ds.SeriesNumber == number
             and (b is None or int(ds.DiffusionBValue) == b)]
    return np.stack([ds.pixel_array.astype(float) for ds in sorted(items, key=lambda d: d.InstanceNumber)])


def test_prostate_lesion_adc_low_and_high_b_bright(prostate):
    assert prostate.truth["lesions"]
    masks = prostate_masks(prostate.truth, "dwi")
    adc = _series(prostate, 6)
    high_b = _series(prostate, 5, 1400)
    for lesion in prostate.truth["lesions"]:
        m = masks[f"lesion_{lesion['id']}"]
        zone = masks[lesion["zone"]] & ~m
        assert m.any() and zone.any()
        assert np.median(adc[m]) < 0.8 * np.median(adc[zone])
        assert abs(np.median(adc[m]) - lesion["adc_um2_s"]) < 250
        assert np.median(high_b[m]) > np.median(high_b[zone])


def test_prostate_lesion_dark_on_t2(prostate):
    masks = prostate_masks(prostate.truth, "t2w")
    t2 = _series(prostate, 3)
    for lesion in prostate.truth["lesions"]:
        m = masks[f"lesion_{lesion['id']}"]
        assert np.median(t2[m]) < np.median(t2[masks[lesion["zone"]] & ~m])


def test_zone_masks_match_gland_volume(prostate):
    masks = prostate_masks(prostate.truth, "t2w")
    geo = prostate.truth["geometry"]["t2w"]
    voxel_ml = geo["pixel_spacing_mm"][0] * geo["pixel_spacing_mm"][1] * abs(geo["slice_step_mm"][2]) / 1000
    volume = masks["gland"].sum() * voxel_ml
    expected = prostate.truth["anatomy"]["gland_volume_ml"]
    assert abs(volume - expected) < 0.12 * expected
    assert not (masks["pz"] & masks["tz"]).any()
    assert ((masks["pz"] | masks["tz"]) == masks["gland"]).all()
    assert masks["pz"].sum() > 0 and masks["tz"].sum() > 0
