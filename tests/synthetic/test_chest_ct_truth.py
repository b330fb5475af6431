"""Chest CT nodules are where and what the truth says, measured from the pixels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from inference.synthetic import generate_study


def _hu_volume(study) -> np.ndarray:
    return np.stack([ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                     for ds in study.datasets])


@pytest.fixture(scope="module")
def ct_cases():
    studies = [generate_study("chest_ct", seed=s, matrix=256, slices=120, n_nodules=4) for s in (11, 12, 13)]
    return [(s, _hu_volume(s)) for s in studies]


def _box(vol: np.ndarray, center: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = np.maximum(np.floor(center - half).astype(int), 0)
    hi = np.minimum(np.ceil(center + half).astype(int) + 1, vol.shape)
    return vol[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], center - lo


def test_truth_records_nodules_in_every_case(ct_cases):
    for study, _ in ct_cases:
        assert study.truth["lesions"], "n_nodules=4 should place nodules"
        for n in study.truth["lesions"]:
            assert 3.0 <= n["long_axis_mm"] <= 30.0
            assert n["type"] in {"solid", "part_solid", "ground_glass"}
            assert n["attached_to"] in {"none", "vessel", "pleura"}


def test_nodule_centre_hu_matches_type(ct_cases):
    for study, vol in ct_cases:
        for n in study.truth["lesions"]:
            if n["long_axis_mm"] < 5:
                continue  # a 3x3x3 voxel core would be mostly partial volume at this matrix
            c = np.rint(n["center_voxel_zyx"]).astype(int)
            core = vol[c[0] - 1:c[0] + 2, c[1] - 1:c[1] + 2, c[2] - 1:c[2] + 2].mean()
            if n["type"] == "ground_glass":
                assert -700 < core < -300, (n, core)
            else:  # solid, or part-solid whose solid core sits at the centre
                assert -120 < core < 130, (n, core)


def test_nodule_size_measured_from_pixels(ct_cases):
    checked = 0
    for study, vol in ct_cases:
        geo = study.truth["geometry"]
        voxel_mm3 = geo["pixel_spacing_mm"][0] * geo["pixel_spacing_mm"][1] * geo["slice_spacing_mm"]
        spacing = np.array([geo["slice_spacing_mm"], *geo["pixel_spacing_mm"]])
        for n in study.truth["lesions"]:
            if n["attached_to"] != "none" or n["long_axis_mm"] < 6:
                continue  # attached nodules merge with vessel or wall when thresholded
            half = (n["long_axis_mm"] * 1.5) / spacing
            box, centre = _box(vol, np.array(n["center_voxel_zyx"]), half)
            # Threshold halfway between lung and nodule; ground glass needs smoothing against noise.
            threshold = (-860 + n["hu"]) / 2
            image = box if n["type"] == "solid" else ndimage.uniform_filter(box, 3)
            labels, _ = ndimage.label(image > threshold)
            label = labels[tuple(np.rint(centre).astype(int))]
            assert label > 0
            measured = (labels == label).sum() * voxel_mm3
            expected = n["volume_mm3"]
            assert 0.6 * expected < measured < 1.6 * expected, (n, measured)
            checked += 1
    assert checked > 0, "no free-standing nodule >= 6 mm to measure; change seeds"


def test_lung_is_air_like_and_nodule_free_case_has_no_lesions():
    study = generate_study("chest_ct", seed=5, matrix=128, slices=40, n_nodules=0)
    assert study.truth["lesions"] == [] and study.truth["normal"] is True
    vol = _hu_volume(study)
    # Lungs and outside air make a large share of the slice below -700 HU.
    assert (vol < -700).mean() > 0.3
    assert (vol > 500).any(), "bone expected"


def test_normal_share_controls_nodule_free_rate():
    free = sum(not generate_study("chest_ct", seed=s, matrix=64, slices=20, normal_share=1.0).truth["lesions"]
               for s in range(3))
    assert free == 3


def test_dose_recorded_and_low_dose_noisier():
    low = generate_study("chest_ct", seed=2, matrix=128, slices=10, protocol="screening")
    high = generate_study("chest_ct", seed=2, matrix=128, slices=10, protocol="diagnostic")
    assert low.truth["dose"]["ctdivol_mgy"] < high.truth["dose"]["ctdivol_mgy"]
    assert float(low.datasets[0].CTDIvol) == low.truth["dose"]["ctdivol_mgy"]
    air_low = low.datasets[5].pixel_array[:8, :8].astype(float).std()
    air_high = high.datasets[5].pixel_array[:8, :8].astype(float).std()
    assert air_low > air_high
