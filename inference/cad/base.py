"""What a CAD model is to the pipeline: a name, a version, what it applies to, and a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class StudyInfo:
    """The facts a model's applicability is decided on (no pixels, no ORM)."""

    study_id: int
    orthanc_id: str
    modality: str
    modalities: tuple[str, ...]
    body_part: str
    study_description: str
    series: tuple[dict, ...] = ()


@dataclass
class ModelOutcome:
    """What a model run leaves behind for the worklist and triage."""

    suspicion: float | None
    category: str = ""
    headline: str = ""
    result: dict[str, Any] = field(default_factory=dict)


class CadModel(Protocol):
    name: str
    version: str

    def applies_to(self, study: StudyInfo) -> bool: ...

    def run(self, study: StudyInfo) -> ModelOutcome: ...


# --- Models that read one image series as a volume ---------------------------------------------


@dataclass
class Finding:
    """One thing a model found, in patient coordinates so it survives any resampling."""

    centre_mm: tuple[float, float, float]  # DICOM patient LPS
    diameter_mm: float  # long-axis diameter
    kind: str  # e.g. solid | part_solid | ground_glass
    probability: float
    mean_diameter_mm: float | None = None  # Lung-RADS: mean of long and short axis
    solid_mm: float | None = None  # solid component, for part-solid nodules
    short_axis_mm: float | None = None  # perpendicular to the long axis, on the same slice

    def as_dict(self) -> dict[str, Any]:
        return {
            "centre_mm": [round(float(v), 2) for v in self.centre_mm],
            "diameter_mm": round(float(self.diameter_mm), 2),
            "mean_diameter_mm": None if self.mean_diameter_mm is None else round(float(self.mean_diameter_mm), 2),
            "solid_mm": None if self.solid_mm is None else round(float(self.solid_mm), 2),
            "short_axis_mm": None if self.short_axis_mm is None else round(float(self.short_axis_mm), 2),
            "type": self.kind,
            "probability": round(float(self.probability), 4),
        }


@dataclass
class Prediction:
    """What predict(volume) returns: findings (most probable first) and a study-level suspicion."""

    findings: list[Finding]
    suspicion: float


@dataclass(frozen=True)
class Applicability:
    """Which studies and series a volume model reads. Empty tuples mean "any"."""

    modalities: tuple[str, ...] = ("CT",)
    body_parts: tuple[str, ...] = ()
    # Matched against the study description when the body part is missing or unknown.
    description_keywords: tuple[str, ...] = ()
    series_include: tuple[str, ...] = ()  # series description must contain one of these (case-insensitive)
    series_exclude: tuple[str, ...] = ("SCOUT", "LOCALIZER", "TOPOGRAM", "DOSE", "MIP")
    min_instances: int = 20  # a volume, not a few key images
