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
from reporting.key_images import KeyImageRefused, key_images_check
from reporting.models import ReportDraft
from reporting.rights import amend_check
from triage import birads, lungrads, pirads
from triage.priority import is_screening
from worklist.models import (
    CriticalResult,
    FindingDecision,
    FindingReview,
    ReadingState,
    Report,
    ReportVersion,
    Study,
)
from worklist.services import audit_record, study_facts, study_publish_on_commit

logger = logging.getLogger(__name__)

NODULE_TYPES = ("solid", "part_solid", "ground_glass")


class ReadingError(Exception):
    """The action is not allowed in the study's current state; the text says why."""


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
    # Mammography: the breast, the distance from the chest wall and one mark per view
    # ({view, series_instance_uid, sop_instance_uid, point_px: [col, row], radius_px}).
    breast: str = ""
    depth_mm: float | None = None
    views: list[dict] = field(default_factory=list)
    # Prostate MRI: the zone (pz | tz) and the sector in words.
    zone: str = ""
    location: str = ""
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
            "probability": None, "solid_mm": site.get("solid_mm"), "breast": site.get("breast", ""),
            "depth_mm": site.get("depth_mm"), "views": [], "zone": site.get("zone", ""),
            "location": site.get("location", "")}


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
        values = _reader_values(added)
        views.append(FindingView(key=f"reader-{added.pk}", source="reader", model="", label=_label(values),
                                 decision=FindingDecision.ADDED, **values))
    return views


def _label(values: dict) -> str:
    size = f"{values['diameter_mm']:g} mm " if values.get("diameter_mm") is not None else ""
    kind = (values.get("finding_type") or "finding").replace("_", "-")
    if values.get("breast"):
        kind = birads.FINDING_NAMES.get(values.get("finding_type"), kind)
        return f"{values['breast']} breast: {size}{kind}"
    if values.get("zone"):
        where = values.get("location") or pirads.ZONES.get(values["zone"], values["zone"])
        return f"{size}{kind}, {where}"
    return f"{size}{kind}".strip()


def _parse_ai_key(key: str) -> tuple[int, int]:
    try:
        prefix, run_id, index = key.split("-")
        assert prefix == "ai"
        return int(run_id), int(index)
    except (ValueError, AssertionError) as exc:
        raise ReadingError(f"unknown finding {key!r}") from exc


PROSTATE_TYPES = ("lesion",)


def finding_types(study: Study) -> tuple[str, ...]:
    """The finding types a reader may give on this study's template."""
    template = report_template(study)
    if template == "birads":
        return birads.FINDING_TYPES
    if template == "pirads":
        return PROSTATE_TYPES
    return NODULE_TYPES


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
    """(centre, site) of a reader-added finding (see `_reader_values`)."""
    template = report_template(study)
    centre = [float(v) for v in centre_mm] if centre_mm else None
    if centre is not None and len(centre) != 3:
        raise ReadingError("a centre needs x, y and z in mm")
    if template == "birads":
        if breast not in birads.BREASTS:
            raise ReadingError("a mammography finding needs its breast (R or L)")
        if depth_mm is not None and not 0 <= depth_mm <= 300:
            raise ReadingError("depth from the chest wall must be 0 to 300 mm")
        return centre, {"breast": breast, "depth_mm": depth_mm}
    if template == "pirads":
        if zone not in pirads.ZONES:
            raise ReadingError("a prostate lesion needs its zone (pz or tz)")
        return centre, {"zone": zone, "location": location.strip()[:120]}
    if centre is None:
        raise ReadingError("a finding needs a positive diameter and a centre (x, y, z in mm)")
    return centre, None


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


def report_template(study: Study) -> str:
    modality, body_part = study.modality.upper(), study.body_part.upper()
    if modality == "CT" and body_part in ("CHEST", "LUNG", "THORAX"):
        return "lungrads"
    if modality == "MG":
        return "birads"
    if modality == "MR" and (body_part == "PROSTATE" or "PROSTATE" in study.study_description.upper()):
        return "pirads"
    return "free"


KEPT = (FindingDecision.ACCEPTED, FindingDecision.EDITED, FindingDecision.ADDED)


def _accepted_nodules(findings: list[FindingView]) -> list[lungrads.Nodule]:
    kept = [f for f in findings if f.decision in KEPT]
    return [lungrads.Nodule(kind=f.finding_type, diameter_mm=f.diameter_mm, solid_mm=f.solid_mm)
            for f in kept if f.diameter_mm is not None and f.finding_type in NODULE_TYPES]


def _accepted_breast_findings(findings: list[FindingView]) -> list[birads.Finding]:
    return [birads.Finding(finding_type=f.finding_type, breast=f.breast, diameter_mm=f.diameter_mm,
                           depth_mm=f.depth_mm, views=tuple(v["view"] for v in f.views if v.get("view")))
            for f in findings
            if f.decision in KEPT and f.finding_type in birads.FINDING_TYPES and f.breast in birads.BREASTS]


def study_is_screening(study: Study) -> bool:
    """Screening or diagnostic mammography, as triage decides it for the reading queue (description,
    the RIS order's procedure, the patient location)."""
    return is_screening(study_facts(study))


def _ai_result(study: Study, model_name: str) -> dict:
    run = (AnalysisRun.objects.filter(study=study, model_name=model_name, status=AnalysisStatus.DONE)
           .order_by("-finished_at", "-pk").first())
    return (run.result or {}) if run else {}


def _birads_prefill(study: Study, draft: dict) -> dict:
    findings = _accepted_breast_findings(study_findings(study))
    screening = study_is_screening(study)
    suggestion = birads.suggest(findings, screening=screening)
    density = str(_ai_result(study, "mammography").get("density") or "").lower()
    density = density if density in birads.COMPOSITION else ""
    lines = [birads.composition_text(density)] if density else []
    lines += [f"- {birads.describe(f)}" for f in findings] or ["- No suspicious mass, calcification or distortion."]
    draft.update({
        "screening": screening,
        "breast_composition": density,
        "birads_category": suggestion.category,
        "birads_suggested": suggestion.category,
        "birads_rule": suggestion.rule,
        "findings_text": "\n".join(lines),
        "impression": f"BI-RADS {birads.assessment_text(suggestion.category)}.",
        "recommendation": suggestion.management + ".",
    })
    return draft


def _pirads_prefill(study: Study, draft: dict) -> dict:
    result = _ai_result(study, "prostate")
    lesions = [{"key": f.key, "zone": f.zone if f.zone in pirads.ZONES else "", "location": f.location,
                "diameter_mm": f.diameter_mm, "t2": None, "dwi": None, "dce": None}
               for f in study_findings(study)
               if f.decision in KEPT and (f.zone or f.finding_type in PROSTATE_TYPES)][:pirads.MAX_LESIONS]
    volume, psa = _float(result.get("gland_volume_ml")), _float(result.get("psa_ng_ml"))
    lines = [_prostate_line(volume, psa)]
    lines += [f"- Lesion {n}: {_lesion_site(lesion)}" for n, lesion in enumerate(lesions, 1)] or [
        "- No focal lesion."]
    draft.update({
        "gland_volume_ml": volume,
        "psa_ng_ml": psa,
        "psa_density": pirads.psa_density(psa, volume),
        "pirads_lesions": lesions,
        "findings_text": "\n".join(lines),
        "impression": "" if lesions else "PI-RADS 1: no focal lesion.",
    })
    return draft


def _prostate_line(volume: float | None, psa: float | None) -> str:
    parts = [f"gland volume {volume:g} ml" if volume is not None else "gland volume not measured"]
    if psa is not None:
        parts.append(f"PSA {psa:g} ng/ml")
        density = pirads.psa_density(psa, volume)
        if density is not None:
            parts.append(f"PSA density {density:.2f} ng/ml/ml")
    return "Prostate: " + "; ".join(parts) + "."


def _lesion_site(lesion: dict) -> str:
    zone = pirads.ZONES.get(lesion.get("zone") or "", "zone not given")
    size = f"{lesion['diameter_mm']:g} mm, " if lesion.get("diameter_mm") is not None else ""
    where = lesion.get("location") or ""
    return f"{size}{zone}" + (f", {where}" if where else "")


def report_prefill(study: Study) -> dict:
    """A draft the reader starts from: the template's fields filled from the accepted findings."""
    template = report_template(study)
    draft = {"template": template, "findings_text": "", "impression": "", "recommendation": ""}
    if template == "birads":
        return _birads_prefill(study, draft)
    if template == "pirads":
        return _pirads_prefill(study, draft)
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


def template_choices() -> dict:
    """What the reading page's structured fields offer; the PI-RADS cells come from the tables
    in triage/pirads.py so the page never codes the rules twice."""
    return {
        "lungrads_categories": list(LUNGRADS_CATEGORIES),
        "birads_categories": [{"value": c, "label": birads.assessment_text(c), "management": birads.MANAGEMENT[c]}
                              for c in birads.CATEGORIES],
        "breast_compositions": [{"value": k, "label": f"{k}: {v}"} for k, v in birads.COMPOSITION.items()],
        "pirads_table": pirads.lookup_table(),
        "pirads_assessment": {str(k): v for k, v in pirads.ASSESSMENT.items()},
        "pirads_zones": pirads.ZONES,
    }


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
    elif template == "birads":
        clean.update(_validated_birads(study, fields))
    elif template == "pirads":
        clean.update(_validated_pirads(fields))
    return clean


def _validated_birads(study: Study, fields: dict) -> dict:
    category = str(fields.get("birads_category") or "").strip().upper()
    if category not in birads.CATEGORIES:
        raise ReadingError(f"BI-RADS category must be one of {', '.join(birads.CATEGORIES)}")
    composition = str(fields.get("breast_composition") or "").strip().lower()
    if composition not in birads.COMPOSITION:
        raise ReadingError("breast composition must be a, b, c or d")
    # What the rules suggested at signing is kept beside what the reader chose: the difference
    # is what AI monitoring wants to see.
    screening = study_is_screening(study)
    suggestion = birads.suggest(_accepted_breast_findings(study_findings(study)), screening=screening)
    return {"birads_category": category, "breast_composition": composition, "screening": screening,
            "birads_suggested": suggestion.category, "birads_rule": suggestion.rule}


def _score(lesion: dict, name: str, number: int) -> int:
    value = lesion.get(name)
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = None
    if score is None or str(value).strip() not in (str(score), f"{score}.0") or score not in pirads.SCORES:
        label = {"t2": "T2W", "dwi": "DWI"}[name]
        raise ReadingError(f"lesion {number}: {label} score must be 1 to 5")
    return score


def _optional_number(fields: dict, name: str, label: str, high: float) -> float | None:
    value = fields.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not 0 < number <= high:
        raise ReadingError(f"{label} must be a number above 0 and at most {high:g}")
    return round(number, 2)


def _validated_pirads(fields: dict) -> dict:
    lesions = fields.get("pirads_lesions") or []
    if not isinstance(lesions, list) or len(lesions) > pirads.MAX_LESIONS:
        raise ReadingError(f"PI-RADS v2.1 reports at most {pirads.MAX_LESIONS} lesions")
    clean_lesions = []
    for number, lesion in enumerate(lesions, 1):
        if not isinstance(lesion, dict):
            raise ReadingError(f"lesion {number} is not a set of scores")
        zone = str(lesion.get("zone") or "").lower()
        if zone not in pirads.ZONES:
            raise ReadingError(f"lesion {number}: zone must be pz or tz")
        t2, dwi = _score(lesion, "t2", number), _score(lesion, "dwi", number)
        dce = lesion.get("dce")
        dce = "" if dce is None else str(dce).strip()
        if dce not in pirads.DCE_VALUES:
            raise ReadingError(f"lesion {number}: DCE must be +, - or not performed")
        diameter = _optional_number(lesion, "diameter_mm", f"lesion {number}: size (mm)", 150)
        category, rule = pirads.lesion_category(zone=zone, t2=t2, dwi=dwi, dce=dce)
        clean_lesions.append({
            "zone": zone, "location": str(lesion.get("location") or "").strip()[:120], "diameter_mm": diameter,
            "t2": t2, "dwi": dwi, "dce": dce, "category": category, "rule": rule,
            "key": str(lesion.get("key") or "")[:40],
        })
    volume = _optional_number(fields, "gland_volume_ml", "gland volume (ml)", 500)
    psa = _optional_number(fields, "psa_ng_ml", "PSA (ng/ml)", 10000)
    return {
        "pirads_lesions": clean_lesions,
        # Computed, never taken from the client: the category follows from the scores.
        "pirads_category": pirads.exam_category([lesion["category"] for lesion in clean_lesions]),
        "gland_volume_ml": volume, "psa_ng_ml": psa, "psa_density": pirads.psa_density(psa, volume),
    }


def _validated_key_images(study: Study, images: list) -> list[dict]:
    """Key images the reader chose for the referrer: images of this study (reporting/key_images.py)."""
    try:
        return key_images_check(study=study, images=images)
    except KeyImageRefused as exc:
        raise ReadingError(str(exc)) from exc


def report_text(study: Study, fields: dict) -> str:
    parts = [f"{study.study_description or study.modality}", "", "FINDINGS", fields["findings_text"] or "-",
             "", "IMPRESSION", fields["impression"]]
    if fields.get("lungrads_category"):
        parts += ["", f"Lung-RADS v2022 category: {fields['lungrads_category']}"]
    if fields.get("birads_category"):
        parts += ["", *birads_lines(fields)]
    if fields.get("template") == "pirads":
        parts += ["", *pirads_lines(fields)]
    if fields["recommendation"]:
        parts += ["", "RECOMMENDATION", fields["recommendation"]]
    return "\n".join(parts)


def birads_lines(fields: dict) -> list[str]:
    """The assessment block in the atlas's words (report text and PDF)."""
    category = fields["birads_category"]
    return [
        "ASSESSMENT (ACR BI-RADS Atlas, 5th edition)",
        birads.composition_text(fields["breast_composition"]),
        f"BI-RADS {birads.assessment_text(category)} ({birads.LIKELIHOOD[category]}).",
        f"Management: {birads.MANAGEMENT[category]}.",
    ]


def pirads_lesion_line(number: int, lesion: dict) -> str:
    return (f"Lesion {number} ({_lesion_site(lesion)}): T2W {lesion['t2']}, DWI {lesion['dwi']}, "
            f"DCE {pirads.DCE_WORDS[lesion['dce']]} -> PI-RADS {lesion['category']}")


def pirads_lines(fields: dict) -> list[str]:
    """The PI-RADS block: prostate measures, each lesion's scores and category, the exam category."""
    category = fields["pirads_category"]
    lines = ["ASSESSMENT (PI-RADS v2.1)",
             _prostate_line(fields.get("gland_volume_ml"), fields.get("psa_ng_ml"))]
    lines += [pirads_lesion_line(n, lesion) for n, lesion in enumerate(fields.get("pirads_lesions") or [], 1)]
    lines += [f"Overall PI-RADS v2.1 assessment category: {category} – {pirads.ASSESSMENT[category]}.",
              f"{pirads.BIOPSY_NOTE[category]}."]
    return lines


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
    ReportDraft.objects.filter(study=study).delete()  # what was drafted is now signed
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
        raise ReadingError("Give a reason for the amendment: say what was corrected.")
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study_id)
        if study.reading_state != ReadingState.REPORTED or not hasattr(study, "report"):
            raise ReadingError("only a signed report can be amended")
        amend_check(study=study, user=user)
        if study.claimed_by_id not in (None, user.pk):
            raise NotYourRead(f"{study.claimed_by.username} is amending this report")
        version = _new_version(study=study, user=user, fields=_validated_fields(study, fields), critical=critical,
                               critical_note=critical_note, amendment_reason=reason.strip())
        # The amendment is signed: the claim taken to amend it ends.
        study.claimed_by, study.claimed_at, study.claim_touched_at = None, None, None
        study.save(update_fields=["claimed_by", "claimed_at", "claim_touched_at", "updated_at"])
        audit_record(user=user, action="report.amend", study=study, detail=f"v{version.number}: {reason[:200]}")
        study_publish_on_commit(study.pk)
    return version
