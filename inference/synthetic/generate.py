"""Dispatch from a study kind to its generator."""

from __future__ import annotations

from collections.abc import Callable

from .chest_ct import generate_chest_ct
from .mammography import generate_mammography
from .other import generate_chest_xr, generate_head_ct, generate_knee_mri
from .prostate_mri import generate_prostate_mri
from .study import SyntheticStudy

_GENERATORS: dict[str, Callable] = {
    "chest_ct": generate_chest_ct,
    "mammography": generate_mammography,
    "prostate_mri": generate_prostate_mri,
    "chest_xr": generate_chest_xr,
    "head_ct": generate_head_ct,
    "knee_mri": generate_knee_mri,
}

STUDY_KINDS: tuple[str, ...] = tuple(_GENERATORS)


def generate_study(kind: str, seed: int = 0, **kwargs) -> SyntheticStudy:
    """Build one study of `kind`; the same seed and kwargs give byte-identical data."""
    if kind not in _GENERATORS:
        raise ValueError(f"unknown study kind {kind!r}; choose from {STUDY_KINDS}")
    datasets, truth, study_uid = _GENERATORS[kind](int(seed), **kwargs)
    return SyntheticStudy(kind=kind, study_instance_uid=study_uid, datasets=datasets, truth=truth)
