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
