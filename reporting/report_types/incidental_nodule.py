"""Incidental pulmonary nodules on chest CT that is not lung cancer screening: Fleischner Society 2017.

MacMahon H. et al., "Guidelines for Management of Incidental Pulmonary Nodules Detected on CT
Images: From the Fleischner Society 2017", Radiology 2017;284:228-243. For adults of 35 years or
more; not for lung cancer screening (Lung-RADS), patients with known cancer or immunosuppression.
Size = average of long and short axis, rounded to the nearest whole mm (../shared/DOMAIN.md,
"Measuring"): so 6-8 mm means 6, 7 or 8 mm and > 8 mm means 9 mm or more.
Patient risk (smoking, age, family history, emphysema...) changes only the solid-nodule advice:
the reader is asked for it when a solid nodule is present.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting.report_types.base import ReadContext, ReportFieldError, ReportType, SizeConvention, mentions
from reporting.report_types.lung_screening import NODULE_TYPES, is_chest_ct, is_screening_ldct, nodule_line, nodules

RISKS = ("low", "high")
NOT_LUNGRADS = "Lung-RADS does not apply: this is not a lung cancer screening examination."


@dataclass(frozen=True)
class Advice:
    urgency: int  # to pick the most suspicious nodule's advice: 0 none ... 4 3-month CT, PET/CT or sampling
    rule: str
    recommendation: str


def _bucket(mm: float) -> str:
    return "< 6 mm" if mm < 6 else "6-8 mm" if mm <= 8 else "> 8 mm"


def _solid(largest: float, multiple: bool, risk: str) -> Advice:
    size = _bucket(largest)
    which = "multiple solid nodules" if multiple else "single solid nodule"
    rule = f"{which}, largest {largest:.0f} mm ({size}), {risk} risk"
    if size == "< 6 mm":
        if risk == "low":
            return Advice(0, rule, "No routine follow-up")
        return Advice(1, rule, "Optional CT at 12 months")
    if not multiple and size == "6-8 mm":
        then = "then consider CT at 18-24 months" if risk == "low" else "then CT at 18-24 months"
        return Advice(2, rule, f"CT at 6-12 months, {then}")
    if not multiple:
        return Advice(4, rule, "Consider CT at 3 months, PET/CT, or tissue sampling")
    then = "then consider CT at 18-24 months" if risk == "low" else "then CT at 18-24 months"
    return Advice(3, rule, f"CT at 3-6 months, {then}")


def _subsolid(found: list[tuple[str, float, float | None]]) -> Advice:
    kind, largest, _ = max(found, key=lambda n: n[1])
    if len(found) > 1:
        rule = f"multiple subsolid nodules, largest {largest:.0f} mm"
        if largest < 6:
            return Advice(2, rule + " (< 6 mm)", "CT at 3-6 months; if stable, consider CT at 2 and 4 years")
        return Advice(3, rule + " (≥ 6 mm)",
                      "CT at 3-6 months; subsequent management based on the most suspicious nodule")
    name = "ground-glass" if kind == "ground_glass" else "part-solid"
    rule = f"single {name} nodule {largest:.0f} mm"
    if largest < 6:
        return Advice(0, rule + " (< 6 mm)", "No routine follow-up")
    if kind == "ground_glass":
        return Advice(2, rule + " (≥ 6 mm)",
                      "CT at 6-12 months to confirm persistence, then CT every 2 years until 5 years")
    return Advice(3, rule + " (≥ 6 mm)", "CT at 3-6 months to confirm persistence; if unchanged and the solid "
                  "component remains < 6 mm, annual CT for 5 years")


def advise(found: list[tuple[str, float, float | None]], risk: str) -> Advice | None:
    """The Fleischner 2017 advice for (type, size in whole mm, solid part) nodules; None when the
    solid-nodule rule needs the patient's risk and it is not given."""
    if not found:
        return Advice(0, "no pulmonary nodule", "No follow-up for pulmonary nodules")
    advice = []
    solid = [n for n in found if n[0] == "solid"]
    subsolid = [n for n in found if n[0] != "solid"]
    if solid:
        if risk not in RISKS:
            return None
        advice.append(_solid(max(n[1] for n in solid), len(solid) > 1, risk))
    if subsolid:
        advice.append(_subsolid(subsolid))
    return max(advice, key=lambda a: a.urgency)


class IncidentalNodule(ReportType):
    name = "fleischner"
    title = "Incidental pulmonary nodule (Fleischner 2017)"
    standard = "Fleischner Society 2017"
    finding_types = NODULE_TYPES
    size = SizeConvention("mean", 0, "average diameter", "Fleischner 2017")

    def can_report(self, study) -> bool:
        return is_chest_ct(study)

    def applies_to(self, study) -> tuple[bool, str]:
        if not is_chest_ct(study):
            return False, "not a chest CT"
        if is_screening_ldct(study):
            return False, "lung cancer screening: Lung-RADS applies"
        return True, ("chest CT that is not lung cancer screening: incidental nodules follow the Fleischner "
                      "Society 2017 guideline; Lung-RADS does not apply")

    def found(self, ctx: ReadContext) -> list[tuple[str, float, float | None]]:
        return [(n.kind, n.diameter_mm, n.solid_mm) for _, n in nodules(ctx, self.size)]

    def risk_needed(self, ctx: ReadContext) -> bool:
        return any(kind == "solid" for kind, _, _ in self.found(ctx))

    def prefill(self, study, ctx: ReadContext) -> dict:
        kept = nodules(ctx, self.size)
        lines = [f"- {nodule_line(f, n, self.size)}" for f, n in kept]
        if not lines and ctx.complete:
            lines = ["- No pulmonary nodule."]
        draft = {"findings_text": "\n".join([*ctx.notes, "Lungs:", *lines]), "fleischner_risk": "",
                 "fleischner_risk_needed": self.risk_needed(ctx), "impression": "", "recommendation": ""}
        if ctx.complete:
            draft.update(self.auto_texts(study, draft, ctx))
        return draft

    def auto_texts(self, study, fields: dict, ctx: ReadContext) -> dict:
        advice = advise(self.found(ctx), str(fields.get("fleischner_risk") or ""))
        if advice is None:
            return {}
        return {"impression": f"Fleischner 2017: {advice.rule}.",
                "recommendation": advice.recommendation + "."}

    def validate(self, study, fields: dict, ctx: ReadContext) -> dict:
        risk = str(fields.get("fleischner_risk") or "").strip().lower()
        if risk and risk not in RISKS:
            raise ReportFieldError("patient risk must be low or high")
        advice = advise(self.found(ctx), risk)
        if advice is None:
            raise ReportFieldError("a solid nodule is reported: give the patient's risk (low or high), "
                                   "the Fleischner 2017 advice depends on it")
        return {"fleischner_risk": risk, "fleischner_rule": advice.rule,
                "fleischner_recommendation": advice.recommendation}

    def contradictions(self, fields: dict) -> list[str]:
        problems = []
        said = " ".join([fields.get("impression", ""), fields.get("recommendation", "")])
        if mentions(said, "Lung-RADS", ("0", "1", "2", "3", "4A", "4B", "4X")):
            problems.append("The report gives a Lung-RADS category, but Lung-RADS applies to screening CT only.")
        if "annual screening" in said.lower():
            problems.append("The report advises annual screening, but this is not a screening examination.")
        return problems

    def assessment(self, fields: dict) -> tuple[str, list[str]]:
        if not fields.get("fleischner_rule"):
            return "", []
        risk = fields.get("fleischner_risk") or "not stated"
        # The advice itself is the recommendation section: said once.
        return "ASSESSMENT (Fleischner Society 2017, incidental pulmonary nodules)", [
            f"Rule: {fields['fleischner_rule']}; patient risk {risk}.",
            NOT_LUNGRADS,
        ]

    def choices(self) -> dict:
        return {"risks": list(RISKS)}


TYPE = IncidentalNodule()
