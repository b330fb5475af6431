"""PI-RADS v2.1 assessment category of a prostate MRI lesion from the reader's sequence scores.

Coded from the ACR PI-RADS v2.1 (2019; Turkbey B et al., "Prostate Imaging Reporting and Data
System Version 2.1", Eur Urol 2019;76:340-351), section "Assessment": the tables for the
peripheral zone (PZ) and the transition zone (TZ).

- PZ: DWI/ADC is the dominant sequence. The DWI score is the category, except that DWI 3 with
  positive DCE becomes 4. T2W does not change the PZ category.
- TZ: T2W is the dominant sequence. T2W 2 with DWI >= 4 becomes 3 (new in v2.1: T2W 2 covers
  mostly encapsulated nodules), T2W 3 with DWI 5 becomes 4. DCE plays no part in the TZ.

The 4-versus-5 decision (1.5 cm, or definite extraprostatic extension or invasive behaviour) is
already in the DWI score (PZ) and the T2W score (TZ) the reader gives, so it is not applied again
here; `size_note` reminds the reader when a lesion of 15 mm or more was scored 4.

DCE "not done" (biparametric MRI, or an inadequate DCE) is accepted: in the PZ a DWI 3 then
stays 3, as v2.1 says for bpMRI. The central zone and the anterior fibromuscular stroma are not
covered. Up to four lesions are reported (v2.1: "up to four findings with a PI-RADS assessment
category of 3, 4 or 5"); the exam category is the highest lesion category.
"""

from __future__ import annotations

from collections.abc import Sequence

PZ = "pz"
TZ = "tz"
ZONES = {PZ: "peripheral zone", TZ: "transition zone"}
SCORES = (1, 2, 3, 4, 5)
DCE_POSITIVE, DCE_NEGATIVE, DCE_NOT_DONE = "+", "-", ""
DCE_VALUES = (DCE_POSITIVE, DCE_NEGATIVE, DCE_NOT_DONE)
DCE_WORDS = {DCE_POSITIVE: "positive", DCE_NEGATIVE: "negative", DCE_NOT_DONE: "not performed"}
MAX_LESIONS = 4

# v2.1 assessment wording: the likelihood of clinically significant cancer.
ASSESSMENT = {
    1: "Very low (clinically significant cancer is highly unlikely to be present)",
    2: "Low (clinically significant cancer is unlikely to be present)",
    3: "Intermediate (the presence of clinically significant cancer is equivocal)",
    4: "High (clinically significant cancer is likely to be present)",
    5: "Very high (clinically significant cancer is highly likely to be present)",
}

# PI-RADS v2 section II.A: what the category means for biopsy. Not a management table as in
# BI-RADS; the decision also weighs PSA density, prior biopsies and the patient.
BIOPSY_NOTE = {
    1: "Biopsy is not indicated on the MRI findings alone",
    2: "Biopsy is not indicated on the MRI findings alone",
    3: "Biopsy may or may not be performed, depending on factors other than MRI alone (e.g. PSA density)",
    4: "Biopsy should be considered",
    5: "Biopsy should be considered",
}


def _check(zone: str, t2: int, dwi: int, dce: str) -> None:
    if zone not in ZONES:
        raise ValueError(f"zone must be pz or tz, not {zone!r}")
    for name, score in (("T2W", t2), ("DWI", dwi)):
        if isinstance(score, bool) or score not in SCORES:
            raise ValueError(f"{name} score must be 1 to 5, not {score!r}")
    if dce not in DCE_VALUES:
        raise ValueError(f"DCE must be '+', '-' or '' (not performed), not {dce!r}")


def pz_category(dwi: int, dce: str) -> tuple[int, str]:
    """PZ table (v2.1 figure "PI-RADS assessment for the PZ"): T2W any."""
    if dwi == 3 and dce == DCE_POSITIVE:
        return 4, "PZ: DWI 3 with positive DCE -> 4"
    if dwi == 3 and dce == DCE_NOT_DONE:
        return 3, "PZ: DWI 3, DCE not performed -> 3"
    return dwi, f"PZ: DWI {dwi} -> {dwi}"


def tz_category(t2: int, dwi: int) -> tuple[int, str]:
    """TZ table (v2.1 figure "PI-RADS assessment for the TZ"): DCE plays no part."""
    if t2 == 2 and dwi >= 4:
        return 3, f"TZ: T2W 2 with DWI {dwi} (≥ 4) -> 3"
    if t2 == 3 and dwi == 5:
        return 4, "TZ: T2W 3 with DWI 5 -> 4"
    return t2, f"TZ: T2W {t2} -> {t2}"


def lesion_category(*, zone: str, t2: int, dwi: int, dce: str) -> tuple[int, str]:
    """PI-RADS v2.1 category of one lesion and the rule that gave it."""
    _check(zone, t2, dwi, dce)
    return pz_category(dwi, dce) if zone == PZ else tz_category(t2, dwi)


def exam_category(categories: Sequence[int]) -> int:
    """The exam's category: the highest lesion category; 1 without a lesion."""
    return max(categories, default=1)


def size_note(*, zone: str, category: int, diameter_mm: float | None) -> str:
    if category == 4 and diameter_mm is not None and diameter_mm >= 15:
        sequence = "DWI" if zone == PZ else "T2W"
        return (f"{diameter_mm:g} mm ≥ 1.5 cm: v2.1 scores {sequence} 5 when the score-4 features "
                "reach 1.5 cm; check the score")
    return ""


def psa_density(psa_ng_ml: float | None, gland_volume_ml: float | None) -> float | None:
    """PSA density in ng/ml per ml of gland; None unless both are known."""
    if psa_ng_ml is None or not gland_volume_ml:
        return None
    return round(psa_ng_ml / gland_volume_ml, 2)


def lookup_table() -> dict:
    """Every (zone, T2W, DWI, DCE) cell with its category and rule, for the reading page.

    The page looks categories up here instead of coding the rules a second time in JavaScript.
    Keys are "pz:3:4:+" (DCE "" for not performed).
    """
    return {
        f"{zone}:{t2}:{dwi}:{dce}": list(lesion_category(zone=zone, t2=t2, dwi=dwi, dce=dce))
        for zone in ZONES for t2 in SCORES for dwi in SCORES for dce in DCE_VALUES
    }
