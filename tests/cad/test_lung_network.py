"""Test-time mirror augmentation: flipping the cut planes equals cutting them from a mirrored volume."""

import itertools

import numpy as np
import pytest
import torch

from inference.cad.lung_nodule.network import MultiViewNet, extract_views, flip_views, score, score_mirrored


@pytest.mark.parametrize("fx, fy, fz", [f for f in itertools.product((False, True), repeat=3) if any(f)])
def test_flipped_views_equal_views_of_the_mirrored_volume(fx, fy, fz):
    rng = np.random.default_rng(0)
    hu = rng.uniform(-1000, 400, (70, 72, 74)).astype(np.float32)
    centres = np.array([[30.0, 40.0, 35.0], [36.0, 33.0, 41.0]])  # (k, j, i)
    mirrored = hu[::-1 if fz else 1, ::-1 if fy else 1, ::-1 if fx else 1]
    shape = np.array(hu.shape) - 1
    moved = np.where([fz, fy, fx], shape - centres, centres)

    expected = extract_views(np.ascontiguousarray(mirrored), moved)

    np.testing.assert_allclose(flip_views(extract_views(hu, centres), fx, fy, fz), expected, atol=1e-5)


def test_score_mirrored_is_the_mean_over_the_eight_mirror_images():
    torch.manual_seed(0)
    net = MultiViewNet().eval()
    rng = np.random.default_rng(1)
    views = rng.uniform(0, 1, (3, 6, 32, 32)).astype(np.float32)
    scalars = rng.normal(0, 1, (3, 3)).astype(np.float32)
    plain = score(net, views, scalars)

    mean = np.mean([score(net, flip_views(views, *f), scalars)
                    for f in itertools.product((False, True), repeat=3)], axis=0)

    np.testing.assert_allclose(score_mirrored(net, views, scalars, plain), mean, rtol=1e-5)
