"""Reads of the clinician side. `clinician_studies` is the one place that decides what a clinician sees.

Every page, REST endpoint, FHIR endpoint and websocket message of this app reaches a study through
`studies_visible_to` / `access_visible_study`, which for a clinician is `clinician_studies`. A study
that is not visible is treated exactly as one that does not exist (`StudyNotVisible`), so nothing
tells a clinician whether another clinician's patient is known here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from accounts.permissions import user_has_role
from clinician.conf import show_ai_before_signing
from clinician.models import ReferrerLink
from clinician.names import near_match, referrer_display, referrer_from_parts, referrer_parse
from reporting.models import CriticalResult, ReportVersion
from worklist.models import READABLE_IDENTITY, AuditEvent, Order, ReadingState, Study


class StudyNotVisible(Exception):
    """Unknown, or not this user's to see: callers answer both the same way."""


# --- who sees which study -------------------------------------------------------------------------


def linked_keys(user) -> set[str]:
    return set(ReferrerLink.objects.filter(user=user).values_list("referring_name_normalised", flat=True))


def _names_with_keys(names, keys: set[str]) -> list[str]:
    # Normalisation is Python, not SQL: compare the (few) distinct names the archive and RIS know.
    return [name for name in names if name and referrer_parse(name).key in keys]


def clinician_studies(user) -> QuerySet[Study]:
    """Studies whose referring physician (DICOM header, or the RIS order by accession) is this clinician.

    Exact match of normalised names only (clinician.names); a clinician with no link sees nothing.
    """
    if not user_has_role(user, Role.CLINICIAN):
        return Study.objects.none()
    keys = linked_keys(user)
    if not keys:
        return Study.objects.none()
    header_names = _names_with_keys(Study.objects.values_list("referring_physician", flat=True).distinct(), keys)
    order_names = _names_with_keys(Order.objects.values_list("referring_physician", flat=True).distinct(), keys)
    # An order gives access to its accession's study only if it names the same patient (or none).
    ordered = Order.objects.filter(referring_physician__in=order_names, accession_number=OuterRef("accession_number")) \
        .exclude(accession_number="").filter(Q(patient_id="") | Q(patient_id=OuterRef("patient_id")))
    return Study.objects.filter(Q(referring_physician__in=header_names) | Q(Exists(ordered))).filter(
        identity_state__in=READABLE_IDENTITY)  # a held arrival is nobody's patient until resolved


def studies_visible_to(user) -> QuerySet[Study]:
    """What each role may read here: a clinician their own patients, the department everything."""
    if user_has_role(user, Role.CLINICIAN):
        return clinician_studies(user)
    if user_has_role(user, Role.RADIOLOGIST, Role.MANAGER):
        return Study.objects.all()
    return Study.objects.none()


def access_visible_study(*, user, study_id) -> Study:
    try:
        return studies_visible_to(user).get(pk=int(study_id))
    except (Study.DoesNotExist, TypeError, ValueError):
        raise StudyNotVisible from None


def clinician_study_search(*, user, query: str = "", limit: int = 50) -> list[Study]:
    """Own studies matching a name, a patient ID or an accession number; newest first."""
    studies = clinician_studies(user)
    query = (query or "").strip()
    if query:
        by_name = Q()
        for word in query.replace("^", " ").replace(",", " ").split():
            by_name &= Q(patient_name__icontains=word)
        studies = studies.filter(by_name | Q(patient_id__iexact=query) | Q(accession_number__iexact=query))
    return list(studies.select_related("claimed_by").order_by("-arrived_at", "-id")[:limit])


def clinicians_of_study(study: Study) -> list[int]:
    """Ids of the clinicians who see this study (for live updates), checked through clinician_studies."""
    keys = {referrer_parse(study.referring_physician).key}
    if study.accession_number:
        order = Order.objects.filter(accession_number=study.accession_number).first()
        if order is not None:
            keys.add(referrer_parse(order.referring_physician).key)
    keys.discard("")
    candidates = User.objects.filter(referrer_links__referring_name_normalised__in=keys).distinct()
    return [user.pk for user in candidates if clinician_studies(user).filter(pk=study.pk).exists()]


# --- what a study looks like to the clinician ---------------------------------------------------------


@dataclass
class TimelineStep:
    code: str  # ordered | arrived | being_read | reported | amended
    label: str
    at: datetime | None
    detail: str = ""
    current: bool = False


def study_versions(study: Study) -> list[ReportVersion]:
    if not hasattr(study, "report"):
        return []
    return list(study.report.versions.select_related("author").order_by("number"))


def study_timeline(study: Study, versions: list[ReportVersion] | None = None) -> list[TimelineStep]:
    versions = study_versions(study) if versions is None else versions
    steps: list[TimelineStep] = []
    order = Order.objects.filter(accession_number=study.accession_number).first() if study.accession_number else None
    if order is not None:
        steps.append(TimelineStep("ordered", "Ordered", order.received_at, order.procedure))
    steps.append(TimelineStep("arrived", "Images arrived", study.arrived_at,
                              f"{study.modality} {study.study_description}".strip()))
    if study.reading_state == ReadingState.IN_PROGRESS or (versions and study.claimed_at):
        steps.append(TimelineStep("being_read", "Being read", study.claimed_at))
    if versions:
        steps.append(TimelineStep("reported", "Reported", versions[0].signed_at))
    for version in versions[1:]:
        steps.append(TimelineStep("amended", f"Amended (version {version.number})", version.signed_at,
                                  version.amendment_reason))
    steps[-1].current = True
    return steps


STATE_LABELS = {"unread": "Waiting to be read", "in_progress": "Being read", "reported": "Reported"}


def study_state_label(study: Study, versions: list[ReportVersion]) -> str:
    if len(versions) > 1:
        return "Amended"
    return STATE_LABELS.get(study.reading_state, study.reading_state)


def person_display(value: str) -> str:
    """'Müller^Anna' → 'Müller, Anna' (PN components, first group)."""
    family, _, rest = (value or "").split("=")[0].partition("^")
    given = " ".join(part for part in rest.split("^")[:2] if part)
    return f"{family}, {given}" if given else family


def user_display(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def clinician_study_view(study: Study, *, now: datetime | None = None) -> dict:
    """Everything the lookup page, the REST API and the live updates show of one study."""
    now = now or timezone.now()
    versions = study_versions(study)
    latest = versions[-1] if versions else None
    signed = latest is not None
    expected = None if signed else study.due_at
    criticals = list(study.critical_results.select_related("acknowledged_by", "flagged_by", "report_version")
                     .order_by("-flagged_at"))
    return {
        "id": study.pk,
        "patient_id": study.patient_id,
        "patient_name": person_display(study.patient_name),
        "patient_birth_date": study.patient_birth_date,
        "patient_sex": study.patient_sex,
        "accession_number": study.accession_number,
        "modality": study.modality,
        "body_part": study.body_part,
        "study_description": study.study_description,
        "referring_physician": person_display(study.referring_physician),
        "arrived_at": study.arrived_at,
        "state": study_state_label(study, versions),
        "timeline": [step.__dict__ for step in study_timeline(study, versions)],
        "expected_report_by": expected,
        "overdue": bool(expected and expected < now),
        "urgency_name": study.urgency_name,
        "reported_at": study.reported_at,
        # AI output is the radiologist's input, not a result: shown only once a report is signed,
        # unless the department chose otherwise.
        "ai_headline": study.ai_headline if (signed or show_ai_before_signing()) else "",
        # With the headline, say when it may rest on part of the study (images still arriving).
        "ai_partial_note": study.images_arriving_note if (signed or show_ai_before_signing()) else "",
        "report": None if latest is None else {
            "number": latest.number,
            "text": latest.text,
            "impression": (latest.fields or {}).get("impression", ""),
            "signed_at": latest.signed_at,
            "author": user_display(latest.author),
            "amendment_reason": latest.amendment_reason,
            "critical": latest.critical,
            "key_images": key_images(latest),
        },
        "versions": [{"number": v.number, "signed_at": v.signed_at, "amendment_reason": v.amendment_reason}
                     for v in versions],
        "critical_results": [critical_result_view(c) for c in criticals],
    }


def key_images(version: ReportVersion) -> list[dict]:
    """Key images the radiologist chose (reporting.reading stores the Orthanc instance id)."""
    chosen = (version.fields or {}).get("key_images") or []
    return [{"index": index, "series_instance_uid": str(item.get("series_instance_uid", "")),
             "sop_instance_uid": str(item.get("sop_instance_uid", "")), "label": str(item.get("label", ""))}
            for index, item in enumerate(chosen) if isinstance(item, dict) and item.get("instance_id")]


def key_image_instance(*, study: Study, index: int) -> str | None:
    """The Orthanc instance of the latest signed version's key image `index`, if there is one."""
    report = getattr(study, "report", None)
    latest = report.versions.order_by("-number").first() if report else None
    chosen = (latest.fields or {}).get("key_images") or [] if latest else []
    if not 0 <= index < len(chosen) or not isinstance(chosen[index], dict):
        return None
    return str(chosen[index].get("instance_id") or "") or None


def critical_result_view(critical: CriticalResult) -> dict:
    escalation = getattr(critical, "escalation", None)
    return {
        "id": critical.pk,
        "study_id": critical.study_id,
        "note": critical.note,
        "report_version": critical.report_version.number,
        "flagged_by": user_display(critical.flagged_by),
        "flagged_at": critical.flagged_at,
        "acknowledged_by": user_display(critical.acknowledged_by),
        "acknowledged_at": critical.acknowledged_at,
        "minutes_to_acknowledge": (
            round((critical.acknowledged_at - critical.flagged_at).total_seconds() / 60, 1)
            if critical.acknowledged_at else None),
        "escalated_at": escalation.escalated_at if escalation else None,
        "patient_name": person_display(critical.study.patient_name),
        "accession_number": critical.study.accession_number,
    }


# --- critical results ------------------------------------------------------------------------------


def _critical_queryset() -> QuerySet[CriticalResult]:
    return CriticalResult.objects.select_related(
        "study", "report_version", "flagged_by", "acknowledged_by", "escalation")


def clinician_critical_results(user, *, include_acknowledged_days: int = 7) -> list[CriticalResult]:
    """Own critical results: every unacknowledged one first (oldest first), then recent acknowledged ones."""
    own = _critical_queryset().filter(study__in=clinician_studies(user))
    since = timezone.now() - timezone.timedelta(days=include_acknowledged_days)
    open_ones = list(own.filter(acknowledged_at__isnull=True).order_by("flagged_at"))
    done = list(own.filter(acknowledged_at__gte=since).order_by("-acknowledged_at")[:20])
    return open_ones + done


def department_critical_results(*, days: int = 30) -> list[CriticalResult]:
    since = timezone.now() - timezone.timedelta(days=days)
    # Open ones first (NULL acknowledgement sorts first), newest first within each.
    return list(_critical_queryset().filter(Q(flagged_at__gte=since) | Q(acknowledged_at__isnull=True))
                .order_by(F("acknowledged_at").desc(nulls_first=True), "-flagged_at")[:200])


def access_clinician_critical(*, user, critical_id) -> CriticalResult:
    try:
        return _critical_queryset().get(pk=int(critical_id), study__in=clinician_studies(user))
    except (CriticalResult.DoesNotExist, TypeError, ValueError):
        raise StudyNotVisible from None


# --- linking identities (managers) -----------------------------------------------------------------


@dataclass
class ReferrerSeen:
    key: str
    display: str
    names: list[str]
    studies: int


def referrers_seen() -> list[ReferrerSeen]:
    """Every referring physician the archive's studies and the RIS orders name, grouped by normal form."""
    grouped: dict[str, ReferrerSeen] = {}
    rows = list(Study.objects.exclude(referring_physician="").values("referring_physician")
                .annotate(n=Count("id")).values_list("referring_physician", "n"))
    rows += [(name, 0) for name in Order.objects.exclude(referring_physician="")
             .values_list("referring_physician", flat=True).distinct()]
    for name, count in rows:
        key = referrer_parse(name).key
        if not key:
            continue
        seen = grouped.setdefault(key, ReferrerSeen(key, referrer_display(key), [], 0))
        if name not in seen.names:
            seen.names.append(name)
        seen.studies += count
    return sorted(grouped.values(), key=lambda s: s.key)


def referrer_suggestions(user) -> list[ReferrerSeen]:
    """Near matches for a clinician: shown to a manager to confirm, never linked automatically.

    A name is suggested when it shares the family name (or all its words) with an identity already
    linked, or with the clinician's own account name.
    """
    keys = linked_keys(user)
    anchors = [referrer_parse(key) for key in keys]
    if user.last_name:
        anchors.append(referrer_from_parts(user.last_name, user.first_name))
    suggestions = []
    for seen in referrers_seen():
        if seen.key in keys:
            continue
        candidate = referrer_parse(seen.key)
        if any(near_match(candidate, anchor) or candidate.key == anchor.key for anchor in anchors):
            suggestions.append(seen)
    return suggestions


# --- audit ----------------------------------------------------------------------------------------------


def audit_events_search(*, username: str = "", patient_id: str = "", accession: str = "", action: str = "",
                        since: date | None = None, until: date | None = None, limit: int = 500) -> list[AuditEvent]:
    events = AuditEvent.objects.select_related("user", "study")
    if username:
        events = events.filter(user__username__iexact=username)
    if patient_id:
        events = events.filter(study__patient_id__iexact=patient_id)
    if accession:
        events = events.filter(study__accession_number__iexact=accession)
    if action:
        events = events.filter(action__istartswith=action)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    return list(events.order_by("-at", "-id")[:limit])
