"""The radiologist's read: AI findings under review, the structured report, signing and amending.

Every action needs the study to be claimed by the reader doing it (`access_*` helpers below), so a
second radiologist can look at a study but never write on a read that is not theirs.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import ReadingMode
from inference.models import AnalysisRun, AnalysisStatus
from triage import lungrads
from worklist.models import (
    CriticalResult,
    FindingDecision,
    FindingReview,
    ReadingState,
    Report,
    ReportVersion,
    Study,
)
from worklist.services import audit_record, study_publish_on_commit

logger = logging.getLogger(__name__)

NODULE_TYPES = ("solid", "part_solid", "ground_glass")


class ReadingError(Exception):
    """The action is not allowed in the study's current state; the text says why."""


class NotYourRead(ReadingError):
    """The study is not claimed by this reader."""


# --- access ------------------------------------------------------------------------------------


def access_study_for_reading(*, study_id: int, user, lock: bool = True) -> Study:
    """The study, locked, if `user` holds its claim; NotYourRead otherwise."""
    query = Study.objects.select_for_update() if lock else Study.objects
    study = query.get(pk=study_id)
    if study.claimed_by_id != user.pk or study.reading_state != ReadingState.IN_PROGRESS:
        holder = study.claimed_by.username if study.claimed_by_id else None
        raise NotYourRead(f"study is claimed by {holder}" if holder else "claim the study before reading it")
    return study


def marks_visible(study: Study, user) -> bool:
    """Second readers see the AI's marks only after declaring their unaided read done."""
    return user.reading_mode != ReadingMode.SECOND_READER or study.first_read_done_at is not None


# --- findings ----------------------------------------------------------------------------------


@dataclass
class FindingView:
    key: str
    source: str  # "ai" | "reader"
    model: str
    label: str
    centre_mm: list[float] | None
    diameter_mm: float | None
    finding_type: str
    probability: float | None
    decision: str  # "" (not yet reviewed), or a FindingDecision
    solid_mm: float | None = None
    ai_values: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _ai_finding_values(raw: dict) -> dict:
    centre = raw.get("centre_mm") or raw.get("center_mm") or raw.get("centre")
    return {
        "centre_mm": [float(v) for v in centre] if centre else None,
        "diameter_mm": _float(raw.get("diameter_mm", raw.get("long_axis_mm"))),
        "finding_type": str(raw.get("type", raw.get("finding_type", "")) or ""),
        "probability": _float(raw.get("probability")),
        "solid_mm": _float(raw.get("solid_mm")),
    }


def _float(value) -> float | None:
    try:
        return None if value is None else round(float(value), 2)
    except (TypeError, ValueError):
        return None


def study_findings(study: Study) -> list[FindingView]:
    """AI findings of every finished analysis with the reader's decisions, then reader-added ones."""
    reviews = {(r.analysis_id, r.finding_index): r for r in study.finding_reviews.filter(analysis__isnull=False)}
    views: list[FindingView] = []
    runs = AnalysisRun.objects.filter(study=study, status=AnalysisStatus.DONE).order_by("model_name")
    for run in runs:
        for index, raw in enumerate((run.result or {}).get("findings", [])):
            ai = _ai_finding_values(raw)
            review = reviews.get((run.pk, index))
            values = dict(ai)
            if review and review.decision == FindingDecision.EDITED:
                values.update({k: v for k, v in (("diameter_mm", review.diameter_mm),
                                                   ("finding_type", review.finding_type)) if v not in (None, "")})
            views.append(FindingView(
                key=f"ai-{run.pk}-{index}", source="ai", model=run.model_name,
                label=_label(values), decision=review.decision if review else "", ai_values=ai, **values,
            ))
    for added in study.finding_reviews.filter(decision=FindingDecision.ADDED).order_by("pk"):
        values = {"centre_mm": added.centre_mm, "diameter_mm": added.diameter_mm,
                  "finding_type": added.finding_type, "probability": None, "solid_mm": None}
        views.append(FindingView(key=f"reader-{added.pk}", source="reader", model="", label=_label(values),
                                 decision=FindingDecision.ADDED, **values))
    return views


def _label(values: dict) -> str:
    size = f"{values['diameter_mm']:g} mm " if values.get("diameter_mm") is not None else ""
    return f"{size}{(values.get('finding_type') or 'finding').replace('_', '-')}".strip()


def _parse_ai_key(key: str) -> tuple[int, int]:
    try:
        prefix, run_id, index = key.split("-")
        assert prefix == "ai"
        return int(run_id), int(index)
    except (ValueError, AssertionError) as exc:
        raise ReadingError(f"unknown finding {key!r}") from exc


def finding_review(*, study_id: int, user, key: str, decision: str, diameter_mm: float | None = None,
                   finding_type: str | None = None, note: str = "") -> FindingReview:
    """Accept, reject or edit one AI finding. Editing needs a new size or type."""
    if decision not in (FindingDecision.ACCEPTED, FindingDecision.REJECTED, FindingDecision.EDITED):
        raise ReadingError(f"decision must be accepted, rejected or edited, not {decision!r}")
    if finding_type and finding_type not in NODULE_TYPES:
        raise ReadingError(f"type must be one of {', '.join(NODULE_TYPES)}")
    if decision == FindingDecision.EDITED and diameter_mm is None and not finding_type:
        raise ReadingError("an edit needs a new diameter or type")
    run_id, index = _parse_ai_key(key)
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        if not marks_visible(study, user):
            raise ReadingError("second-reader mode: declare the first read done before reviewing AI findings")
        run = AnalysisRun.objects.filter(pk=run_id, study=study, status=AnalysisStatus.DONE).first()
        if run is None or index >= len((run.result or {}).get("findings", [])):
            raise ReadingError(f"unknown finding {key!r}")
        review, _ = FindingReview.objects.update_or_create(
            analysis=run, finding_index=index,
            defaults={"study": study, "decision": decision, "diameter_mm": diameter_mm,
                      "finding_type": finding_type or "", "note": note[:300], "reviewer": user},
        )
        audit_record(user=user, action=f"finding.{decision}", study=study, detail=key)
    return review


def finding_add(*, study_id: int, user, centre_mm: list[float], diameter_mm: float, finding_type: str,
                note: str = "") -> FindingReview:
    """A finding the AI missed, added by the reader."""
    if finding_type not in NODULE_TYPES:
        raise ReadingError(f"type must be one of {', '.join(NODULE_TYPES)}")
    if diameter_mm <= 0 or len(centre_mm) != 3:
        raise ReadingError("a finding needs a positive diameter and a centre (x, y, z in mm)")
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        review = FindingReview.objects.create(
            study=study, decision=FindingDecision.ADDED, centre_mm=[float(v) for v in centre_mm],
            diameter_mm=diameter_mm, finding_type=finding_type, note=note[:300], reviewer=user,
        )
        audit_record(user=user, action="finding.added", study=study, detail=f"reader-{review.pk}")
    return review


def first_read_declare(*, study_id: int, user) -> Study:
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        if study.first_read_done_at is None:
            study.first_read_done_at = timezone.now()
            study.save(update_fields=["first_read_done_at", "updated_at"])
        audit_record(user=user, action="study.first_read_done", study=study)
    return study


# --- the report ---------------------------------------------------------------------------------


def report_template(study: Study) -> str:
    if study.modality == "CT" and study.body_part.upper() in ("CHEST", "LUNG", "THORAX"):
        return "lungrads"
    return "free"


def _accepted_nodules(findings: list[FindingView]) -> list[lungrads.Nodule]:
    kept = [f for f in findings if f.decision in (FindingDecision.ACCEPTED, FindingDecision.EDITED,
                                                   FindingDecision.ADDED)]
    return [lungrads.Nodule(kind=f.finding_type, diameter_mm=f.diameter_mm, solid_mm=f.solid_mm)
            for f in kept if f.diameter_mm is not None and f.finding_type in NODULE_TYPES]


def report_prefill(study: Study) -> dict:
    """A draft the reader starts from: the template's fields filled from the accepted findings."""
    template = report_template(study)
    draft = {"template": template, "findings_text": "", "impression": "", "recommendation": ""}
    if template != "lungrads":
        return draft
    findings = study_findings(study)
    nodules = _accepted_nodules(findings)
    suggestion = lungrads.suggest(nodules)
    lines = [f"- {lungrads.describe(n)}" for n in nodules] or ["- No pulmonary nodule."]
    draft.update({
        "lungrads_category": suggestion.category,
        "lungrads_rule": suggestion.rule,
        "findings_text": "Lungs:\n" + "\n".join(lines),
        "impression": f"Lung-RADS {suggestion.category}: {suggestion.rule}.",
        "recommendation": suggestion.management,
    })
    return draft


LUNGRADS_CATEGORIES = ("0", "1", "2", "3", "4A", "4B", "4X")


def _validated_fields(study: Study, fields: dict) -> dict:
    template = report_template(study)
    clean = {
        "template": template,
        "findings_text": str(fields.get("findings_text", "")).strip(),
        "impression": str(fields.get("impression", "")).strip(),
        "recommendation": str(fields.get("recommendation", "")).strip(),
    }
    if not clean["impression"]:
        raise ReadingError("the report needs an impression")
    clean["key_images"] = _validated_key_images(study, fields.get("key_images") or [])
    if template == "lungrads":
        category = str(fields.get("lungrads_category", "")).strip().upper()
        if category not in LUNGRADS_CATEGORIES:
            raise ReadingError(f"Lung-RADS category must be one of {', '.join(LUNGRADS_CATEGORIES)}")
        clean["lungrads_category"] = category
    return clean


MAX_KEY_IMAGES = 12


def _validated_key_images(study: Study, images: list) -> list[dict]:
    """Key images the reader chose for the referrer: slices of this study's own series."""
    if not isinstance(images, list) or len(images) > MAX_KEY_IMAGES:
        raise ReadingError(f"at most {MAX_KEY_IMAGES} key images")
    series = {s.pk: s for s in study.series.all()}
    clean = []
    for image in images:
        try:
            series_id, instance_id = int(image["series_id"]), str(image["instance_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ReadingError("a key image needs series_id and instance_id") from exc
        if series_id not in series or not instance_id.replace("-", "").isalnum():
            raise ReadingError("a key image must be a slice of this study")
        clean.append({"series_id": series_id, "series_instance_uid": series[series_id].series_instance_uid,
                      "instance_id": instance_id, "sop_instance_uid": _sop_instance_uid(instance_id),
                      "label": str(image.get("label", ""))[:80]})
    return clean


def _sop_instance_uid(instance_id: str) -> str:
    """The DICOM UID of a key image, for the FHIR and clinician views; blank if the archive is away."""
    from worklist import orthanc

    try:
        return orthanc.get_json(f"instances/{instance_id}").get("MainDicomTags", {}).get("SOPInstanceUID", "")
    except (orthanc.OrthancNotFound, orthanc.OrthancUnavailable):
        return ""


def report_text(study: Study, fields: dict) -> str:
    parts = [f"{study.study_description or study.modality}", "", "FINDINGS", fields["findings_text"] or "-",
             "", "IMPRESSION", fields["impression"]]
    if fields.get("lungrads_category"):
        parts += ["", f"Lung-RADS v2022 category: {fields['lungrads_category']}"]
    if fields["recommendation"]:
        parts += ["", "RECOMMENDATION", fields["recommendation"]]
    return "\n".join(parts)


def _new_version(*, study: Study, user, fields: dict, critical: bool, critical_note: str,
                 amendment_reason: str = "") -> ReportVersion:
    report, _ = Report.objects.get_or_create(study=study)
    number = report.versions.count() + 1
    version = ReportVersion.objects.create(
        report=report, number=number, template=fields["template"], fields=fields, text=report_text(study, fields),
        reading_mode=user.reading_mode, author=user, signed_at=timezone.now(), critical=critical,
        amendment_reason=amendment_reason[:300],
    )
    if critical:
        if not critical_note.strip():
            raise ReadingError("a critical result needs a note for the referring clinician")
        CriticalResult.objects.create(study=study, report_version=version, note=critical_note.strip()[:300],
                                      flagged_by=user)
    version_id = version.pk
    transaction.on_commit(lambda: _archive_later(version_id))
    return version


def _archive_later(version_id: int) -> None:
    from worklist.tasks import archive_report

    try:
        archive_report.delay(version_id)
    except Exception:  # noqa: BLE001 - the report is signed; the sweeper archives it later
        logger.warning("could not enqueue archiving of report version %s", version_id, exc_info=True)


def report_sign(*, study_id: int, user, fields: dict, critical: bool = False, critical_note: str = "") -> ReportVersion:
    """Sign the first report: ends the read (turnaround recorded) and releases the claim."""
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        if hasattr(study, "report"):
            raise ReadingError("study already has a signed report; amend it instead")
        version = _new_version(study=study, user=user, fields=_validated_fields(study, fields), critical=critical,
                               critical_note=critical_note)
        now = timezone.now()
        study.reading_state = ReadingState.REPORTED
        study.reported_at, study.reported_by = now, user
        study.claimed_by, study.claim_touched_at = None, None
        study.save()
        audit_record(user=user, action="report.sign", study=study, detail=f"v{version.number}")
        study_publish_on_commit(study.pk)
    return version


def report_amend(*, study_id: int, user, fields: dict, reason: str, critical: bool = False,
                 critical_note: str = "") -> ReportVersion:
    """A new signed version; every earlier version is kept as it was signed."""
    if not reason.strip():
        raise ReadingError("an amendment needs a reason")
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study_id)
        if study.reading_state != ReadingState.REPORTED or not hasattr(study, "report"):
            raise ReadingError("only a signed report can be amended")
        version = _new_version(study=study, user=user, fields=_validated_fields(study, fields), critical=critical,
                               critical_note=critical_note, amendment_reason=reason.strip())
        study.save(update_fields=["updated_at"])
        audit_record(user=user, action="report.amend", study=study, detail=f"v{version.number}: {reason[:200]}")
        study_publish_on_commit(study.pk)
    return version
