"""Report templates, one module each, behind a registry (as inference/cad/registry.py does for
CAD models). The first registered template that applies to a study is its default; the reader may
switch to any other template that can report the study (free text always can).
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting.report_types import breast, free_text, incidental_nodule, lung_screening, prostate
from reporting.report_types.base import ReadContext, ReportFieldError, ReportType

__all__ = ["ReadContext", "ReportFieldError", "ReportType", "REGISTRY", "report_type", "template_choice",
           "templates_for"]

REGISTRY: dict[str, ReportType] = {t.name: t for t in (
    lung_screening.TYPE, incidental_nodule.TYPE, breast.TYPE, prostate.TYPE, free_text.TYPE)}


@dataclass(frozen=True)
class Choice:
    type: ReportType
    reason: str


def report_type(name: str) -> ReportType:
    if name not in REGISTRY:
        raise ReportFieldError(f"unknown report template {name!r}")
    return REGISTRY[name]


def template_choice(study, requested: str = "") -> Choice:
    """The template for this study: the reader's choice if it can report the study, else the default."""
    if requested:
        chosen = report_type(requested)
        if not chosen.can_report(study):
            raise ReportFieldError(f"the {chosen.title} template does not fit this study")
        applies, why = chosen.applies_to(study)
        return Choice(chosen, why if applies else f"chosen by the reader ({why})")
    for candidate in REGISTRY.values():
        applies, why = candidate.applies_to(study)
        if applies:
            return Choice(candidate, why)
    raise AssertionError("free text applies to every study")


def templates_for(study) -> list[dict]:
    """The templates the reader may switch to on this study, each with why it is or is not the default."""
    return [{**t.describe(), "why": t.applies_to(study)[1]} for t in REGISTRY.values() if t.can_report(study)]
