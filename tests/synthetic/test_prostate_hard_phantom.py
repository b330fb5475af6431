"""The prostate generator's hard phantom (BPH nodules, DWI distortion, T2 motion) and vendor profiles."""

from __future__ import annotations

import functools

import numpy as np

from inference.synthetic.prostate_mri import apply_motion, generate_prostate_mri, prostate_masks

SMALL = {"t2_matrix": 128, "n_lesions": 1}


@functools.cache
def study(seed: int = 9, **kwargs):  # seed 9: a stromal nodule of 10-11 mm
    datasets, truth, _ = generate_prostate_mri(seed, **SMALL, **kwargs)
    return datasets, truth


def series(datasets, number: int, b: int | None = None) -> np.ndarray:
    items = [ds for ds in datasets if ds.SeriesNumber == number and (b is None or int(ds.DiffusionBValue) == b)]
    return np.stack([ds.pixel_array.astype(float) for ds in sorted(items, key=lambda d: d.InstanceNumber)])


def test_the_hard_phantom_adds_benign_bph_nodules_in_the_transition_zone_and_keeps_the_lesions():
    _, default = study()
    datasets, hard = study(phantom="hard")
    assert default["benign_mimics"] == [] and default["distortion"] is None and default["motion"] is None
    assert hard["lesions"] == default["lesions"]  # their own random stream: anatomy and lesions unchanged
    assert all(les["benign"] is False and les["clinically_significant"] for les in hard["lesions"])
    nodules = hard["benign_mimics"]
    assert 1 <= len(nodules) <= 3
    assert all(n["type"] == "bph_nodule" and n["benign"] and not n["clinically_significant"] and n["zone"] == "tz"
               for n in nodules)
    masks = prostate_masks(hard, "t2w")
    t2 = series(datasets, 3)
    for n in nodules:
        nodule = masks[f"bph_{n['id']}"]
        assert nodule.any() and not (nodule & ~masks["tz"]).any()  # wholly inside the transition zone
        assert not any((nodule & masks[f"lesion_{les['id']}"]).any() for les in hard["lesions"])
        # Stromal nodules are dark on T2 (the mimic), glandular ones bright; both differ from the TZ.
        inside, tz = np.median(t2[nodule]), np.median(t2[masks["tz"] & ~nodule])
        assert (inside < tz) if n["subtype"] == "stromal" else (inside != tz)
    # Inside the capsule (and a DWI pixel of partial volume) the ADC is the nodule's.
    cores = [{**n, "semi_axes_mm": [max(a - n["capsule_mm"] - 1.5, 1.0) for a in n["semi_axes_mm"]]} for n in nodules]
    adc_masks, adc = prostate_masks({**hard, "benign_mimics": cores}, "adc"), series(datasets, 6)
    for n in nodules:
        assert abs(np.median(adc[adc_masks[f"bph_{n['id']}"]]) - n["adc_um2_s"]) < 250


def test_dwi_and_adc_are_distorted_along_the_phase_direction_where_the_truth_says():
    datasets, hard = study(phantom="hard")
    distortion = hard["distortion"]
    assert distortion["phase_direction"] == "AP" and abs(distortion["shift_mm"]) >= 1.5
    adc = series(datasets, 6)
    shown = prostate_masks(hard, "adc")["gland"]  # where the distorted image shows the gland
    true_place = prostate_masks({**hard, "distortion": None}, "adc")["gland"]
    assert (shown != true_place).sum() > 0.05 * true_place.sum()
    # The gland (ADC 1250-1750) sits where the distorted masks put it; where only the undistorted
    # masks put it the image shows its surround (fat, masked to 0, or rectal wall).
    assert np.mean(adc[shown & ~true_place]) > np.mean(adc[true_place & ~shown]) + 300
    assert prostate_masks(hard, "t2w")["gland"].sum() == prostate_masks({**hard, "distortion": None}, "t2w")[
        "gland"].sum()  # T2 is not distorted


def test_motion_changes_t2_everywhere_and_leaves_the_diffusion_series_alone():
    plain_datasets, plain_truth = study()
    hard_datasets, hard = study(phantom="hard")
    assert hard["motion"]["phase_direction"] == "RL" and hard["motion"]["amplitude_mm"] >= 0.5
    plain, moved = series(plain_datasets, 3), series(hard_datasets, 3)
    away = ~prostate_masks(hard, "t2w")["gland"]  # no BPH nodule there: only motion differs
    assert np.mean(np.abs(moved[away] - plain[away])) > 2.0
    assert np.array_equal(series(study()[0], 3), plain)  # and without motion nothing changes


def test_motion_ghosts_run_along_the_phase_direction_only():
    image = np.zeros((1, 64, 64), np.float32)
    image[0, 24:40, 24:40] = 1000.0
    moved = apply_motion(image, {"amplitude_mm": 2.0, "period_lines": 8.0, "jitter_mm": 0.3, "seed": 1}, 1.0)
    # Ghosts and blur spread the square along x (left-right) ...
    assert moved[0, 24:40, :20].mean() > 5.0
    # ... and never along y: rows above and below the square stay empty.
    assert np.abs(moved[0, :20, :]).max() < 1e-3 and np.abs(moved[0, 44:, :]).max() < 1e-3
    still = apply_motion(image, {"amplitude_mm": 0.0, "period_lines": 8.0, "jitter_mm": 0.0, "seed": 1}, 1.0)
    assert np.allclose(still, image, atol=1e-3)


def test_the_default_phantom_and_vendor_reproduce_the_original_study():
    first = series(study()[0], 3)
    again, truth = generate_prostate_mri(9, **SMALL, phantom="default", vendor="A")[:2]
    assert np.array_equal(first, series(again, 3))
    assert truth["params"]["phantom"] == "default" and truth["b_values"] == [50, 400, 800, 1400]


def test_vendor_b_changes_noise_contrast_and_b_values_but_not_the_anatomy():
    datasets_a, a = study()
    datasets_b, b = study(vendor="B")
    assert a["lesions"] == b["lesions"] and a["anatomy"] == b["anatomy"]
    assert b["b_values"] == [50, 500, 1000]
    assert {int(ds.DiffusionBValue) for ds in datasets_b if ds.SeriesNumber == 5} == {50, 500, 1000}
    masks = prostate_masks(a, "t2w")
    t2a, t2b = series(datasets_a, 3), series(datasets_b, 3)
    # T2 contrast between transition zone and peripheral zone is compressed under profile B.
    ratio_a = np.median(t2a[masks["pz"]]) / np.median(t2a[masks["tz"]])
    ratio_b = np.median(t2b[masks["pz"]]) / np.median(t2b[masks["tz"]])
    assert ratio_b < ratio_a
    dwi_masks = prostate_masks(a, "adc")
    assert np.median(series(datasets_b, 6)[dwi_masks["pz"]]) > np.median(series(datasets_a, 6)[dwi_masks["pz"]])
