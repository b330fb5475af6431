"""The hard mammography phantom: every benign mimic is drawn where the truth says and is benign in
the truth, a case with mimics only is negative, the parenchyma has a power-law spectrum, exposure
varies per case, the vendor profile changes the pixels and not the truth, and the default phantom
draws exactly what it always drew."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from inference.synthetic import generate_study
from inference.synthetic.mammography import BENIGN_TYPES, HARD_LESION_TYPES, power_law_texture

# sha256 of the pixels of seed 21, small matrix, two lesions, as generated before the hard phantom existed.
DEFAULT_SEED_21 = "863b533c922a00ecb911a952f643bafdd48d61a3233bed537f9798050fecc09a"


def pixels(study) -> dict[str, np.ndarray]:
    return {f"{ds.ImageLaterality}{ds.ViewPosition}": ds.pixel_array.astype(float) for ds in study.datasets}


def test_the_default_phantom_is_unchanged():
    study = generate_study("mammography", seed=21, matrix="small", n_lesions=2)
    assert hashlib.sha256(b"".join(ds.PixelData for ds in study.datasets)).hexdigest() == DEFAULT_SEED_21
    assert all(lesion["malignant"] for lesion in study.truth["lesions"])
    assert study.truth["benign_findings"] == []


@pytest.mark.parametrize("kind", BENIGN_TYPES)
def test_each_benign_mimic_is_benign_in_the_truth_and_drawn_inside_its_box_on_both_views(kind):
    without = generate_study("mammography", seed=33, matrix="small", phantom="hard", n_lesions=0, n_benign=0)
    study = generate_study("mammography", seed=33, matrix="small", phantom="hard", n_lesions=0, n_benign=1,
                           benign_types=(kind,))
    # Benign only: a negative case for BI-RADS recall.
    assert study.truth["lesions"] == [] and study.truth["normal"] is True
    [mimic] = study.truth["benign_findings"]
    assert mimic["type"] == kind and mimic["malignant"] is False
    side = mimic["breast"]
    assert set(mimic["views"]) == {f"{side}CC", f"{side}MLO"}
    before, after = pixels(without), pixels(study)
    for name, img in after.items():
        diff = np.abs(img - before[name])
        if name not in mimic["views"]:
            assert diff.max() == 0, "the mimic is drawn in its own breast only"
            continue
        x0, y0, x1, y1 = mimic["views"][name]["bbox_px"]
        pad = 0.25 * max(x1 - x0, y1 - y0)
        rows, cols = np.mgrid[0:img.shape[0], 0:img.shape[1]]
        box = (cols >= x0 - pad) & (cols <= x1 + pad) & (rows >= y0 - pad) & (rows <= y1 + pad)
        assert diff.max() > 100, (kind, name)
        assert diff[box].sum() >= 0.9 * diff.sum(), (kind, name, diff[box].sum() / diff.sum())


def test_hard_phantom_suspicious_findings_are_malignant_and_include_architectural_distortion():
    kinds = set()
    for seed in range(40):
        truth = generate_study("mammography", seed=seed, matrix="small", phantom="hard", n_lesions=2).truth
        for lesion in truth["lesions"]:
            assert lesion["malignant"] is True and lesion["type"] in HARD_LESION_TYPES
            kinds.add(lesion["type"])
        assert all(b["malignant"] is False and b["type"] in BENIGN_TYPES for b in truth["benign_findings"])
        if kinds == set(HARD_LESION_TYPES):
            break
    assert kinds == set(HARD_LESION_TYPES)


def test_parenchyma_has_a_power_law_spectrum_with_beta_about_three():
    field = power_law_texture(np.random.default_rng(5), 256, 256)
    power = np.abs(np.fft.fft2(field)) ** 2
    f = np.sqrt(np.fft.fftfreq(256)[:, None] ** 2 + np.fft.fftfreq(256)[None, :] ** 2)
    bands = np.geomspace(4 / 256, 0.4, 12)
    centres, means = [], []
    for lo, hi in zip(bands[:-1], bands[1:], strict=True):
        ring = (f >= lo) & (f < hi)
        centres.append(np.sqrt(lo * hi))
        means.append(power[ring].mean())
    slope = np.polyfit(np.log(centres), np.log(means), 1)[0]
    assert -3.3 < slope < -2.7


def test_exposure_varies_per_case_and_the_vendor_profile_changes_pixels_not_truth():
    params = [generate_study("mammography", seed=s, matrix="small", phantom="hard").truth["params"]
              for s in range(4)]
    assert len({p["noise"] for p in params}) == 4 and len({p["contrast"] for p in params}) == 4
    assert all(12 <= p["noise"] <= 40 and 0.75 <= p["contrast"] <= 1.2 for p in params)
    a = generate_study("mammography", seed=2, matrix="small", phantom="hard", n_lesions=1)
    b = generate_study("mammography", seed=2, matrix="small", phantom="hard", n_lesions=1, vendor="B")
    assert a.truth["lesions"] == b.truth["lesions"] and a.truth["benign_findings"] == b.truth["benign_findings"]
    pa, pb = pixels(a), pixels(b)
    assert all(np.abs(pa[v] - pb[v]).mean() > 50 for v in pa)
    assert {ds.ManufacturerModelName for ds in a.datasets} != {ds.ManufacturerModelName for ds in b.datasets}


def test_unknown_phantom_or_vendor_is_refused():
    with pytest.raises(ValueError):
        generate_study("mammography", seed=1, matrix="small", phantom="harder")
    with pytest.raises(ValueError):
        generate_study("mammography", seed=1, matrix="small", vendor="Z")
