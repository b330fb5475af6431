"""Mammography: ACR BI-RADS Atlas, 5th edition (2013), screening and diagnostic examinations.

Sizes are the longest dimension in whole mm (../shared/DOMAIN.md, "Measuring"). The suggestion
rules are in triage/birads.py; the reader assigns the category.
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
from triage import birads


def is_screening(study) -> bool:
    """Screening or diagnostic, as triage decides it for the reading queue (description, the RIS
    order's procedure, the patient location)."""
    from triage.priority import is_screening as triage_screening
    from worklist.services import study_facts

    return triage_screening(study_facts(study))


class Breast(ReportType):
    name = "birads"
    title = "BI-RADS, ACR 5th edition"
    standard = "ACR BI-RADS Atlas, 5th edition"
    finding_types = birads.FINDING_TYPES
    size = SizeConvention("long", 0, "long axis", "BI-RADS 5th ed.")
    category_field = "birads_category"

    def can_report(self, study) -> bool:
        return study.modality.upper() == "MG"

    def applies_to(self, study) -> tuple[bool, str]:
        if not self.can_report(study):
            return False, "not a mammogram"
        kind = "screening" if is_screening(study) else "diagnostic"
        return True, f"{kind} mammogram: BI-RADS 5th edition, {kind} assessment rules"

    def finding_label(self, finding) -> str:
        if not finding.breast:
            return super().finding_label(finding)
        kind = birads.FINDING_NAMES.get(finding.finding_type, (finding.finding_type or "finding").replace("_", "-"))
        size = self.size.text(self.size.value(finding))
        return f"{finding.breast} breast: {size + ' ' if size else ''}{kind}"

    def added_site(self, *, centre, breast, depth_mm, zone, location) -> dict | None:
        if breast not in birads.BREASTS:
            raise ReportFieldError("a mammography finding needs its breast (R or L)")
        if depth_mm is not None and not 0 <= depth_mm <= 300:
            raise ReportFieldError("depth from the chest wall must be 0 to 300 mm")
        return {"breast": breast, "depth_mm": depth_mm}

    def accepted(self, ctx: ReadContext) -> list[birads.Finding]:
        return [birads.Finding(finding_type=f.finding_type, breast=f.breast, diameter_mm=self.size.value(f),
                               depth_mm=f.depth_mm, views=tuple(v["view"] for v in f.views if v.get("view")))
                for f in ctx.kept if f.finding_type in birads.FINDING_TYPES and f.breast in birads.BREASTS]

    def finding_line(self, finding: birads.Finding) -> str:
        # birads.describe words the finding; the size carries its convention here.
        line = birads.describe(birads.Finding(finding.finding_type, finding.breast, None, finding.depth_mm,
                                              finding.views))
        if finding.diameter_mm is None:
            return line
        side, _, rest = line.partition(": ")
        name = birads.FINDING_NAMES.get(finding.finding_type, finding.finding_type)
        return f"{side}: {name} {self.size.text(finding.diameter_mm)}{rest[len(name):]}"

    def prefill(self, study, ctx: ReadContext) -> dict:
        findings = self.accepted(ctx)
        screening = is_screening(study)
        suggestion = birads.suggest(findings, screening=screening)
        density = str(ctx.ai_results.get("mammography", {}).get("density") or "").lower()
        lines = [f"- {self.finding_line(f)}" for f in findings]
        if not lines and ctx.complete:
            lines = ["- No suspicious mass, calcification or distortion."]
        known = ctx.complete or bool(findings)  # no negative suggestion while something is unknown
        draft = {"screening": screening, "breast_composition": density if density in birads.COMPOSITION else "",
                 "birads_category": "", "birads_suggested": suggestion.category if known else "",
                 "birads_rule": suggestion.rule if known else "",
                 "findings_text": "\n".join([*ctx.notes, *lines]), "impression": "", "recommendation": ""}
        if ctx.complete:
            draft["birads_category"] = suggestion.category
            draft.update(self.auto_texts(study, draft, ctx))
        return draft

    def auto_texts(self, study, fields: dict, ctx: ReadContext) -> dict:
        category = str(fields.get("birads_category") or "").upper()
        if category not in birads.CATEGORIES:
            return {}
        return {"impression": f"BI-RADS {birads.assessment_text(category)}.",
                "recommendation": birads.MANAGEMENT[category] + "."}

    def validate(self, study, fields: dict, ctx: ReadContext) -> dict:
        category = str(fields.get("birads_category") or "").strip().upper()
        if category not in birads.CATEGORIES:
            raise ReportFieldError(f"BI-RADS category must be one of {', '.join(birads.CATEGORIES)}")
        composition = str(fields.get("breast_composition") or "").strip().lower()
        if composition not in birads.COMPOSITION:
            raise ReportFieldError("breast composition must be a, b, c or d")
        # What the rules suggested at signing is kept beside what the reader chose: the difference
        # is what AI monitoring wants to see.
        screening = is_screening(study)
        suggestion = birads.suggest(self.accepted(ctx), screening=screening)
        return {"birads_category": category, "breast_composition": composition, "screening": screening,
                "birads_suggested": suggestion.category, "birads_rule": suggestion.rule}

    def contradictions(self, fields: dict) -> list[str]:
        category = fields.get("birads_category", "")
        problems = []
        for name in ("impression", "recommendation"):
            named = mentions(fields.get(name, ""), "BI-RADS", birads.CATEGORIES) - {category}
            if named:
                problems.append(f"The {name} says BI-RADS {', '.join(sorted(named))} but the category is {category}.")
        recommendation = fields.get("recommendation", "")
        other = [c for c in birads.CATEGORIES if birads.MANAGEMENT[c] != birads.MANAGEMENT.get(category)
                 and same_sentence(recommendation, birads.MANAGEMENT[c])]
        if other and not any("recommendation" in p for p in problems):
            problems.append(f"The recommendation is the BI-RADS {other[0]} management, not that of category "
                            f"{category}.")
        return problems

    def assessment(self, fields: dict) -> tuple[str, list[str]]:
        category = fields.get("birads_category")
        if category not in birads.ASSESSMENT:
            return "", []
        # The category's management is the recommendation section (said once; a recommendation
        # naming another category's management is refused by `contradictions`).
        lines = [birads.composition_text(fields["breast_composition"])] if fields.get("breast_composition") else []
        return "ASSESSMENT (ACR BI-RADS Atlas, 5th edition)", [
            *lines, f"BI-RADS {birads.assessment_text(category)} ({birads.LIKELIHOOD[category]}).",
        ]

    def choices(self) -> dict:
        return {
            "categories": [{"value": c, "label": birads.assessment_text(c)} for c in birads.CATEGORIES],
            "compositions": [{"value": k, "label": f"{k}: {v}"} for k, v in birads.COMPOSITION.items()],
        }


TYPE = Breast()
