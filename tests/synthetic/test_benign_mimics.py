"""Calcified granulomas (benign mimics of small solid nodules) in the chest CT generator."""

from __future__ import annotations

import numpy as np

from archive.volumes import volume_from_datasets
from inference.synthetic import generate_study


def test_granulomas_are_painted_where_the_truth_says_and_change_nothing_else():
    plain = generate_study("chest_ct", seed=21, matrix=128, slices=60, n_nodules=2)
    mimics = generate_study("chest_ct", seed=21, matrix=128, slices=60, n_nodules=2, n_granulomas=3)
    granulomas = mimics.truth["benign_mimics"]
    assert len(granulomas) >= 2 and plain.truth["benign_mimics"] == []
    assert all(g["type"] == "calcified_granuloma" and g["benign"] and 3 <= g["diameter_mm"] <= 8 for g in granulomas)
    assert mimics.truth["lesions"] == plain.truth["lesions"]  # their own random stream: the nodules are unchanged

    with_mimics, without = volume_from_datasets(mimics.datasets), volume_from_datasets(plain.datasets)
    changed = np.argwhere(with_mimics.hu != without.hu)
    assert len(changed)
    centres = np.array([g["center_mm"] for g in granulomas])
    changed_mm = with_mimics.index_to_lps(changed)
    # Every changed voxel belongs to a granuloma (within its radius plus a voxel of blur).
    reach = np.array([g["diameter_mm"] / 2 + 2.0 for g in granulomas])
    assert (np.linalg.norm(changed_mm[:, None, :] - centres[None], axis=2) <= reach).any(axis=1).all()
    for g in granulomas:
        index = np.round(with_mimics.lps_to_index(g["center_mm"])).astype(int)
        assert with_mimics.hu[tuple(index)] > 250  # calcified: far denser than a solid nodule
