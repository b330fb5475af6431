"""Actions that change studies: prioritise, claim, release, record status, audit.

Each change is published to the live worklist after its transaction commits.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role
from inference.models import AnalysisStatus
from triage.priority import AiResult, StudyFacts, prioritise
from triage.selectors import urgency_targets
from worklist.events import study_publish
from worklist.models import AuditEvent, ReadingState, Study, StudyStatus

logger = logging.getLogger(__name__)


class StudyClaimedByOther(Exception):
    """The study is being read by someone else."""


class StudyNotClaimable(Exception):
    """The study cannot be claimed (already reported, or the user may not read)."""


def study_facts(study: Study) -> StudyFacts:
    """What triage needs to know of a study: its order, arrival and current AI results."""
    ai_results: tuple[AiResult, ...] = ()
    if study.pk:
        ai_results = tuple(
            AiResult(model=run.model_name, suspicion=run.suspicion, category=run.category or None,
                     headline=run.headline or None)
            for run in study.analyses.filter(status=AnalysisStatus.DONE)
        )
    return StudyFacts(
        arrived_at=study.arrived_at,
        requested_priority=study.requested_priority or None,
        patient_location=study.patient_location or None,
        ai_findings=ai_results,
        ai_status=study.status,
    )


def study_publish_on_commit(study_id: int) -> None:
    # Events go out only after commit: a rolled-back change must never reach a browser.
    transaction.on_commit(lambda: study_publish(study_id))


def study_prioritise(study: Study, *, now: datetime | None = None) -> bool:
    """Recompute urgency, due time and reason from the order, AI results and targets. No save."""
    priority = prioritise(study_facts(study), urgency_targets(), now=now or timezone.now())
    new_values = {
        "urgency_code": priority.urgency_code,
        "urgency_name": priority.urgency_name,
        "urgency_rank": priority.rank,
        "due_at": priority.due_at,
        "priority_reason": priority.reason[:300],
        "escalation": priority.escalation,
        "ai_suspicion": priority.ai_suspicion,
    }
    changed = any(getattr(study, name) != value for name, value in new_values.items())
    for name, value in new_values.items():
        setattr(study, name, value)
    return changed


def study_set_status(study_id: int, status: str, *, reason: str = "", headline: str | None = None) -> Study:
    """Move a study along the analysis pipeline, re-prioritise it and publish the change."""
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study_id)
        study.status = status
        study.status_reason = reason[:300]
        study.status_changed_at = timezone.now()
        if headline is not None:
            study.ai_headline = headline[:300]
        study_prioritise(study)
        study.save()
        study_publish_on_commit(study.pk)
    return study


def study_claim(*, study_id: int, user) -> Study:
    """Claim a study for reading. Exactly one of several concurrent claims wins.

    A conditional UPDATE does the claiming, so the database decides the race; a claim left
    untouched past CLAIM_TIMEOUT_SECONDS has lapsed and may be taken over.
    """
    if user.role != Role.RADIOLOGIST:
        raise StudyNotClaimable("only radiologists claim studies")
    now = timezone.now()
    lapsed = now - timedelta(seconds=settings.CLAIM_TIMEOUT_SECONDS)
    with transaction.atomic():
        won = (
            Study.objects.filter(pk=study_id)
            .exclude(reading_state=ReadingState.REPORTED)
            .filter(Q(claimed_by__isnull=True) | Q(claimed_by=user) | Q(claim_touched_at__lt=lapsed))
            .update(
                claimed_by=user,
                claimed_at=now,
                claim_touched_at=now,
                reading_state=ReadingState.IN_PROGRESS,
                updated_at=now,
            )
        )
        study = Study.objects.select_related("claimed_by").get(pk=study_id)
        if not won:
            if study.reading_state == ReadingState.REPORTED:
                raise StudyNotClaimable("study is already reported")
            raise StudyClaimedByOther(study.claimed_by.username if study.claimed_by else "someone else")
        study_publish_on_commit(study.pk)
    return study


def study_release(*, study_id: int, user) -> Study:
    """Give a claimed study back to the worklist: by its reader, or by a manager."""
    now = timezone.now()
    with transaction.atomic():
        query = Study.objects.filter(pk=study_id, reading_state=ReadingState.IN_PROGRESS)
        if user.role != Role.MANAGER:
            query = query.filter(claimed_by=user)
        released = query.update(
            claimed_by=None, claimed_at=None, claim_touched_at=None, reading_state=ReadingState.UNREAD, updated_at=now
        )
        study = Study.objects.get(pk=study_id)
        if not released and study.reading_state == ReadingState.IN_PROGRESS:
            raise StudyClaimedByOther(study.claimed_by.username if study.claimed_by else "someone else")
        study_publish_on_commit(study.pk)
    return study


def studies_reprioritise(*, now: datetime | None = None) -> int:
    """Recompute every open study's priority (targets changed, or time moved on). Returns how many changed."""
    changed = 0
    open_ids = Study.objects.exclude(reading_state=ReadingState.REPORTED).values_list("pk", flat=True)
    for study_id in open_ids.iterator():
        with transaction.atomic():
            study = Study.objects.select_for_update().get(pk=study_id)
            if study_prioritise(study, now=now):
                study.save()
                study_publish_on_commit(study.pk)
                changed += 1
    return changed


def audit_record(*, user, action: str, study: Study | None = None, detail: str = "", request=None) -> None:
    remote = request.META.get("REMOTE_ADDR") if request is not None else None
    AuditEvent.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        study=study,
        detail=detail[:300],
        remote_addr=remote,
    )


__all__ = [
    "StudyClaimedByOther",
    "StudyNotClaimable",
    "StudyStatus",
    "audit_record",
    "study_claim",
    "study_prioritise",
    "study_publish_on_commit",
    "study_release",
    "study_set_status",
    "studies_reprioritise",
]
