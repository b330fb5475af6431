"""Which AI results raise a study's urgency, kept as data so a rule change is a
one-line diff that a radiologist can review, not a change to model code.

An AI result raises a study in one of two ways:

* by a reporting-system category the model suggests ("lungrads:4A",
  "birads:4", "pirads:5"), looked up in ``CATEGORY_URGENCY``;
* by a suspicion score over a threshold, for models that give no category
  (haemorrhage or pneumothorax detectors), looked up in ``FLAG_RULES``.

Categories or scores below the rules never lower a study: AI only raises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Display names of the reporting systems, as radiologists write them.
SYSTEM_NAMES: dict[str, str] = {
    "lungrads": "Lung-RADS",
    "birads": "BI-RADS",
    "pirads": "PI-RADS",
}

# Category -> urgency code. A category not listed does not raise the study.
CATEGORY_URGENCY: dict[str, dict[str, str]] = {
    # ACR Lung-RADS v2022: 4B and 4X are "very suspicious" (over 15 % risk of
    # malignancy) and lead to diagnostic work-up, so the read should not wait
    # behind routine work; 4A (5-15 %) is urgent but not same-hour.
    "lungrads": {"4A": "urgent", "4B": "ai_critical", "4X": "ai_critical"},
    # ACR BI-RADS 5th edition: 4 (and its subdivisions) suspicious, 5 highly
    # suggestive of malignancy (>= 95 %). Both lead to biopsy: urgent, not an
    # emergency read. A model suggests 0 ("incomplete: recall for additional
    # imaging") for a suspicious screening case: it is read within the urgent
    # target and moves to the diagnostic work-up queue (WORKUP_CATEGORIES), so
    # the recall goes out in days rather than behind the screening backlog.
    "birads": {
        "0": "urgent",
        "4": "urgent",
        "4A": "urgent",
        "4B": "urgent",
        "4C": "urgent",
        "5": "urgent",
    },
    # PI-RADS v2.1: 4 and 5 make clinically significant cancer likely (biopsy).
    "pirads": {"4": "urgent", "5": "urgent"},
}


# Reading queues. Screening mammograms are read in batches, often double read,
# by the screening team; a case the AI calls suspicious leaves that batch for
# the diagnostic work-up queue (recall clinic: extra views, ultrasound,
# biopsy), where it is read first. Every other study is in the general queue.
QUEUE_GENERAL = "general"
QUEUE_SCREENING = "screening"
QUEUE_WORKUP = "diagnostic_workup"
QUEUE_NAMES: dict[str, str] = {
    QUEUE_GENERAL: "General",
    QUEUE_SCREENING: "Screening",
    QUEUE_WORKUP: "Diagnostic work-up",
}
# Modalities with an organised screening programme whose cases go to the screening queue.
SCREENING_MODALITIES = ("MG",)
# AI categories that take a screening case to diagnostic work-up (BI-RADS 0 = recall, 4, 5).
WORKUP_CATEGORIES: dict[str, tuple[str, ...]] = {"birads": ("0", "4", "4A", "4B", "4C", "5")}


@dataclass(frozen=True)
class FlagRule:
    """A score-only model raises the study to ``code`` at ``threshold`` or above."""

    threshold: float
    code: str
    finding: str  # what a positive flag means, shown in the reason


# Score-only models by name. Emergencies found by AI (bleed, pneumothorax)
# get the AI-critical class: the value of triage is reading them within the
# hour even when they were ordered as routine (Arbabshirani 2018, O'Neill 2021).
FLAG_RULES: dict[str, FlagRule] = {
    "ich": FlagRule(threshold=0.5, code="ai_critical", finding="intracranial haemorrhage"),
    "pneumothorax": FlagRule(threshold=0.5, code="ai_critical", finding="pneumothorax"),
    "cxr_critical": FlagRule(threshold=0.5, code="ai_critical", finding="critical chest finding"),
    # The prostate model leaves PI-RADS to the reader (T2, DWI and DCE scores it cannot
    # know) and flags a lesion over its own operating threshold (model card): biopsy
    # work-up is weeks, not hours, so urgent, not critical.
    "prostate": FlagRule(threshold=0.5, code="urgent", finding="suspicious prostate lesion"),
}

# A model nobody wrote a rule for still raises a confident finding one step,
# to urgent: an unknown model should not be able to jump ahead of STAT work,
# and a suspicious finding should not wait four days either.
DEFAULT_FLAG_RULE = FlagRule(threshold=0.5, code="urgent", finding="suspicious finding")


def split_category(category: str | None) -> tuple[str, str] | None:
    """Split "lungrads:4a" into ("lungrads", "4A"); None if unparsable."""
    if not isinstance(category, str) or ":" not in category:
        return None
    system, _, value = category.partition(":")
    system = system.strip().lower().replace("-", "").replace("_", "")
    value = value.strip().upper()
    if not system or not value:
        return None
    return system, value


def category_label(category: str | None) -> str | None:
    """Human label for a category, e.g. "Lung-RADS 4A"; None if unparsable."""
    parts = split_category(category)
    if parts is None:
        return None
    system, value = parts
    return f"{SYSTEM_NAMES.get(system, system)} {value}"


def category_urgency(category: str | None) -> tuple[str | None, bool]:
    """Urgency code the category raises to (None if it does not raise), and
    whether the category belongs to a system we have rules for."""
    parts = split_category(category)
    if parts is None or parts[0] not in CATEGORY_URGENCY:
        return None, False
    system, value = parts
    return CATEGORY_URGENCY[system].get(value), True


def flag_rule(model: str | None) -> FlagRule:
    name = (model or "").strip().lower()
    return FLAG_RULES.get(name, DEFAULT_FLAG_RULE)


def flag_threshold(model: str | None, model_threshold: float | None = None) -> float:
    """The score at which a model's result counts as a flag: its own stated threshold, else its rule's."""
    if isinstance(model_threshold, (int, float)) and not math.isnan(model_threshold) and 0 < model_threshold < 1:
        return float(model_threshold)
    return flag_rule(model).threshold


def flag_urgency(model: str | None, suspicion: float | None,
                 model_threshold: float | None = None) -> tuple[str | None, FlagRule]:
    """Urgency code a score-only result raises to, or None below threshold.

    A model that states its own calibrated operating threshold with its result
    (set on validation data, written in its model card) is flagged there; the
    rule's threshold serves models that state none."""
    rule = flag_rule(model)
    if not isinstance(suspicion, (int, float)) or math.isnan(suspicion):
        return None, rule
    return (rule.code if suspicion >= flag_threshold(model, model_threshold) else None), rule


def is_workup_category(category: str | None) -> bool:
    parts = split_category(category)
    return parts is not None and parts[1] in WORKUP_CATEGORIES.get(parts[0], ())
