"""The chest CT generator's acquisition profiles: vendor "B" (low dose, sharp kernel) changes the
pixels and the acquisition headers, never the truth; the default profile is the original generator."""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import pytest
from scipy import ndimage

from inference.synthetic import generate_study

SMALL = {"matrix": 64, "slices": 24, "n_nodules": 2, "n_granulomas": 1}
# sha256 of the pixels of seed 21 with SMALL, as generated before the vendor profiles existed.
DEFAULT_SEED_21 = "745ba9438b3dcf4b86ce05cb6eba30d0b9a2aabe80bdcc9cff316dc24e883c3f"


@functools.cache
def study(vendor: str | None = None, seed: int = 21, **extra):
    kwargs = {**SMALL, **extra, **({"vendor": vendor} if vendor else {})}
    return generate_study("chest_ct", seed=seed, **kwargs)


def hu(s) -> np.ndarray:
    return np.stack([ds.pixel_array.astype(np.float32) + float(ds.RescaleIntercept) for ds in s.datasets])


def test_the_default_profile_reproduces_the_original_pixels():
    for s in (study(), study("A")):
        assert hashlib.sha256(b"".join(ds.PixelData for ds in s.datasets)).hexdigest() == DEFAULT_SEED_21


def test_vendor_b_changes_pixels_and_headers_not_the_truth():
    a, b = study("A"), study("B")
    for key in ("lesions", "benign_mimics", "geometry", "patient", "order", "normal"):
        assert a.truth[key] == b.truth[key], key
    assert a.truth["lesions"] and a.truth["benign_mimics"]
    assert a.study_instance_uid == b.study_instance_uid
    assert b.truth["params"]["vendor"] == "B" and a.truth["params"]["vendor"] == "A"
    assert str(a.datasets[0].ConvolutionKernel) == "B60f" and str(b.datasets[0].ConvolutionKernel) == "FC52"
    assert float(b.datasets[0].CTDIvol) < float(a.datasets[0].CTDIvol)
    assert not np.array_equal(hu(a), hu(b))


def test_vendor_b_is_noisier_and_its_noise_finer_grained():
    # A nodule-free, mimic-free scan at a size where lung fills a large flat region.
    kwargs = {"matrix": 128, "slices": 12, "n_nodules": 0, "n_granulomas": 0}
    a = hu(generate_study("chest_ct", seed=5, vendor="A", **kwargs))
    b = hu(generate_study("chest_ct", seed=5, vendor="B", **kwargs))

    def flat_lung(v):  # lung parenchyma (about -860 HU) away from vessels, walls and outside air
        smooth = ndimage.median_filter(v, size=(1, 5, 5))
        return ndimage.binary_erosion((smooth < -750) & (smooth > -950), iterations=3)

    lung = flat_lung(a) & flat_lung(b)
    assert lung.sum() > 2000

    def residual(v):  # the image minus a smooth version of it: mostly noise in flat lung
        return (v - ndimage.uniform_filter(v, size=(1, 7, 7)))[lung]

    # 40 % of the dose is 1.58 x the noise SD; clipping at -1024 HU (stored 0) takes some of it back.
    assert residual(b).std() > 1.15 * residual(a).std()
    # Finer grain: neighbouring pixels' noise is less alike (negatively so after the high-pass).
    def neighbour_corr(v):
        r = v - ndimage.uniform_filter(v, size=(1, 7, 7))
        left, right = r[:, :, :-1][lung[:, :, :-1] & lung[:, :, 1:]], r[:, :, 1:][lung[:, :, :-1] & lung[:, :, 1:]]
        return float(np.corrcoef(left, right)[0, 1])

    assert neighbour_corr(b) < neighbour_corr(a) - 0.05


def test_an_unknown_vendor_is_refused():
    with pytest.raises(ValueError, match="vendor"):
        generate_study("chest_ct", seed=1, matrix=64, slices=8, vendor="Z")
