"""Prostate MRI: PI-RADS v2.1 (ACR, ESUR and AdMeTech, 2019).

Lesion size is the longest dimension (../shared/DOMAIN.md, "Measuring"); 1.5 cm separates 4 from
5. The per-lesion and exam categories are computed from the scores (triage/pirads.py), never taken
from the client.
"""

from __future__ import annotations

from reporting.report_types.base import (
    ReadContext,
    ReportFieldError,
    ReportType,
    SizeConvention,
    mentions,
)
from triage import pirads

LESION_TYPES = ("lesion",)
# PI-RADS v2.1 gives no management table; these follow its biopsy notes (section II.A).
RECOMMENDATION = {
    1: "No MRI-targeted biopsy indicated on the MRI findings alone",
    2: "No MRI-targeted biopsy indicated on the MRI findings alone",
    3: "Biopsy depending on factors other than MRI alone (e.g. PSA density)",
    4: "MRI-targeted biopsy should be considered",
    5: "MRI-targeted biopsy should be considered; discuss at the multidisciplinary meeting",
}


def _float(value) -> float | None:
    try:
        return None if value is None else round(float(value), 2)
    except (TypeError, ValueError):
        return None


def prostate_line(volume: float | None, psa: float | None) -> str:
    parts = [f"gland volume {volume:g} ml" if volume is not None else "gland volume not measured"]
    if psa is not None:
        parts.append(f"PSA {psa:g} ng/ml")
        density = pirads.psa_density(psa, volume)
        if density is not None:
            parts.append(f"PSA density {density:.2f} ng/ml/ml")
    return "Prostate: " + "; ".join(parts) + "."


class Prostate(ReportType):
    name = "pirads"
    title = "PI-RADS v2.1"
    standard = "PI-RADS v2.1"
    finding_types = LESION_TYPES
    size = SizeConvention("long", 1, "long axis", "PI-RADS v2.1")
    category_field = "pirads_category"

    def can_report(self, study) -> bool:
        return study.modality.upper() == "MR" and (
            study.body_part.upper() == "PROSTATE" or "PROSTATE" in study.study_description.upper())

    def applies_to(self, study) -> tuple[bool, str]:
        if not self.can_report(study):
            return False, "not a prostate MRI"
        return True, "prostate MRI: PI-RADS v2.1"

    def finding_label(self, finding) -> str:
        if not finding.zone:
            return super().finding_label(finding)
        size = self.size.text(self.size.value(finding))
        where = finding.location or pirads.ZONES.get(finding.zone, finding.zone)
        kind = (finding.finding_type or "finding").replace("_", "-")
        return f"{size + ' ' if size else ''}{kind}, {where}"

    def added_site(self, *, centre, breast, depth_mm, zone, location) -> dict | None:
        if zone not in pirads.ZONES:
            raise ReportFieldError("a prostate lesion needs its zone (pz or tz)")
        return {"zone": zone, "location": location.strip()[:120]}

    def lesion_site(self, lesion: dict, short: bool = False) -> str:
        zone = pirads.ZONES.get(lesion.get("zone") or "", "zone not given")
        measure = self.size.short if short else self.size.text
        size = f"{measure(lesion['diameter_mm'])}, " if lesion.get("diameter_mm") is not None else ""
        where = lesion.get("location") or ""
        return f"{size}{zone}" + (f", {where}" if where else "")

    def prefill(self, study, ctx: ReadContext) -> dict:
        result = ctx.ai_results.get("prostate", {})
        lesions = [{"key": f.key, "zone": f.zone if f.zone in pirads.ZONES else "", "location": f.location,
                    "diameter_mm": self.size.value(f), "t2": None, "dwi": None, "dce": None}
                   for f in ctx.kept if f.zone or f.finding_type in LESION_TYPES][:pirads.MAX_LESIONS]
        lines = [f"- Lesion {n}: {self.lesion_site(lesion)}" for n, lesion in enumerate(lesions, 1)]
        if not lines and ctx.complete:
            lines = ["- No focal lesion."]
        volume, psa = _float(result.get("gland_volume_ml")), _float(result.get("psa_ng_ml"))
        draft = {"gland_volume_ml": volume, "psa_ng_ml": psa, "psa_density": pirads.psa_density(psa, volume),
                 "pirads_lesions": lesions, "findings_text": "\n".join([*ctx.notes, *lines]),
                 "impression": "", "recommendation": ""}
        if ctx.complete and not lesions:
            draft.update(self.auto_texts(study, {"pirads_lesions": []}, ctx))
        return draft

    def auto_texts(self, study, fields: dict, ctx: ReadContext) -> dict:
        try:
            scored = self.scored_lesions(fields.get("pirads_lesions") or [])
        except ReportFieldError:
            return {}  # not every lesion is scored yet
        category = pirads.exam_category([lesion["category"] for lesion in scored])
        worst = [lesion.get("location") or lesion["zone"].upper() for lesion in scored
                 if lesion["category"] == category]
        where = f" ({'; '.join(worst)})" if worst else ""
        meaning = pirads.ASSESSMENT[category] if scored else "no focal lesion"
        return {"impression": f"PI-RADS {category}{where}: {meaning}.",
                "recommendation": RECOMMENDATION[category] + "."}

    def scored_lesions(self, lesions) -> list[dict]:
        if not isinstance(lesions, list) or len(lesions) > pirads.MAX_LESIONS:
            raise ReportFieldError(f"PI-RADS v2.1 reports at most {pirads.MAX_LESIONS} lesions")
        clean = []
        for number, lesion in enumerate(lesions, 1):
            if not isinstance(lesion, dict):
                raise ReportFieldError(f"lesion {number} is not a set of scores")
            zone = str(lesion.get("zone") or "").lower()
            if zone not in pirads.ZONES:
                raise ReportFieldError(f"lesion {number}: zone must be pz or tz")
            t2, dwi = _score(lesion, "t2", number), _score(lesion, "dwi", number)
            dce = lesion.get("dce")
            dce = "" if dce is None else str(dce).strip()
            if dce not in pirads.DCE_VALUES:
                raise ReportFieldError(f"lesion {number}: DCE must be +, - or not performed")
            diameter = _optional_number(lesion, "diameter_mm", f"lesion {number}: size (mm)", 150)
            category, rule = pirads.lesion_category(zone=zone, t2=t2, dwi=dwi, dce=dce)
            clean.append({"zone": zone, "location": str(lesion.get("location") or "").strip()[:120],
                          "diameter_mm": diameter, "t2": t2, "dwi": dwi, "dce": dce, "category": category,
                          "rule": rule, "key": str(lesion.get("key") or "")[:40]})
        return clean

    def validate(self, study, fields: dict, ctx: ReadContext) -> dict:
        lesions = self.scored_lesions(fields.get("pirads_lesions") or [])
        volume = _optional_number(fields, "gland_volume_ml", "gland volume (ml)", 500)
        psa = _optional_number(fields, "psa_ng_ml", "PSA (ng/ml)", 10000)
        return {"pirads_lesions": lesions,
                # Computed, never taken from the client: the category follows from the scores.
                "pirads_category": pirads.exam_category([lesion["category"] for lesion in lesions]),
                "gland_volume_ml": volume, "psa_ng_ml": psa, "psa_density": pirads.psa_density(psa, volume)}

    def contradictions(self, fields: dict) -> list[str]:
        category = str(fields.get("pirads_category", ""))
        problems = []
        for name in ("impression", "recommendation"):
            named = mentions(fields.get(name, ""), "PI-RADS", ("1", "2", "3", "4", "5")) - {category}
            if named:
                problems.append(f"The {name} says PI-RADS {', '.join(sorted(named))} but the lesion scores give "
                                f"PI-RADS {category}.")
        return problems

    def lesion_line(self, number: int, lesion: dict) -> str:
        return (f"Lesion {number} ({self.lesion_site(lesion, short=True)}): T2W {lesion['t2']}, DWI {lesion['dwi']}, "
                f"DCE {pirads.DCE_WORDS[lesion['dce']]} -> PI-RADS {lesion['category']}")

    def assessment(self, fields: dict) -> tuple[str, list[str]]:
        category = fields.get("pirads_category")
        if category not in pirads.ASSESSMENT:
            return "", []
        lines = [prostate_line(fields.get("gland_volume_ml"), fields.get("psa_ng_ml"))]
        lines += [self.lesion_line(n, lesion) for n, lesion in enumerate(fields.get("pirads_lesions") or [], 1)]
        lines += [f"Overall PI-RADS v2.1 assessment category: {category} – {pirads.ASSESSMENT[category]}.",
                  f"{pirads.BIOPSY_NOTE[category]}."]
        return "ASSESSMENT (PI-RADS v2.1)", lines

    def choices(self) -> dict:
        return {"table": pirads.lookup_table(), "assessment": {str(k): v for k, v in pirads.ASSESSMENT.items()},
                "zones": pirads.ZONES}


def _score(lesion: dict, name: str, number: int) -> int:
    value = lesion.get(name)
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = None
    if score is None or str(value).strip() not in (str(score), f"{score}.0") or score not in pirads.SCORES:
        label = {"t2": "T2W", "dwi": "DWI"}[name]
        raise ReportFieldError(f"lesion {number}: {label} score must be 1 to 5")
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
        raise ReportFieldError(f"{label} must be a number above 0 and at most {high:g}")
    return round(number, 2)


TYPE = Prostate()
