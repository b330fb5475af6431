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
from triage.models import AgeingPolicy, UrgencyClass
from triage.priority import AiResult, StudyFacts, policy_check, prioritise, targets_check
from triage.selectors import order_policy, urgency_targets
from worklist.events import alert_publish, study_publish
from worklist.hl7_orders import Hl7OrderError, parse_hl7_order
from worklist.models import READABLE_IDENTITY, Alert, AuditEvent, Order, ReadingState, Study, StudyStatus

logger = logging.getLogger(__name__)


class StudyClaimedByOther(Exception):
    """The study is being read by someone else (the text is their username)."""

    http_status = 409

    def api_data(self) -> dict:
        return {"detail": f"Study is being read by {self}."}


class StudyNotClaimable(Exception):
    """The study cannot be claimed (already reported, or the user may not read)."""

    http_status = 409


def study_facts(study: Study) -> StudyFacts:
    """What triage needs to know of a study: its order, arrival and current AI results."""
    ai_results: tuple[AiResult, ...] = ()
    if study.pk:
        ai_results = tuple(
            AiResult(model=run.model_name, suspicion=run.suspicion, category=run.category or None,
                     headline=run.headline or None, threshold=_stated_threshold(run.result))
            for run in study.analyses.filter(status=AnalysisStatus.DONE)
        )
    order = Order.objects.filter(accession_number=study.accession_number).first() if study.accession_number else None
    if order is not None and not order_matches_patient(order, study):
        order = None  # another patient's order (identity error): it must not set this study's priority
    ai_status = study.status
    if study.status == StudyStatus.AI_FAILED and study.status_reason:
        ai_status = f"{study.status}: {study.status_reason}"
    return StudyFacts(
        arrived_at=study.arrived_at,
        requested_priority=study.requested_priority or None,
        # The modality's header wins; the RIS order fills what the images lack.
        patient_location=study.patient_location or (order.patient_location if order else None) or None,
        hl7_priority=(order.priority or None) if order else None,
        ai_findings=ai_results,
        ai_status=ai_status,
        modality=study.modality or None,
        study_description=study.study_description or None,
        requested_procedure=(order.procedure or None) if order else None,
    )


def _stated_threshold(result) -> float | None:
    value = result.get("threshold") if isinstance(result, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def study_publish_on_commit(study_id: int) -> None:
    # Events go out only after commit: a rolled-back change must never reach a browser.
    transaction.on_commit(lambda: study_publish(study_id))


def study_prioritise(study: Study, *, now: datetime | None = None, targets=None, policy=None) -> bool:
    """Recompute urgency, due time, worklist position and reason from the order, AI results,
    targets and ageing policy. No save. ``targets``/``policy``: already read (a batch)."""
    priority = prioritise(study_facts(study), targets if targets is not None else urgency_targets(),
                          now=now or timezone.now(), with_due=False,
                          policy=policy if policy is not None else order_policy())
    new_values = {
        "urgency_code": priority.urgency_code,
        "urgency_name": priority.urgency_name,
        "urgency_rank": priority.rank,
        "due_at": priority.due_at,
        "order_tier": priority.order_tier,
        "order_at": priority.order_at,
        "priority_reason": priority.reason[:300],
        "escalation": priority.escalation,
        "ai_suspicion": priority.ai_suspicion,
        "reading_queue": priority.queue,
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


def study_claim(*, study_id: int, user, for_amendment: bool = False) -> Study:
    """Claim a study for reading. Exactly one of several concurrent claims wins.

    A conditional UPDATE does the claiming, so the database decides the race; a claim left
    untouched past CLAIM_TIMEOUT_SECONDS has lapsed and may be taken over. `for_amendment` claims
    a reported study, which stays reported, to amend it: the caller has checked who may amend
    (reporting/amend.py).
    """
    if user.role != Role.RADIOLOGIST:
        raise StudyNotClaimable("only radiologists claim studies")
    if Study.objects.filter(pk=study_id).exclude(identity_state__in=READABLE_IDENTITY).exists():
        raise StudyNotClaimable("patient identity conflict: a manager must resolve it before reading")
    now = timezone.now()
    lapsed = now - timedelta(seconds=settings.CLAIM_TIMEOUT_SECONDS)
    with transaction.atomic():
        studies = Study.objects.filter(pk=study_id)
        if for_amendment:
            studies, state = studies.filter(reading_state=ReadingState.REPORTED), ReadingState.REPORTED
        else:
            studies, state = studies.exclude(reading_state=ReadingState.REPORTED), ReadingState.IN_PROGRESS
        won = (
            studies
            .filter(Q(claimed_by__isnull=True) | Q(claimed_by=user) | Q(claim_touched_at__lt=lapsed))
            .update(
                claimed_by=user,
                claimed_at=now,
                claim_touched_at=now,
                reading_state=state,
                updated_at=now,
            )
        )
        study = Study.objects.select_related("claimed_by").get(pk=study_id)
        if not won:
            if for_amendment and study.reading_state != ReadingState.REPORTED:
                raise StudyNotClaimable("only a signed report can be amended")
            if not for_amendment and study.reading_state == ReadingState.REPORTED:
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
        # Giving up an amendment: the study stays reported, its signed versions stand.
        amendment = Study.objects.filter(pk=study_id, reading_state=ReadingState.REPORTED, claimed_by__isnull=False)
        if user.role != Role.MANAGER:
            amendment = amendment.filter(claimed_by=user)
        amendment.update(claimed_by=None, claimed_at=None, claim_touched_at=None, updated_at=now)
        study = Study.objects.get(pk=study_id)
        if not released and study.reading_state == ReadingState.IN_PROGRESS:
            raise StudyClaimedByOther(study.claimed_by.username if study.claimed_by else "someone else")
        study_publish_on_commit(study.pk)
    return study


def order_receive(*, message: str) -> Order:
    """Store an HL7 order (new or changed) and re-prioritise the study it belongs to, if it arrived."""
    parsed = parse_hl7_order(message)
    fields = {name: getattr(parsed, name) for name in (
        "order_control", "priority", "patient_id", "patient_class", "patient_location", "referring_physician",
        "procedure", "message_control_id")}
    order_patient_check(parsed)  # outside the transaction below: a refusal keeps its alert
    with transaction.atomic():
        order, _ = Order.objects.update_or_create(accession_number=parsed.accession_number, defaults=fields)
        study_ids = list(Study.objects.filter(accession_number=parsed.accession_number).values_list("pk", flat=True))
    studies_reprioritise(study_ids=study_ids)
    return order


class Hl7PatientMismatch(Hl7OrderError):
    """The order names another patient than the study (or earlier order) of its accession."""


def order_matches_patient(order: Order, study: Study) -> bool:
    # An order without a patient ID (PID-3) cannot contradict; with one, it must be the study's.
    return not order.patient_id or not study.patient_id or order.patient_id == study.patient_id


def order_patient_check(parsed) -> None:
    """Refuse (AE) an order whose PID-3 differs from its accession's study or earlier order, and show
    it to managers: matching on the accession alone moved another patient's study to STAT and gave
    the order's referrer access to it (issue 17)."""
    if not parsed.patient_id:
        return
    study = (Study.objects.filter(accession_number=parsed.accession_number).exclude(patient_id="")
             .exclude(patient_id=parsed.patient_id).first())
    earlier = (Order.objects.filter(accession_number=parsed.accession_number).exclude(patient_id="")
               .exclude(patient_id=parsed.patient_id).first())
    if study is None and earlier is None:
        return
    known = study.patient_id if study is not None else earlier.patient_id
    reason = (f"order for accession {parsed.accession_number} names patient {parsed.patient_id}, but the "
              f"accession belongs to patient {known}: refused, reconcile in the RIS")
    if study is not None:
        alert, created = Alert.objects.get_or_create(kind=Alert.Kind.ORDER_PATIENT_MISMATCH, study=study,
                                                     defaults={"message": reason[:300]})
        if not created:
            Alert.objects.filter(pk=alert.pk).update(message=reason[:300], acknowledged_at=None,
                                                     acknowledged_by=None, raised_at=timezone.now())
        transaction.on_commit(lambda: alert_publish(alert.pk))
    audit_record(user=None, action="order.refused", study=study, detail=reason)
    raise Hl7PatientMismatch(reason)


def study_assign(*, study_id: int, manager, reader) -> Study:
    """A manager hands a study to a radiologist (or takes it from one who is away)."""
    if manager.role != Role.MANAGER:
        raise StudyNotClaimable("only managers reassign studies")
    if reader.role != Role.RADIOLOGIST or not reader.is_active:
        raise StudyNotClaimable(f"{reader.username} is not an active radiologist")
    now = timezone.now()
    with transaction.atomic():
        assigned = (
            Study.objects.filter(pk=study_id)
            .exclude(reading_state=ReadingState.REPORTED)
            .update(claimed_by=reader, claimed_at=now, claim_touched_at=now, reading_state=ReadingState.IN_PROGRESS,
                    updated_at=now)
        )
        if not assigned:
            raise StudyNotClaimable("study is already reported")
        study = Study.objects.select_related("claimed_by").get(pk=study_id)
        audit_record(user=manager, action="study.assign", study=study, detail=f"to {reader.username}")
        study_publish_on_commit(study.pk)
    return study


def studies_reprioritise(*, now: datetime | None = None, study_ids: list[int] | None = None) -> int:
    """Recompute open studies' priority (order, targets or ageing policy changed, time moved on: a
    study passes its age ceiling without any new event). Returns how many changed."""
    changed = 0
    now = now or timezone.now()
    targets, policy = urgency_targets(), order_policy()
    open_ids = Study.objects.exclude(reading_state=ReadingState.REPORTED).values_list("pk", flat=True)
    if study_ids is not None:
        open_ids = open_ids.filter(pk__in=study_ids)
    for study_id in open_ids.iterator():
        with transaction.atomic():
            study = Study.objects.select_for_update().get(pk=study_id)
            if study_prioritise(study, now=now, targets=targets, policy=policy):
                study.save()
                study_publish_on_commit(study.pk)
                changed += 1
    return changed


def escalations_check(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic: refresh near/overdue marks, and alert on AI-critical studies nobody opened in time.

    "Opened" means claimed for reading; an AI-critical study still unread at its due time is
    announced to everyone on the worklist (the radiologists on duty) once.
    """
    now = now or timezone.now()
    changed = studies_reprioritise(now=now)
    overdue = Study.objects.filter(
        urgency_code="ai_critical", reading_state=ReadingState.UNREAD, due_at__lte=now
    ).exclude(alerts__kind=Alert.Kind.AI_CRITICAL_UNOPENED)
    raised = 0
    for study in overdue:
        minutes = int((now - study.arrived_at).total_seconds() // 60)
        with transaction.atomic():
            alert, created = Alert.objects.get_or_create(
                kind=Alert.Kind.AI_CRITICAL_UNOPENED, study=study,
                defaults={"message": f"AI-critical study unopened after {minutes} min: {study.ai_headline}"[:300]},
            )
            if created:
                alert_id = alert.pk
                transaction.on_commit(lambda alert_id=alert_id: alert_publish(alert_id))
                raised += 1
    if raised:
        logger.warning("escalation: %d AI-critical studies unopened past their target", raised)
    return {"reprioritised": changed, "alerts": raised}


def alert_acknowledge(*, alert_id: int, user) -> Alert:
    now = timezone.now()
    Alert.objects.filter(pk=alert_id, acknowledged_at__isnull=True).update(acknowledged_by=user, acknowledged_at=now)
    return Alert.objects.select_related("study", "acknowledged_by").get(pk=alert_id)


class TargetsInconsistent(Exception):
    """The change would leave the targets or the ageing policy inconsistent (message in words)."""

    http_status = 400


_UNCHANGED = object()


def urgency_target_update(*, code: str, user, target_minutes: int | None = None, name: str | None = None,
                          ceiling_minutes: int | None | object = _UNCHANGED,
                          request=None) -> tuple[UrgencyClass, list[str]]:
    """A manager changes a class's turnaround target, name or age ceiling (``None`` clears it).

    Refused (TargetsInconsistent) when the targets would become inconsistent (an urgent target
    shorter than STAT's, a ceiling longer than its target); returns the row and warnings. Every
    open study is re-prioritised after commit."""
    from worklist.tasks import reprioritise_open_studies

    with transaction.atomic():
        urgency = UrgencyClass.objects.select_for_update().get(code=code)
        before = f"{urgency.name} {urgency.target_minutes} min, ceiling {urgency.ceiling_minutes or '-'}"
        if target_minutes is not None:
            urgency.target_minutes = target_minutes
        if name is not None:
            urgency.name = name
        if ceiling_minutes is not _UNCHANGED:
            urgency.ceiling_minutes = ceiling_minutes
        targets = urgency_targets()
        targets[urgency.code] = urgency.as_target()
        errors, warnings = targets_check(targets)
        if errors:
            raise TargetsInconsistent(" ".join(errors))
        urgency.save()
        audit_record(user=user, action="urgency_class.update", request=request,
                     detail=f"{code}: {before} → {urgency.name} {urgency.target_minutes} min, "
                            f"ceiling {urgency.ceiling_minutes or '-'}")
        transaction.on_commit(lambda: _enqueue_reprioritisation(reprioritise_open_studies))
    return urgency, warnings


def ageing_policy_update(*, user, mode: str | None = None, score_weight: float | None = None,
                         unscored_closeness: float | None = None, request=None) -> AgeingPolicy:
    """A manager changes how age moves studies up; every open study is re-prioritised after commit."""
    from worklist.tasks import reprioritise_open_studies

    with transaction.atomic():
        row = AgeingPolicy.objects.select_for_update().order_by("pk").first() or AgeingPolicy()
        before = str(row)
        for field, value in (("mode", mode), ("score_weight", score_weight),
                             ("unscored_closeness", unscored_closeness)):
            if value is not None:
                setattr(row, field, value)
        errors = policy_check(row.as_policy())
        if errors:
            raise TargetsInconsistent(" ".join(errors))
        row.save()
        audit_record(user=user, action="ageing_policy.update", request=request,
                     detail=f"{before} → {row}, unscored {row.unscored_closeness:g}")
        transaction.on_commit(lambda: _enqueue_reprioritisation(reprioritise_open_studies))
    return row


def _enqueue_reprioritisation(task) -> None:
    try:
        task.delay()
    except Exception:  # noqa: BLE001 - the periodic escalation pass re-prioritises within a minute anyway
        logger.warning("could not enqueue re-prioritisation; the escalation pass will apply it", exc_info=True)


def audit_event(*, user, action: str, study: Study | None = None, study_id: int | None = None, detail: str = "",
                request=None) -> AuditEvent:
    """An audit row, not yet saved."""
    return AuditEvent(
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        study_id=study.pk if study is not None else study_id,
        detail=detail[:300],
        remote_addr=request.META.get("REMOTE_ADDR") if request is not None else None,
    )


def audit_record(**fields) -> None:
    """One audit row for a write or a decision. Reads of patient data use `worklist.audit.audited_read`."""
    audit_event(**fields).save()
