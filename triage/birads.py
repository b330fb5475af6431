"""BI-RADS assessment categories for mammography, and a suggested category from accepted findings.

Coded from the ACR BI-RADS Atlas, 5th edition (2013), mammography section: the assessment
categories, their likelihood of malignancy and management ("Concordance of assessment and
management", table of final assessment categories), and breast composition a-d.

The suggestion is a plain rule of thumb shown beside the form; the radiologist chooses the
category. What the AI tells us is only a finding type (spiculated mass, circumscribed mass,
calcification cluster), a size and a site, not the full lexicon (shape, margin, calcification
morphology and distribution), so the rules below stay coarse on purpose:

- no finding accepted -> 1 (negative);
- screening exam with any accepted finding -> 0 (recall for additional imaging): at screening the
  reader either finds the exam negative or recalls, a final 3-5 is given after the work-up;
- diagnostic exam, per finding, the most suspicious wins:
  spiculated mass -> 4C (5 if the reader sees further highly suggestive features: the rule cannot),
  calcification cluster -> 4B (morphology and distribution decide between 4A and 5),
  circumscribed mass -> 3 (probably benign: oval, circumscribed, no prior at the diagnostic work-up;
  4A if it is new or enlarging, which the AI does not know).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Final assessment categories, in order of suspicion. "4" without subdivision is allowed by the
# atlas; subdividing into 4A/4B/4C is optional for mammography but recommended.
CATEGORIES = ("0", "1", "2", "3", "4", "4A", "4B", "4C", "5", "6")
_SUSPICION_ORDER = ("1", "2", "3", "4A", "4", "4B", "4C", "5")

ASSESSMENT = {
    "0": "Incomplete – need additional imaging evaluation and/or prior mammograms for comparison",
    "1": "Negative",
    "2": "Benign",
    "3": "Probably benign",
    "4": "Suspicious",
    "4A": "Low suspicion for malignancy",
    "4B": "Moderate suspicion for malignancy",
    "4C": "High suspicion for malignancy",
    "5": "Highly suggestive of malignancy",
    "6": "Known biopsy-proven malignancy",
}

LIKELIHOOD = {
    "0": "N/A",
    "1": "essentially 0 % likelihood of malignancy",
    "2": "essentially 0 % likelihood of malignancy",
    "3": "> 0 % but ≤ 2 % likelihood of malignancy",
    "4": "> 2 % but < 95 % likelihood of malignancy",
    "4A": "> 2 % to ≤ 10 % likelihood of malignancy",
    "4B": "> 10 % to ≤ 50 % likelihood of malignancy",
    "4C": "> 50 % to < 95 % likelihood of malignancy",
    "5": "≥ 95 % likelihood of malignancy",
    "6": "N/A",
}

# Management, as the atlas words it for each category.
MANAGEMENT = {
    "0": "Recall for additional imaging and/or comparison with prior examination(s)",
    "1": "Routine mammography screening",
    "2": "Routine mammography screening",
    "3": "Short-interval (6-month) follow-up or continued surveillance mammography",
    "4": "Tissue diagnosis",
    "5": "Tissue diagnosis",
    "6": "Surgical excision when clinically appropriate",
}
for _sub in ("4A", "4B", "4C"):
    MANAGEMENT[_sub] = MANAGEMENT["4"]

# Breast composition (5th edition letters; the 4th edition's numbers are not used any more).
COMPOSITION = {
    "a": "The breasts are almost entirely fatty",
    "b": "There are scattered areas of fibroglandular density",
    "c": "The breasts are heterogeneously dense, which may obscure small masses",
    "d": "The breasts are extremely dense, which lowers the sensitivity of mammography",
}

MASS_SPICULATED = "mass_spiculated"
MASS_CIRCUMSCRIBED = "mass_circumscribed"
CALCIFICATION_CLUSTER = "calcification_cluster"
FINDING_TYPES = (MASS_SPICULATED, MASS_CIRCUMSCRIBED, CALCIFICATION_CLUSTER)
FINDING_NAMES = {
    MASS_SPICULATED: "spiculated mass",
    MASS_CIRCUMSCRIBED: "circumscribed mass",
    CALCIFICATION_CLUSTER: "calcification cluster",
}
BREASTS = {"R": "R breast", "L": "L breast"}

# The diagnostic-exam rule of each finding type: (category, why).
_DIAGNOSTIC_RULE = {
    MASS_SPICULATED: ("4C", "spiculated mass -> 4C (5 with further highly suggestive features)"),
    CALCIFICATION_CLUSTER: ("4B", "calcification cluster -> 4B (morphology and distribution refine 4A-5)"),
    MASS_CIRCUMSCRIBED: ("3", "circumscribed mass -> 3 (4A if new or enlarging)"),
}


@dataclass(frozen=True)
class Finding:
    finding_type: str  # one of FINDING_TYPES
    breast: str  # "R" | "L"
    diameter_mm: float | None = None
    depth_mm: float | None = None  # distance from the chest wall (posterior nipple line direction)
    views: tuple[str, ...] = ()  # e.g. ("RCC", "RMLO")


@dataclass(frozen=True)
class BiradsSuggestion:
    category: str
    rule: str
    management: str
    driving_finding: int | None  # index into the findings given; None without findings


def assessment_text(category: str) -> str:
    """Standard wording, e.g. "Category 4B: Moderate suspicion for malignancy"."""
    if category not in ASSESSMENT:
        raise ValueError(f"unknown BI-RADS category {category!r}")
    return f"Category {category}: {ASSESSMENT[category]}"


def composition_text(letter: str) -> str:
    if letter not in COMPOSITION:
        raise ValueError(f"unknown breast composition {letter!r}; expected a, b, c or d")
    return f"Breast composition {letter}: {COMPOSITION[letter]}."


def _view_names(views: Sequence[str], breast: str) -> str:
    # "RCC", "RMLO" -> "CC and MLO": the breast is named once at the start of the line.
    names = [v[len(breast):] if v.startswith(breast) else v for v in views]
    if not names:
        return ""
    if len(names) == 1:
        return f", seen on {names[0]} only"
    return ", seen on " + ", ".join(names[:-1]) + " and " + names[-1]


def describe(finding: Finding) -> str:
    """One report line: "R breast: spiculated mass 14 mm at 62 mm from the chest wall, seen on CC and MLO"."""
    side = BREASTS.get(finding.breast, "Breast")
    name = FINDING_NAMES.get(finding.finding_type, finding.finding_type.replace("_", " ") or "finding")
    size = f" {finding.diameter_mm:.0f} mm" if finding.diameter_mm is not None else ""
    depth = f" at {finding.depth_mm:.0f} mm from the chest wall" if finding.depth_mm is not None else ""
    return f"{side}: {name}{size}{depth}{_view_names(finding.views, finding.breast)}"


def finding_category(finding: Finding) -> tuple[str, str]:
    """The diagnostic-exam category of one finding and the rule that gave it."""
    if finding.finding_type not in _DIAGNOSTIC_RULE:
        raise ValueError(f"unknown mammography finding type {finding.finding_type!r}")
    return _DIAGNOSTIC_RULE[finding.finding_type]


def suggest(findings: Sequence[Finding], *, screening: bool) -> BiradsSuggestion:
    """Exam-level suggestion; the rules are in the module docstring."""
    if not findings:
        return BiradsSuggestion("1", "no finding accepted -> 1", MANAGEMENT["1"], None)
    if screening:
        count = len(findings)
        rule = f"screening exam with {count} accepted finding{'s' if count > 1 else ''} -> 0 (recall)"
        return BiradsSuggestion("0", rule, MANAGEMENT["0"], 0)
    best_index, best_rank, best_rule = 0, -1, ""
    for index, finding in enumerate(findings):
        category, rule = finding_category(finding)
        rank = _SUSPICION_ORDER.index(category)
        if rank > best_rank:
            best_index, best_rank, best_rule = index, rank, rule
    category = _SUSPICION_ORDER[best_rank]
    return BiradsSuggestion(category, f"diagnostic exam: {best_rule}", MANAGEMENT[category], best_index)


def is_screening(*texts: str | None) -> bool:
    """Screening or diagnostic, from what the study says of itself: description, requested
    procedure, patient location ("SCREENING CENTRE"). Called through triage.priority.is_screening."""
    return any("SCREEN" in (text or "").upper() for text in texts)
