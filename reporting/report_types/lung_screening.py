"""Lung cancer screening CT: ACR Lung-RADS v2022 (released November 2022).

Lung-RADS is for lung cancer screening with low-dose CT only; every other chest CT is reported with
the Fleischner Society 2017 template (incidental_nodule.py). Sizes are mean diameters (long + short
axis) / 2 to one decimal place, as v2022 asks (../shared/DOMAIN.md, "Measuring"). The category rules
are in triage/lungrads.py.
"""

from __future__ import annotations

from reporting.report_types.base import (
    ReadContext,
    ReportFieldError,
    ReportType,
    SizeConvention,
    mentions,
    same_sentence,
)
from triage import lungrads

CATEGORIES = ("0", "1", "2", "3", "4A", "4B", "4X")
NODULE_TYPES = ("solid", "part_solid", "ground_glass")
CHEST_PARTS = ("CHEST", "LUNG", "THORAX")
# Lung-RADS v2022 category descriptors, shortened.
MEANING = {
    "0": "incomplete, additional imaging or comparison needed",
    "1": "negative, no lung nodules or definitely benign nodules",
    "2": "benign appearance or behaviour",
    "3": "probably benign",
    "4A": "suspicious",
    "4B": "very suspicious",
    "4X": "very suspicious, with additional features",
}
MANAGEMENT = {**lungrads.MANAGEMENT, "0": "Additional lung cancer screening CT images and/or comparison to prior CT"}


def is_chest_ct(study) -> bool:
    return study.modality.upper() == "CT" and (
        study.body_part.upper() in CHEST_PARTS
        or any(word in study.study_description.upper() for word in ("CHEST", "LUNG", "THORAX")))


def is_screening_ldct(study) -> bool:
    """A lung screening protocol, from what the study and its order say ("LOW DOSE LUNG SCREENING", "LDCT")."""
    from worklist.models import Order

    order = Order.objects.filter(accession_number=study.accession_number).first() if study.accession_number else None
    texts = [study.study_description, study.patient_location, order.procedure if order else ""]
    words = " ".join(t or "" for t in texts).upper()
    return "SCREEN" in words or "LDCT" in words or "LOW DOSE" in words


def nodules(ctx: ReadContext, size: SizeConvention) -> list[tuple[object, lungrads.Nodule]]:
    """Accepted, edited and added nodules with their size in the template's convention."""
    kept = []
    for finding in ctx.kept:
        mm = size.value(finding)
        if mm is not None and finding.finding_type in NODULE_TYPES:
            solid = size.round(finding.solid_mm) if finding.solid_mm is not None else None
            kept.append((finding, lungrads.Nodule(kind=finding.finding_type, diameter_mm=mm, solid_mm=solid)))
    return kept


def nodule_line(finding, nodule: lungrads.Nodule, size: SizeConvention) -> str:
    """"15.9 mm mean diameter (Lung-RADS v2022) solid nodule"; a part-solid nodule's solid part only when measured."""
    kind = nodule.kind.replace("_", "-")
    line = f"{size.text(nodule.diameter_mm)} {kind} nodule"
    if nodule.kind == "part_solid" and nodule.solid_mm:
        line += f" (solid part {size.number(nodule.solid_mm)} mm)"
    return line


class LungScreening(ReportType):
    name = "lungrads"
    title = "Lung-RADS v2022"
    standard = "ACR Lung-RADS v2022"
    finding_types = NODULE_TYPES
    size = SizeConvention("mean", 1, "mean diameter", "Lung-RADS v2022")
    category_field = "lungrads_category"

    def can_report(self, study) -> bool:
        return is_chest_ct(study)

    def applies_to(self, study) -> tuple[bool, str]:
        if not is_chest_ct(study):
            return False, "not a chest CT"
        if not is_screening_ldct(study):
            return False, "not a lung cancer screening protocol"
        return True, "lung cancer screening low-dose CT: Lung-RADS v2022 applies"

    def suggestion(self, ctx: ReadContext):
        return lungrads.suggest([n for _, n in nodules(ctx, self.size)])

    def prefill(self, study, ctx: ReadContext) -> dict:
        kept = nodules(ctx, self.size)
        suggestion = self.suggestion(ctx)
        lines = [f"- {nodule_line(f, n, self.size)}" for f, n in kept]
        if not lines and ctx.complete:
            lines = ["- No pulmonary nodule."]
        # Nothing accepted while something is unknown: no suggestion either ("1: no lung nodules" would
        # be the negative result the draft must not state).
        known = ctx.complete or bool(kept)
        draft = {"findings_text": "\n".join([*ctx.notes, "Lungs:", *lines]),
                 "lungrads_suggested": suggestion.category if known else "",
                 "lungrads_rule": suggestion.rule if known else "",
                 "lungrads_category": "", "impression": "", "recommendation": ""}
        # With anything unknown, no category is prefilled: the reader chooses it.
        if ctx.complete:
            draft["lungrads_category"] = suggestion.category
            draft.update(self.auto_texts(study, draft, ctx))
        return draft

    def auto_texts(self, study, fields: dict, ctx: ReadContext) -> dict:
        category = str(fields.get("lungrads_category") or "").upper()
        if category not in CATEGORIES:
            return {}
        suggestion = self.suggestion(ctx)
        why = suggestion.rule if suggestion.category == category else MEANING[category]
        return {"impression": f"Lung-RADS {category}: {why}.", "recommendation": MANAGEMENT[category] + "."}

    def validate(self, study, fields: dict, ctx: ReadContext) -> dict:
        category = str(fields.get("lungrads_category", "")).strip().upper()
        if category not in CATEGORIES:
            raise ReportFieldError(f"Lung-RADS category must be one of {', '.join(CATEGORIES)}")
        suggestion = self.suggestion(ctx)
        return {"lungrads_category": category, "lungrads_suggested": suggestion.category,
                "lungrads_rule": suggestion.rule}

    def contradictions(self, fields: dict) -> list[str]:
        category = fields.get("lungrads_category", "")
        problems = []
        for name in ("impression", "recommendation"):
            named = mentions(fields.get(name, ""), "Lung-RADS", CATEGORIES) - {category}
            if named:
                problems.append(f"The {name} says Lung-RADS {', '.join(sorted(named))} but the category is {category}.")
        recommendation = fields.get("recommendation", "")
        other = [c for c in CATEGORIES if MANAGEMENT[c] != MANAGEMENT.get(category)
                 and same_sentence(recommendation, MANAGEMENT[c])]
        if other and not any("recommendation" in p for p in problems):
            problems.append(f"The recommendation is the Lung-RADS {other[0]} management, "
                            f"not that of category {category}.")
        return problems

    def assessment(self, fields: dict) -> tuple[str, list[str]]:
        category = fields.get("lungrads_category")
        if not category:
            return "", []
        return "ASSESSMENT (ACR Lung-RADS v2022)", [f"Lung-RADS v2022 category: {category} ({MEANING[category]})."]

    def choices(self) -> dict:
        return {"categories": [{"value": c, "label": f"{c}: {MEANING[c]}"} for c in CATEGORIES]}


TYPE = LungScreening()
