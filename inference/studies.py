"""What the analysis pipeline needs from the app that owns studies, without importing it.

worklist imports inference (ingestion requests an analysis, pages show the results), so inference
must not import worklist back. The study model is reached through inference's own foreign key
(AnalysisRun.study, declared by name), and the status change, which is worklist's business rule
(events, alerts, priority), is a callback that worklist registers in WorklistConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from inference.models import AnalysisRun


@dataclass(frozen=True)
class StudyOwner:
    set_status: Callable[..., None]  # set_status(study_id, status, *, reason="", headline="")
    statuses: type[models.TextChoices]  # RECEIVED, QUEUED, ANALYSING, ANALYSED, NO_AI, AI_FAILED


_owner: StudyOwner | None = None


def study_owner_register(*, set_status: Callable[..., None], statuses: type[models.TextChoices]) -> None:
    global _owner
    _owner = StudyOwner(set_status=set_status, statuses=statuses)


def study_owner() -> StudyOwner:
    if _owner is None:
        raise RuntimeError("no app has registered the study owner (worklist registers it when Django starts)")
    return _owner


def study_model() -> type[models.Model]:
    return AnalysisRun._meta.get_field("study").related_model
