"""The hard chest CT phantom's vessel bifurcations at nodule scale (benign mimics in the truth) and its
breathing motion (pixels only: the truth's nodules and mimics keep their place and size)."""

from __future__ import annotations

import functools

import numpy as np

from inference.synthetic import generate_study
from inference.synthetic.chest_ct import apply_motion, make_anatomy
from inference.synthetic.volume import Grid

# Seed 37 at this size has two nodules (7.5 mm solid, 11.3 mm ground-glass) in the lower lungs where the
# breathing displacement is 3-4 mm.
KW = {"matrix": 256, "n_nodules": 3, "n_granulomas": 1}


@functools.cache
def study(phantom: str = "default", seed: int = 37):
    return generate_study("chest_ct", seed=seed, phantom=phantom, **KW)


def hu(s) -> np.ndarray:
    return np.stack([ds.pixel_array.astype(np.float32) + float(ds.RescaleIntercept) for ds in s.datasets])


def ball(s, center_mm, radius_mm) -> tuple[np.ndarray, ...]:
    """Voxel indices (k, j, i) within radius_mm of a point."""
    g = s.truth["geometry"]
    ipp, dy, dz = np.array(g["first_ipp"]), g["pixel_spacing_mm"][0], g["slice_step_mm"][2]
    k, j, i = np.indices(g["shape_zyx"], sparse=True)
    c = np.asarray(center_mm)
    d2 = ((ipp[0] + i * dy - c[0]) ** 2 + (ipp[1] + j * dy - c[1]) ** 2 + (ipp[2] + k * dz - c[2]) ** 2)
    return np.nonzero(d2 <= radius_mm ** 2)


def test_bifurcations_are_benign_mimics_at_nodule_scale_on_the_vessel_tree():
    default, hard = study(), study("hard")
    bif = [m for m in hard.truth["benign_mimics"] if m["type"] == "vessel_bifurcation"]
    assert 2 <= len(bif) <= 4
    assert all(m["benign"] and 4.0 <= m["diameter_mm"] <= 8.0 for m in bif)
    assert hard.truth["lesions"] == default.truth["lesions"]
    h, d = hu(hard), hu(default)
    for m in bif:
        core = ball(hard, m["center_mm"], m["short_axis_mm"] / 2 - 0.7)
        blob = ball(hard, m["center_mm"], m["short_axis_mm"] / 2)
        # A junction blob: soft tissue across it in the hard scan, where the default scan has only the
        # thinner vessels of the same branch point.
        assert np.median(h[core]) > -150, m
        assert (h[blob] > -400).mean() > (d[blob] > -400).mean() + 0.15, m
        for n in hard.truth["lesions"]:
            gap = np.linalg.norm(np.subtract(n["center_mm"], m["center_mm"]))
            assert gap > n["long_axis_mm"] / 2 + m["diameter_mm"] / 2


def test_breathing_motion_leaves_the_truths_nodules_in_place():
    default, hard = study(), study("hard")
    motion = hard.truth["motion"]
    assert default.truth["motion"] is None
    assert 3.0 <= motion["amplitude_mm"] <= 8.0 and motion["z_full_mm"] < motion["z_top_mm"]
    h, d = hu(hard), hu(default)
    moved = 0
    for n in hard.truth["lesions"]:
        core = ball(hard, n["center_mm"], n["short_axis_mm"] / 2 - 1.0)
        assert np.array_equal(h[core], d[core]), n
        moved += n["center_mm"][2] < motion["z_top_mm"]
    assert moved >= 2  # the seed's point: nodules inside the moving zone


def test_motion_displaces_the_lower_lungs_along_z_and_nothing_else():
    an = make_anatomy(np.random.default_rng(5))
    step = 2.0
    nz = int((an.z_apex + 10 - an.z_base) / step)
    grid = Grid(shape=(nz, 64, 64), origin=(-157.5, -147.5, an.z_apex + 10), spacing=(5.0, 5.0),
                slice_step=(0.0, 0.0, -step))
    vol = np.broadcast_to((np.arange(nz, dtype=np.int16) * 10)[:, None, None], grid.shape).copy()  # value = 10 x slice
    motion = {"amplitude_mm": 6.0, "cycle_mm": 40.0, "phase_rad": 0.3, "z_top_mm": an.z_hilum,
              "z_full_mm": an.z_base + 60.0}
    keep_mm = np.array([-an.lung_x, an.lung_y, an.z_base + 40.0])
    apply_motion(vol, grid, an, motion, [(keep_mm, 4.0)])
    col = int(round((an.lung_x - grid.origin[0]) / 5.0))  # the left lung's centre
    row = int(round((an.lung_y - grid.origin[1]) / 5.0))
    for k in range(nz):
        z = grid.position(k)[2]
        source = vol[k, row, col] / 10.0
        if z >= an.z_hilum:
            assert vol[k, row, col] == 10 * k, z  # upper lungs: still
        elif z <= motion["z_full_mm"] and 5 < k < nz - 5:
            shift = 6.0 * np.sin(2 * np.pi * z / 40.0 + 0.3)
            assert abs(source - (k - shift / step)) < 0.3, (z, source, k)
        assert vol[k, 2, 2] == 10 * k and vol[k, 63, 32] == 10 * k  # outside the body, the table: still
    keep = grid.to_index(keep_mm)
    kk, jj, ii = (int(round(v)) for v in keep)
    assert vol[kk, jj, ii] == 10 * kk  # a kept finding's centre is not moved
