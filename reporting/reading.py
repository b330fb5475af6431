"""The radiologist's read: AI findings under review, the structured report, signing and amending.

Every action needs the study to be claimed by the reader doing it (`access_*` helpers below), so a
second radiologist can look at a study but never write on a read that is not theirs.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils import timezone

from inference.models import AnalysisRun, AnalysisStatus
from reporting import services as reporting_services
from reporting.key_images import KeyImageRefused, key_images_check
from reporting.models import CriticalResult, FindingDecision, FindingReview, Report, ReportDraft, ReportVersion
from reporting.report_types import ReadContext, ReportFieldError, template_choice
from reporting.report_types.breast import is_screening as mammogram_is_screening
from reporting.rights import amend_check
from reporting.signals import report_signed_on_commit
from reporting.tasks import archive_report
from worklist.models import ReadingState, Study
from worklist.selectors import marks_visible
from worklist.services import audit_record, study_publish_on_commit

logger = logging.getLogger(__name__)

NODULE_TYPES = ("solid", "part_solid", "ground_glass")


class ReadingError(Exception):
    """The action is not allowed in the study's current state; the text says why."""

    http_status = 409


class NotYourRead(ReadingError):
    """The study is not claimed by this reader."""


# --- access ------------------------------------------------------------------------------------


def access_study_for_reading(*, study_id: int, user, lock: bool = True) -> Study:
    """The study, locked, if `user` holds its claim; NotYourRead otherwise. A reported study is
    claimed only to amend it (`reporting.amend.amendment_open`, which checks who may amend)."""
    query = Study.objects.select_for_update() if lock else Study.objects
    study = query.get(pk=study_id)
    if study.claimed_by_id != user.pk or study.reading_state not in (ReadingState.IN_PROGRESS, ReadingState.REPORTED):
        holder = study.claimed_by.username if study.claimed_by_id else None
        raise NotYourRead(f"study is claimed by {holder}" if holder else "claim the study before reading it")
    return study


# --- findings ----------------------------------------------------------------------------------


@dataclass
class FindingView:
    key: str
    source: str  # "ai" | "reader"
    model: str
    label: str
    centre_mm: list[float] | None
    diameter_mm: float | None  # as measured: the AI's long axis, or the size the reader gave
    finding_type: str
    probability: float | None
    decision: str  # "" (not yet reviewed), or a FindingDecision
    solid_mm: float | None = None
    # Mammography: the breast, the distance from the chest wall and one mark per view
    # ({view, series_instance_uid, sop_instance_uid, point_px: [col, row], radius_px}).
    breast: str = ""
    depth_mm: float | None = None
    views: list[dict] = field(default_factory=list)
    # Prostate MRI: the zone (pz | tz) and the sector in words.
    zone: str = ""
    location: str = ""
    ai_values: dict = field(default_factory=dict)
    mean_diameter_mm: float | None = None  # the AI's (long + short axis) / 2, for Lung-RADS and Fleischner
    size_mm: float | None = None  # the size in the study's template convention...
    size_label: str = ""  # ...and that convention, e.g. "mean diameter (Lung-RADS v2022)"

    def as_dict(self) -> dict:
        return asdict(self)


def _ai_finding_values(raw: dict) -> dict:
    centre = raw.get("centre_mm") or raw.get("center_mm") or raw.get("centre")
    return {
        "centre_mm": [float(v) for v in centre] if centre else None,
        "diameter_mm": _float(raw.get("diameter_mm", raw.get("long_axis_mm"))),
        "mean_diameter_mm": _float(raw.get("mean_diameter_mm")),
        "finding_type": str(raw.get("type", raw.get("finding_type", "")) or ""),
        "probability": _float(raw.get("probability")),
        "solid_mm": _float(raw.get("solid_mm")),
        "breast": str(raw.get("breast") or "").upper()[:1],
        "depth_mm": _float(raw.get("depth_mm")),
        "views": _image_views(raw.get("views")),
        "zone": str(raw.get("zone") or "").lower(),
        "location": str(raw.get("location") or "")[:120],
    }


def _image_views(views) -> list[dict]:
    """The per-view marks of a 2-D finding, kept only when complete enough to draw."""
    clean = []
    for view in views if isinstance(views, list) else []:
        try:
            point = [float(view["point_px"][0]), float(view["point_px"][1])]
            clean.append({"view": str(view.get("view", ""))[:8],
                          "series_instance_uid": str(view["series_instance_uid"]),
                          "sop_instance_uid": str(view["sop_instance_uid"]), "point_px": point,
                          "radius_px": float(view.get("radius_px") or 10.0)})
        except (KeyError, TypeError, ValueError, IndexError):
            continue
    return clean


def _float(value) -> float | None:
    try:
        return None if value is None else round(float(value), 2)
    except (TypeError, ValueError):
        return None


def _reader_values(added: FindingReview) -> dict:
    """A reader-added finding: a 3-D centre on CT; on mammography and prostate MRI, whose findings
    are not placed by a 3-D centre alone, a site (breast and depth, or zone and location)."""
    site = added.site or {}
    return {"centre_mm": added.centre_mm, "diameter_mm": added.diameter_mm, "finding_type": added.finding_type,
            "mean_diameter_mm": None, "probability": None, "solid_mm": site.get("solid_mm"),
            "breast": site.get("breast", ""), "depth_mm": site.get("depth_mm"), "views": [],
            "zone": site.get("zone", ""), "location": site.get("location", "")}


def study_findings(study: Study) -> list[FindingView]:
    """AI findings of every finished analysis with the reader's decisions, then reader-added ones,
    sized and labelled in the convention of the study's template (reporting.report_types)."""
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
                label="", decision=review.decision if review else "", ai_values=ai, **values,
            ))
    for added in study.finding_reviews.filter(decision=FindingDecision.ADDED).order_by("pk"):
        values = _reader_values(added)
        views.append(FindingView(key=f"reader-{added.pk}", source="reader", model="", label="",
                                 decision=FindingDecision.ADDED, **values))
    rtype = template_choice(study).type
    for view in views:
        view.size_mm, view.size_label = rtype.size.value(view), rtype.size.label
        view.label = rtype.finding_label(view)
    return views


def _parse_ai_key(key: str) -> tuple[int, int]:
    try:
        prefix, run_id, index = key.split("-")
        assert prefix == "ai"
        return int(run_id), int(index)
    except (ValueError, AssertionError) as exc:
        raise ReadingError(f"unknown finding {key!r}") from exc


def finding_types(study: Study) -> tuple[str, ...]:
    """The finding types a reader may give on this study's template."""
    return template_choice(study).type.finding_types


def _check_type(study: Study, finding_type: str) -> None:
    allowed = finding_types(study)
    if finding_type not in allowed:
        raise ReadingError(f"type must be one of {', '.join(allowed)}")


def finding_review(*, study_id: int, user, key: str, decision: str, diameter_mm: float | None = None,
                   finding_type: str | None = None, note: str = "") -> FindingReview:
    """Accept, reject or edit one AI finding. Editing needs a new size or type."""
    if decision not in (FindingDecision.ACCEPTED, FindingDecision.REJECTED, FindingDecision.EDITED):
        raise ReadingError(f"decision must be accepted, rejected or edited, not {decision!r}")
    if decision == FindingDecision.EDITED and diameter_mm is None and not finding_type:
        raise ReadingError("an edit needs a new diameter or type")
    run_id, index = _parse_ai_key(key)
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        if finding_type:
            _check_type(study, finding_type)
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


def _added_position(study: Study, *, centre_mm, breast: str, depth_mm, zone: str,
                    location: str) -> tuple[list[float] | None, dict | None]:
    """(centre, site) of a reader-added finding (see `_reader_values`); the template says what it needs."""
    centre = [float(v) for v in centre_mm] if centre_mm else None
    if centre is not None and len(centre) != 3:
        raise ReadingError("a centre needs x, y and z in mm")
    try:
        site = template_choice(study).type.added_site(centre=centre, breast=breast, depth_mm=depth_mm, zone=zone,
                                                      location=location)
    except ReportFieldError as exc:
        raise ReadingError(str(exc)) from exc
    return centre, site


def finding_add(*, study_id: int, user, diameter_mm: float, finding_type: str, centre_mm: list[float] | None = None,
                breast: str = "", depth_mm: float | None = None, zone: str = "", location: str = "",
                note: str = "") -> FindingReview:
    """A finding the AI missed, added by the reader: a 3-D centre on CT, the breast on mammography
    (the image position may be left out), the zone and sector on prostate MRI."""
    if diameter_mm is None or diameter_mm <= 0:
        raise ReadingError("a finding needs a positive diameter and a centre (x, y, z in mm)")
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        _check_type(study, finding_type)
        centre, site = _added_position(study, centre_mm=centre_mm, breast=breast, depth_mm=depth_mm, zone=zone,
                                       location=location)
        review = FindingReview.objects.create(
            study=study, decision=FindingDecision.ADDED, centre_mm=centre, site=site,
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
# The templates (Lung-RADS v2022, Fleischner 2017, BI-RADS 5th ed., PI-RADS v2.1, free text) are
# modules of reporting.report_types; these wrappers keep the reading workflow's callers working.


def report_template(study: Study) -> str:
    """The name of the study's default template (the reader may switch, see reporting.report_types)."""
    return template_choice(study).type.name


def study_is_screening(study: Study) -> bool:
    return mammogram_is_screening(study)


def read_context(study: Study, user=None) -> ReadContext:
    """What is known about this read. Without a reader (a script, the archive) the images are not
    asked about; the reading page and the signing guard always pass the reader."""
    ctx = reporting_services.read_context(study, user, study_findings(study)) if user else ReadContext(
        findings=study_findings(study), ai_note=reporting_services.ai_note(study),
        arriving_note=reporting_services.arriving_note(study), ai_results=reporting_services.ai_results(study))
    return ctx


def report_prefill(study: Study, user=None, template: str = "") -> dict:
    """A draft the reader starts from: only what is known (see reporting.services.report_draft)."""
    try:
        return reporting_services.report_draft(study, read_context(study, user), template)
    except ReportFieldError as exc:
        raise ReadingError(str(exc)) from exc


def report_preview(*, study_id: int, user, fields: dict, edited: list[str]) -> dict:
    study = Study.objects.get(pk=study_id)
    try:
        return reporting_services.report_preview(study, read_context(study, user), fields, edited)
    except ReportFieldError as exc:
        raise ReadingError(str(exc)) from exc


def _validated_fields(study: Study, fields: dict, ctx: ReadContext) -> dict:
    try:
        clean = reporting_services.report_fields_validated(study, fields, ctx)
    except ReportFieldError as exc:
        raise ReadingError(str(exc)) from exc
    clean["key_images"] = _validated_key_images(study, fields.get("key_images") or [])
    return clean



def _validated_key_images(study: Study, images: list) -> list[dict]:
    """Key images the reader chose for the referrer: images of this study (reporting/key_images.py)."""
    try:
        return key_images_check(study=study, images=images)
    except KeyImageRefused as exc:
        raise ReadingError(str(exc)) from exc


def report_text(study: Study, fields: dict) -> str:
    return reporting_services.report_text(study, fields)



def _new_version(*, study: Study, user, fields: dict, critical: bool, critical_note: str, amendment_reason: str = "",
                 override_reason: str = "", overridden: list | None = None) -> ReportVersion:
    report, _ = Report.objects.get_or_create(study=study)
    number = report.versions.count() + 1
    version = ReportVersion.objects.create(
        report=report, number=number, template=fields["template"], fields=fields, text=report_text(study, fields),
        reading_mode=user.reading_mode, author=user, signed_at=timezone.now(), critical=critical,
        amendment_reason=amendment_reason[:300], override_reason=override_reason[:500], overridden=overridden or [],
    )
    if critical:
        if not critical_note.strip():
            raise ReadingError("a critical result needs a note for the referring clinician")
        CriticalResult.objects.create(study=study, report_version=version, note=critical_note.strip()[:300],
                                      flagged_by=user)
    ReportDraft.objects.filter(study=study).delete()  # what was drafted is now signed
    version_id = version.pk
    transaction.on_commit(lambda: _archive_later(version_id))
    # After commit, so a signature that rolls back tells no one (priors mines signed reports).
    report_signed_on_commit(version_id=version_id, study_id=study.pk, amended=number > 1)
    return version


def _archive_later(version_id: int) -> None:
    try:
        archive_report.delay(version_id)
    except Exception:  # noqa: BLE001 - the report is signed; the sweeper archives it later
        logger.warning("could not enqueue archiving of report version %s", version_id, exc_info=True)


class SignRefused(ReadingError):
    """The signing guard's objections (reporting.services.sign_problems); an override reason signs anyway."""

    def __init__(self, problems: list[str]):
        super().__init__(reporting_services.refusal_text(problems))
        self.problems = problems

    def api_data(self) -> dict:
        # The page lists the problems and asks for an override reason.
        return {"detail": str(self), "problems": self.problems, "override_needed": True}


def _signing_guard(study: Study, user, fields: dict, override_reason: str) -> tuple[dict, list[str], str]:
    """The one guard for every signature, first version or amendment: the validated fields, the
    guard's objections, and the override reason kept with them (blank when nothing was overridden).
    Raises SignRefused when there are objections and no reason."""
    ctx = read_context(study, user)
    clean = _validated_fields(study, fields, ctx)
    problems = reporting_services.sign_problems(clean, ctx)
    override_reason = override_reason.strip()
    if problems and not override_reason:
        raise SignRefused(problems)
    return clean, problems, override_reason if problems else ""


def _audit_override(*, user, study: Study, version: ReportVersion) -> None:
    if version.overridden:
        detail = f"v{version.number}: {version.override_reason[:120]} | {' '.join(version.overridden)}"
        audit_record(user=user, action="report.sign_override", study=study, detail=detail[:300])


def report_sign(*, study_id: int, user, fields: dict, critical: bool = False, critical_note: str = "",
                override_reason: str = "") -> ReportVersion:
    """Sign the first report: ends the read (turnaround recorded) and releases the claim.

    The guard runs here, not only on the page: unreviewed AI findings, images the reader could not
    view, or a category the impression or recommendation contradicts refuse the signature unless
    the reader gives an override reason, which is kept with the version and in the audit log."""
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        if hasattr(study, "report"):
            raise ReadingError("study already has a signed report; amend it instead")
        clean, problems, override_reason = _signing_guard(study, user, fields, override_reason)
        version = _new_version(study=study, user=user, fields=clean, critical=critical, critical_note=critical_note,
                               override_reason=override_reason, overridden=problems)
        now = timezone.now()
        study.reading_state = ReadingState.REPORTED
        study.reported_at, study.reported_by = now, user
        study.claimed_by, study.claim_touched_at = None, None
        study.save()
        audit_record(user=user, action="report.sign", study=study, detail=f"v{version.number}")
        _audit_override(user=user, study=study, version=version)
        study_publish_on_commit(study.pk)
    return version


def report_amend(*, study_id: int, user, fields: dict, reason: str, critical: bool = False,
                 critical_note: str = "", override_reason: str = "") -> ReportVersion:
    """A new signed version; every earlier version is kept as it was signed. An amendment is signed
    text like the first version, so the same guard applies (unreviewed findings, images not viewed,
    contradictions), with the same override."""
    if not reason.strip():
        raise ReadingError("Give a reason for the amendment: say what was corrected.")
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study_id)
        if study.reading_state != ReadingState.REPORTED or not hasattr(study, "report"):
            raise ReadingError("only a signed report can be amended")
        amend_check(study=study, user=user)
        if study.claimed_by_id not in (None, user.pk):
            amender = study.claimed_by.get_full_name() or study.claimed_by.username
            raise NotYourRead(f"{amender} is amending this report")
        clean, problems, override_reason = _signing_guard(study, user, fields, override_reason)
        version = _new_version(study=study, user=user, fields=clean, critical=critical, critical_note=critical_note,
                               amendment_reason=reason.strip(), override_reason=override_reason, overridden=problems)
        _audit_override(user=user, study=study, version=version)
        # The amendment is signed: the claim taken to amend it ends.
        study.claimed_by, study.claimed_at, study.claim_touched_at = None, None, None
        study.save(update_fields=["claimed_by", "claimed_at", "claim_touched_at", "updated_at"])
        audit_record(user=user, action="report.amend", study=study, detail=f"v{version.number}: {reason[:200]}")
        study_publish_on_commit(study.pk)
    return version
