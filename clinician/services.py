"""Changes made on the clinician side: identity links, critical-result acknowledgement, escalation."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from clinician.conf import critical_escalation_minutes
from clinician.events import critical_publish
from clinician.models import CriticalEscalation, ReferrerLink
from clinician.names import referrer_parse_typed
from clinician.selectors import access_clinician_critical
from reporting.models import CriticalResult
from worklist.services import audit_record

logger = logging.getLogger(__name__)


class LinkError(Exception):
    """The link cannot be made; the text says why."""

    http_status = 400


def referrer_link(*, user, referring_name: str, created_by, request=None) -> ReferrerLink:
    """Link a referring-physician identity to a clinician account (a manager's decision, audited)."""
    if user.role != Role.CLINICIAN:
        raise LinkError(f"{user.username} is not a clinician account")
    try:
        name = referrer_parse_typed(referring_name)
    except ValueError as exc:
        raise LinkError(str(exc)) from exc
    try:
        with transaction.atomic():
            link, created = ReferrerLink.objects.get_or_create(
                user=user, referring_name_normalised=name.key,
                defaults={"display": referring_name.strip()[:200], "created_by": created_by},
            )
            if created:
                audit_record(user=created_by, action="referrer.link", request=request,
                             detail=f"{user.username} = {name.key} (from {referring_name.strip()!r})")
    except IntegrityError:
        link = ReferrerLink.objects.get(user=user, referring_name_normalised=name.key)
    return link


def referrer_unlink(*, link_id: int, by, request=None) -> None:
    with transaction.atomic():
        link = ReferrerLink.objects.select_related("user").filter(pk=link_id).first()
        if link is None:
            return
        audit_record(user=by, action="referrer.unlink", request=request,
                     detail=f"{link.user.username} = {link.referring_name_normalised}")
        link.delete()


def critical_result_acknowledge(*, critical_id: int, user, request=None) -> CriticalResult:
    """The referring clinician acknowledges a critical result; the first acknowledgement's time is kept.

    Raises StudyNotVisible for a result that is not this clinician's, exactly as for an unknown id.
    """
    with transaction.atomic():
        critical = access_clinician_critical(user=user, critical_id=critical_id)
        now = timezone.now()
        # Conditional UPDATE: of two clicks (or two tabs) only the first sets the time.
        won = CriticalResult.objects.filter(pk=critical.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=now)
        if won:
            audit_record(user=user, action="critical.acknowledge", study=critical.study, request=request,
                         detail=f"critical result {critical.pk}, report v{critical.report_version.number}")
            transaction.on_commit(lambda: critical_publish(critical.pk, "acknowledged"))
        critical.refresh_from_db()
    return critical


def critical_results_escalate(*, now: datetime | None = None) -> int:
    """Periodic: escalate critical results unacknowledged past the configured minutes, each once.

    The escalation row is unique per result, so a second run (or two beat ticks racing) adds nothing.
    """
    now = now or timezone.now()
    minutes = critical_escalation_minutes()
    overdue = CriticalResult.objects.filter(
        acknowledged_at__isnull=True, flagged_at__lte=now - timedelta(minutes=minutes), escalation__isnull=True)
    escalated = 0
    for critical in overdue.select_related("study"):
        waited = int((now - critical.flagged_at).total_seconds() // 60)
        with transaction.atomic():
            _, created = CriticalEscalation.objects.get_or_create(
                critical_result=critical, defaults={"escalated_at": now, "minutes_unacknowledged": waited})
            if not created:
                continue
            audit_record(user=None, action="critical.escalate", study=critical.study,
                         detail=f"critical result {critical.pk} unacknowledged after {waited} min")
            critical_id = critical.pk
            transaction.on_commit(lambda critical_id=critical_id: critical_publish(critical_id, "escalated"))
            escalated += 1
    if escalated:
        logger.warning("%d critical results unacknowledged past %d min: escalated to the department",
                       escalated, minutes)
    return escalated
