"""Reporting services: what is known about a read, the draft, the preview, the report text and the
signing guard. Every report's wording comes from its template module (reporting.report_types), so
the page's preview, the signed text and the PDF are the same text.
"""

from __future__ import annotations

from django.db import transaction

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import ImageView
from reporting.report_types import ReadContext, ReportFieldError, report_type, template_choice, templates_for
from worklist.models import Series, Study, StudyStatus

NON_IMAGE = ("SR", "SEG", "PR", "KO", "DOC", "REG")


# --- what is known ------------------------------------------------------------------------------


def ai_note(study: Study) -> str:
    """The AI's state in plain words when its result cannot be relied on; "" when it is in."""
    if study.status == StudyStatus.AI_FAILED:
        return f"AI analysis failed: {study.status_reason or 'no reason given'}; read without AI."
    if study.status == StudyStatus.NO_AI:
        return "AI analysis does not apply to this study; read without AI."
    if study.status != StudyStatus.ANALYSED:
        return "AI analysis is not finished yet; read without AI or wait for it."
    failed = AnalysisRun.objects.filter(study=study, status=AnalysisStatus.FAILED).order_by("model_name")
    reasons = [f"{run.model_name}: {run.error or 'no reason given'}" for run in failed]
    if reasons:
        return f"AI analysis failed ({'; '.join(reasons)}); read without that model."
    return ""


def arriving_note(study: Study) -> str:
    """Plain words while the study was analysed before Orthanc called it complete; "" otherwise."""
    return study.images_arriving_note


def images_note(study: Study, user) -> str:
    """"" when the reader's viewer has shown the images; otherwise why not, in plain words."""
    views = list(ImageView.objects.filter(study=study, user=user).select_related("series"))
    failed = [v for v in views if not v.shown]
    if failed:
        which = "; ".join(f"series {v.series.series_number or v.series_id} ({v.series.description or 'no name'}): "
                          f"{v.error or 'not shown'}" for v in failed)
        return f"The viewer could not show the images ({which})."
    if not any(v.shown for v in views):
        return "The images have not been viewed yet."
    return ""


def ai_results(study: Study) -> dict:
    """The newest finished result of each model."""
    results = {}
    for run in AnalysisRun.objects.filter(study=study, status=AnalysisStatus.DONE).order_by("finished_at", "pk"):
        results[run.model_name] = run.result or {}
    return results


def read_context(study: Study, user, findings: list) -> ReadContext:
    return ReadContext(findings=findings, ai_note=ai_note(study), images_note=images_note(study, user),
                       arriving_note=arriving_note(study), ai_results=ai_results(study))


def image_view_record(*, study: Study, user, series_id: int, shown: bool, error: str = "") -> ImageView:
    """What the reader's viewer could show (sent by the reading page as each series loads)."""
    series = Series.objects.filter(pk=series_id, study=study).first()
    if series is None:
        raise ReportFieldError("that series is not part of this study")
    view, _ = ImageView.objects.update_or_create(series=series, user=user, defaults={
        "study": study, "shown": shown, "error": "" if shown else (error.strip()[:300] or "not shown")})
    return view


# --- the draft and the preview -------------------------------------------------------------------


def report_draft(study: Study, ctx: ReadContext, template: str = "") -> dict:
    """What the reader starts from: only what is known (ReadContext.notes say what is not)."""
    choice = template_choice(study, template)
    draft = {"template": choice.type.name, "notes": ctx.notes, **choice.type.prefill(study, ctx)}
    return draft


def report_template_info(study: Study, template: str = "") -> dict:
    choice = template_choice(study, template)
    return {"template": choice.type.name, "template_title": choice.type.title, "template_reason": choice.reason,
            "templates": templates_for(study), "finding_types": list(choice.type.finding_types),
            "choices": choice.type.choices(), "size_label": choice.type.size.label}


def common_fields(fields: dict) -> dict:
    return {
        "findings_text": str(fields.get("findings_text", "") or "").strip(),
        "impression": str(fields.get("impression", "") or "").strip(),
        "recommendation": str(fields.get("recommendation", "") or "").strip(),
    }


def report_preview(study: Study, ctx: ReadContext, fields: dict, edited: list[str]) -> dict:
    """The report as it would be signed, for the page's preview. Impression and recommendation
    follow the category unless the reader edited them (`edited`); what the guard would refuse is
    listed in `problems`."""
    rtype = template_choice(study, str(fields.get("template") or "")).type
    clean = {"template": rtype.name, **common_fields(fields)}
    auto = rtype.auto_texts(study, fields, ctx)
    for name, value in auto.items():
        if name not in edited:
            clean[name] = value
    try:
        clean.update(rtype.validate(study, fields, ctx))
        error = ""
    except ReportFieldError as exc:
        error = str(exc)
    problems = [error] if error else []
    if not error:
        problems += sign_problems(clean, ctx, rtype)
    return {"fields": clean, "auto": auto, "text": report_text(study, clean), "problems": problems}


def report_fields_validated(study: Study, fields: dict, ctx: ReadContext) -> dict:
    """The report's fields as they will be signed; ReportFieldError says what is wrong."""
    rtype = template_choice(study, str(fields.get("template") or "")).type
    clean = {"template": rtype.name, **common_fields(fields)}
    if not clean["impression"]:
        raise ReportFieldError("the report needs an impression")
    clean.update(rtype.validate(study, fields, ctx))
    return clean


# --- the guard ----------------------------------------------------------------------------------


def sign_problems(fields: dict, ctx: ReadContext, rtype=None) -> list[str]:
    """Why this report should not be signed as it stands, in the radiologist's words.

    Signing anyway needs an override reason (stored with the version and in the audit log)."""
    rtype = rtype or report_type(fields["template"])
    problems = []
    if ctx.unreviewed:
        problems.append(f"{ctx.unreviewed_note[:-1]}: accept or reject every AI finding before signing.")
    if ctx.images_note:
        problems.append(f"{ctx.images_note} Reports are signed on images the reader has seen.")
    if ctx.arriving_note:
        problems.append(f"{ctx.arriving_note} Reports are signed on the complete study.")
    problems += rtype.contradictions(fields)
    return problems


def refusal_text(problems: list[str]) -> str:
    return "Not signed. " + " ".join(problems) + " To sign anyway, give an override reason."


# --- the text ----------------------------------------------------------------------------------


def report_sections(study: Study, fields: dict) -> list[tuple[str, list[str]]]:
    """(heading, lines) in reading order: the one source of the text, the preview and the PDF."""
    rtype = report_type(fields.get("template") or "free")
    sections = [("FINDINGS", [fields.get("findings_text") or "-"]), ("IMPRESSION", [fields.get("impression", "")])]
    heading, lines = rtype.assessment(fields)
    if lines:
        sections.append((heading, lines))
    if fields.get("recommendation"):
        sections.append(("RECOMMENDATION", [fields["recommendation"]]))
    return sections


def report_title(study: Study) -> str:
    return study.study_description or study.modality


def report_text(study: Study, fields: dict) -> str:
    parts = [report_title(study)]
    for heading, lines in report_sections(study, fields):
        parts += ["", heading, *lines]
    return "\n".join(parts)


@transaction.atomic
def image_view_record_for(*, study_id: int, user, series_id: int, shown: bool, error: str = "") -> ImageView:
    study = Study.objects.get(pk=study_id)
    return image_view_record(study=study, user=user, series_id=series_id, shown=shown, error=error)
