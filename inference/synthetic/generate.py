"""Dispatch from a study kind to its generator."""

from __future__ import annotations

from collections.abc import Callable

from .chest_ct import generate_chest_ct
from .study import SyntheticStudy

_GENERATORS: dict[str, Callable] = {
    "chest_ct": generate_chest_ct,
}

STUDY_KINDS: tuple[str, ...] = tuple(_GENERATORS)


def generate_study(kind: str, seed: int = 0, **kwargs) -> SyntheticStudy:
    """Build one study of `kind`; the same seed and kwargs give byte-identical data."""
    if kind not in _GENERATORS:
        raise ValueError(f"unknown study kind {kind!r}; choose from {STUDY_KINDS}")
    datasets, truth, study_uid = _GENERATORS[kind](int(seed), **kwargs)
    return SyntheticStudy(kind=kind, study_instance_uid=study_uid, datasets=datasets, truth=truth)
