"""Synthetic DICOM studies with known ground truth (no patient data involved).

    from inference.synthetic import generate_study
    study = generate_study("chest_ct", seed=7, matrix=512, protocol="screening")
"""

from __future__ import annotations

from .generate import STUDY_KINDS, generate_study
from .prostate_mri import prostate_masks
from .study import SyntheticStudy
from .traffic import StudyRequest, arrivals, choose_study, department_mix, parse_duration, parse_rate

__all__ = [
    "STUDY_KINDS",
    "StudyRequest",
    "SyntheticStudy",
    "arrivals",
    "choose_study",
    "department_mix",
    "generate_study",
    "parse_duration",
    "parse_rate",
    "prostate_masks",
]
