"""Small, fast study parameters per kind: behaviour under test does not depend on size."""

from __future__ import annotations

import functools

import pytest

from inference.synthetic import STUDY_KINDS, SyntheticStudy, generate_study

SMALL_KWARGS: dict[str, dict] = {
    "chest_ct": {"matrix": 128, "slices": 80, "n_nodules": 3},
    "mammography": {"matrix": "small"},
    "prostate_mri": {"t2_matrix": 128, "n_lesions": 1},
    "chest_xr": {},
    "head_ct": {"matrix": 128, "slices": 12},
    "knee_mri": {"matrix": 128, "slices": 8},
}


@functools.cache
def small_study(kind: str, seed: int = 3) -> SyntheticStudy:
    return generate_study(kind, seed=seed, **SMALL_KWARGS.get(kind, {}))


@pytest.fixture(params=STUDY_KINDS)
def any_study(request) -> SyntheticStudy:
    return small_study(request.param)
