"""Amending a signed report, as a correction (who may: reporting/rights.py).

Amending reopens findings review for that reader: `amendment_open` claims the reported study for
them (through `study_claim`), so they can accept, reject, edit and add findings again; the corrected
findings prefill the new version, which is signed with its reason (`reporting.reading.report_amend`).
Every earlier version is kept as it was signed.
"""

from __future__ import annotations

from reporting.models import ReportVersion
from reporting.reading import ReadingError, report_prefill
from reporting.rights import amend_check
from worklist.models import ReadingState, Study
from worklist.services import StudyClaimedByOther, StudyNotClaimable, audit_record, study_claim


def amendment_open(*, study_id: int, user, request=None) -> Study:
    """Claim the reported study for `user` to amend it (also renews an amendment already open).
    AmendNotAllowed if the rule forbids it; ReadingError if the study has no signed report or a
    colleague is amending it."""
    study = Study.objects.get(pk=study_id)
    if study.reading_state != ReadingState.REPORTED or not ReportVersion.objects.filter(report__study=study).exists():
        raise ReadingError("only a signed report can be amended")
    amend_check(study=study, user=user)
    try:
        study = study_claim(study_id=study_id, user=user, for_amendment=True)
    except StudyClaimedByOther as exc:
        raise ReadingError(f"{exc} is amending this report") from exc
    except StudyNotClaimable as exc:
        raise ReadingError(str(exc)) from exc
    audit_record(user=user, action="report.amendment_open", study=study, request=request)
    return study


def amendment_prefill(study: Study, user=None, template: str = "") -> dict:
    """The form an amendment starts from: the version in force, with what the (corrected) findings
    say in place of its findings, impression and recommendation where the template writes them."""
    latest = ReportVersion.objects.filter(report__study=study).order_by("-number").first()
    fields = dict(latest.fields) if latest else {}
    prefill = report_prefill(study, user, template)
    fields.update({name: value for name, value in prefill.items() if value not in ("", None, [])})
    return fields
