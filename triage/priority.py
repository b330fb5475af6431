"""Explainable study priority: urgency class, due time and a one-line reason.

Pure Python, no Django: the live worklist and the department simulation call
the very same functions, so what the simulation measures is what ships.

The order is *earliest due time first*, where

    due_at = arrived_at + target minutes of the more urgent of
             the clinical class (order priority, patient location) and
             the AI class (what the models found).

Due-time ordering alone bounds a routine study's wait by its target (4 days),
which is far longer than a plain queue makes anybody wait: the positives the
AI misses are read as routine and waited longer than under FIFO (issue 18;
Baltruschat et al., Eur Radiol 2021: worst case 890 -> 1293 min, cut to
979 min by an upper wait limit). So each class also has an *age ceiling*
(``OrderPolicy``): the longest a study of that class should wait to be
started. The AI's suspicion below its threshold shortens the ceiling
(``score_weight``): a near miss is more likely a missed positive than a
confident negative. ``order_position`` turns the ceiling into the worklist
position, in one of two designs the department simulation compares
(docs/simulation.md):

* ``ceiling`` (the default): the ceiling is a second due time, and the study
  is ordered by the earlier of its due time and its ceiling. The order does
  not depend on the clock.
* ``promote``: past its ceiling a study is moved ahead of every study that
  has not reached its own, oldest first (Baltruschat's upper wait limit).

The live worklist orders by ``ORDER_FIELDS`` (database) and ``sort_key``
(Python): the one definition of the order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage import birads, rules


@dataclass(frozen=True)
class AiResult:
    model: str
    suspicion: float | None = None  # 0..1, study level
    category: str | None = None  # "lungrads:4A", "birads:4", "pirads:5"
    headline: str | None = None  # "9 mm solid nodule"
    threshold: float | None = None  # the model's own operating threshold, if it states one


@dataclass(frozen=True)
class StudyFacts:
    arrived_at: datetime
    requested_priority: str | None  # DICOM (0040,1003): STAT HIGH ROUTINE MEDIUM LOW
    patient_location: str | None  # DICOM (0038,0300), free text
    hl7_priority: str | None = None  # HL7 v2 ORC-7 / TQ1-9: S A R P T ...
    ai_findings: tuple[AiResult, ...] = ()
    ai_status: str | None = None  # e.g. "ai_failed: timeout", "ai_pending"
    modality: str | None = None  # main modality, e.g. "MG"
    study_description: str | None = None  # e.g. "MAMMOGRAPHY SCREENING BILATERAL"
    requested_procedure: str | None = None  # the RIS order's procedure text


@dataclass(frozen=True)
class Target:
    code: str
    name: str
    rank: int  # lower = more urgent; breaks ties between equal targets
    minutes: int
    ceiling_minutes: int | None = None  # age ceiling: the longest wait to be started; None = the target


AGEING_CEILING = "ceiling"
AGEING_PROMOTE = "promote"
AGEING_OFF = "off"
AGEING_MODES = (AGEING_CEILING, AGEING_PROMOTE, AGEING_OFF)


@dataclass(frozen=True)
class OrderPolicy:
    """How age moves a study up the worklist (parameters a manager edits with the targets).

    The ceilings live on the targets (``Target.ceiling_minutes``); this holds the design and
    how much the AI's sub-threshold suspicion shortens a ceiling: a study whose suspicion is
    a fraction ``c`` of its model's threshold gets ``ceiling * (1 - score_weight * c)``."""

    mode: str = AGEING_CEILING
    score_weight: float = 0.0
    # Closeness assumed for a study no model scored (AI failed, pending, or no model applies):
    # the AI has not ruled it out, so it should not wait as long as one the AI scored low.
    unscored_closeness: float = 0.0


@dataclass(frozen=True)
class Priority:
    urgency_code: str
    urgency_name: str
    rank: int
    due_at: datetime
    reason: str
    ai_suspicion: float | None
    escalation: str  # "none" | "near" | "overdue"
    queue: str = rules.QUEUE_GENERAL  # reading queue: general, screening, diagnostic_workup
    order_tier: int = 1  # 0 = promoted past its age ceiling (design "promote"), 1 = the rest
    order_at: datetime | None = None  # position in the worklist within the tier (None: due_at)
    aged: bool = False  # ageing moved it: it has waited past its age ceiling
    closeness: float | None = None  # highest AI suspicion as a share of its model's threshold, 0..1; None: unscored


# Defaults used when a class is missing from the targets passed in (and
# seeded into UrgencyClass by migration 0002). Figures: Canadian Wait Time
# Alliance, P1 emergent 1 h, P2 urgent 12 h, P3/P4 4 days; departments aim at
# 30-60 min for the emergency department and 4-12 h for inpatients
# (DOMAIN.md). We use 24 h for urgent outpatients, looser than WTA P2.
# Age ceilings: chosen on the department simulation's frontier
# (docs/simulation.md, "Choosing the ageing policy").
DEFAULT_TARGETS: dict[str, Target] = {
    t.code: t
    for t in (
        Target(code="stat", name="STAT", rank=10, minutes=60),
        Target(code="ai_critical", name="AI critical", rank=20, minutes=60),
        Target(code="inpatient", name="Inpatient", rank=30, minutes=4 * 60),
        Target(code="urgent", name="Urgent", rank=40, minutes=24 * 60, ceiling_minutes=2 * 60),
        Target(code="routine", name="Routine", rank=50, minutes=4 * 24 * 60, ceiling_minutes=48 * 60),
    )
}
# With score weight 0.8 a routine study the AI scored at 90 % of its threshold has a
# 48 h x (1 - 0.8 x 0.9) = 13.4 h ceiling; one it scored at 10 % keeps 44 h.
DEFAULT_POLICY = OrderPolicy(mode=AGEING_CEILING, score_weight=0.8, unscored_closeness=0.0)

ESCALATION_NONE = "none"
ESCALATION_NEAR = "near"
ESCALATION_OVERDUE = "overdue"

# A study is "near" its due time in the last quarter of its target: 15 min of
# a 1 h target, 1 day of a 4-day one.
NEAR_FRACTION = 0.25

# DICOM RequestedProcedurePriority (0040,1003) enumerated values, plus two
# words modalities are seen to send. MEDIUM and LOW read as routine.
_DICOM_PRIORITY = {
    "STAT": "stat",
    "HIGH": "urgent",
    "URGENT": "urgent",
    "ASAP": "urgent",
    "MEDIUM": "routine",
    "ROUTINE": "routine",
    "LOW": "routine",
}
# HL7 v2 table 0027 (priority): S stat, A ASAP, R routine, P preop,
# C callback, T timing critical, PRN as needed.
_HL7_PRIORITY = {
    "S": "stat",
    "A": "urgent",
    "T": "urgent",
    "R": "routine",
    "P": "routine",
    "C": "routine",
    "PRN": "routine",
}

_EMERGENCY = re.compile(r"EMERG|CASUALTY|TRAUMA|RESUS|A\s*&\s*E|\b(ED|ER|AE)\b")
_INPATIENT = re.compile(r"INPATIENT|IN-PATIENT|WARD|\b(ICU|ITU|HDU|CCU|NICU|PICU|IP)\b|ADMITTED")
_OUTPATIENT = re.compile(r"OUTPATIENT|OUT-PATIENT|CLINIC|SCREEN|\b(OP|GP)\b")


def _text(value: object) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def location_kind(location: str | None) -> str | None:
    """Kind of location from free text: emergency, inpatient, outpatient or None."""
    text = _text(location)
    if not text:
        return None
    if _EMERGENCY.search(text):
        return "emergency"
    if _INPATIENT.search(text):
        return "inpatient"
    if _OUTPATIENT.search(text):
        return "outpatient"
    return None


def _target(code: str, targets: Mapping[str, Target] | None) -> Target:
    # A manager may have deleted a class; fall back to the default rather
    # than dropping the study from the worklist.
    if targets and code in targets:
        return targets[code]
    return DEFAULT_TARGETS.get(code, DEFAULT_TARGETS["routine"])


def more_urgent(a: str, b: str, targets: Mapping[str, Target] | None = None) -> str:
    """The more urgent of two codes: shorter target, then lower rank; a on a full tie."""
    ta, tb = _target(a, targets), _target(b, targets)
    return a if (ta.minutes, ta.rank) <= (tb.minutes, tb.rank) else b


def _requested_code(facts: StudyFacts) -> tuple[str | None, str | None, str | None]:
    """(code from the order priority, its label, unrecognised raw value)."""
    codes: list[tuple[str, str]] = []
    unknown = None
    dicom = _text(facts.requested_priority)
    if dicom:
        if dicom in _DICOM_PRIORITY:
            codes.append((_DICOM_PRIORITY[dicom], dicom))
        else:
            unknown = dicom
    # TQ1-9 is a coded element ("S^Stat^HL70485"): the code is the first part.
    hl7 = _text(facts.hl7_priority).split("^")[0].strip()
    if hl7:
        if hl7 in _HL7_PRIORITY:
            codes.append((_HL7_PRIORITY[hl7], "STAT" if hl7 == "S" else f"HL7 {hl7}"))
        elif unknown is None:
            unknown = hl7
    if not codes:
        return None, None, unknown
    best = codes[0]
    for code, label in codes[1:]:
        if more_urgent(code, best[0]) == code and code != best[0]:
            best = (code, label)
    return best[0], best[1], unknown


def clinical_class(facts: StudyFacts, *, targets: Mapping[str, Target] | None = None) -> tuple[str, str]:
    """Urgency code from the order and the patient's location, with why.

    The more urgent of the order priority (STAT -> stat, HIGH/ASAP -> urgent,
    anything else -> routine) and the location (emergency department -> stat,
    inpatient -> inpatient, outpatient or unknown -> routine). Missing or
    unreadable fields read as routine; this never raises.
    """
    prio_code, prio_label, unknown = _requested_code(facts)
    kind = location_kind(facts.patient_location)
    loc_code = {"emergency": "stat", "inpatient": "inpatient"}.get(kind or "", "routine")
    code = more_urgent(prio_code or "routine", loc_code, targets)

    if prio_code == "stat":
        where = {
            "emergency": " from emergency department",
            "inpatient": " for inpatient",
        }.get(kind or "", "")
        why = f"STAT order{where}"
    elif kind == "emergency":
        why = "Emergency department" + (f", ordered {prio_label}" if prio_label else "")
    elif kind == "inpatient" and code == "inpatient":
        why = "Inpatient" + (f", ordered {prio_label}" if prio_label else "")
    elif prio_code == "urgent":
        why = f"Urgent order ({prio_label})" + (" for inpatient" if kind == "inpatient" else "")
    else:
        why = "Routine" + (" outpatient" if kind == "outpatient" else "")
        if prio_code is None and unknown is None and kind is None:
            why += " (no priority or location given)"
    if unknown is not None:
        why += f"; priority {unknown[:20]!r} not recognised"
    return code, why


def _ai_failure(status: str | None) -> str | None:
    """Text such as "AI failed (timeout)" for a failed status, else None."""
    text = status.strip() if isinstance(status, str) else ""
    low = text.lower()
    if not any(word in low for word in ("fail", "error", "timeout")):
        return None
    detail = ""
    match = re.search(r"\((.+)\)", text) or re.search(r"[:=]\s*(.+)$", text)
    if match:
        detail = match.group(1).strip()
    elif "timeout" in low:
        detail = "timeout"
    return f"AI failed ({detail[:40]})" if detail else "AI failed"


# Statuses that mean "not analysed yet" (the worklist's own: received, analysing).
_PENDING_WORDS = ("pend", "run", "queued", "received", "analysing", "analyzing")


def _suspicion(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(value) else float(value)


def ai_class(facts: StudyFacts, *, targets: Mapping[str, Target] | None = None) -> tuple[str | None, str, float | None]:
    """Urgency code AI raises the study to (None: AI does not raise it), why,
    and the highest study-level suspicion. Rules live in ``triage.rules``."""
    scores = [s for s in (_suspicion(r.suspicion) for r in facts.ai_findings) if s is not None]
    suspicion = max(scores) if scores else None

    best_code: str | None = None
    best_why = ""
    quiet_labels: list[str] = []
    for result in facts.ai_findings:
        label = rules.category_label(result.category)
        code, known_system = rules.category_urgency(result.category)
        # A model's headline is free text; the reason is one line on the worklist (no line breaks).
        headline = " ".join(result.headline.split())[:60] if isinstance(result.headline, str) else ""
        details = [headline] if headline else []
        if known_system:
            why = f"AI: {label} suggested"
        else:
            code, rule = rules.flag_urgency(result.model, _suspicion(result.suspicion), result.threshold)
            why = f"AI: {rule.finding} suspected"
            if code is not None:
                details.append(f"score {_suspicion(result.suspicion):.2f}")
        if code is None:
            if known_system and label:
                quiet_labels.append(label)
            continue
        if details:
            why += f" ({', '.join(details)})"
        if best_code is None or (more_urgent(code, best_code, targets) == code and code != best_code):
            best_code, best_why = code, why

    failure = _ai_failure(facts.ai_status)
    if best_code is not None:
        return (
            best_code,
            best_why + (f"; {failure.lower()} for another model" if failure else ""),
            suspicion,
        )
    if failure:
        return None, failure, suspicion
    if facts.ai_findings:
        detail = f" ({', '.join(quiet_labels[:2])})" if quiet_labels else ""
        return None, f"AI found nothing suspicious{detail}", suspicion
    status = _text(facts.ai_status).lower()
    if any(word in status for word in _PENDING_WORDS):
        return None, "AI pending", suspicion
    return None, "no AI result", suspicion


def ai_closeness(facts: StudyFacts) -> float | None:
    """How near the AI came to flagging the study: the highest suspicion as a share of its
    model's threshold, capped at 1; None when no model scored it. A binormal ROC puts most
    of a model's misses just below its threshold, and most negatives far below it."""
    best = None
    for result in facts.ai_findings:
        score = _suspicion(result.suspicion)
        if score is None:
            continue
        threshold = rules.flag_threshold(result.model, result.threshold)
        best = max(best or 0.0, min(1.0, max(0.0, score) / threshold))
    return best


def order_position(
    *,
    arrived_at: datetime,
    due_at: datetime,
    ceiling_minutes: float | None,
    closeness: float | None,
    now: datetime,
    policy: OrderPolicy,
) -> tuple[int, datetime, bool, datetime | None]:
    """Where age puts a study: (tier, order_at, aged, when this changes next or None).

    The worklist is sorted by (tier, order_at, ...): see ``sort_key``. ``aged`` says the
    study has waited past its (suspicion-shortened) ceiling, and that ageing moved it:
    without the ceiling it would be ordered by ``due_at``."""
    if policy.mode == AGEING_OFF or ceiling_minutes is None:
        return 1, due_at, False, None
    aged_at = arrived_at + shortened_ceiling(ceiling_minutes, closeness, policy)
    if aged_at >= due_at:
        return 1, due_at, False, None  # the ceiling is no earlier than the target: nothing to move
    aged = now >= aged_at
    if policy.mode == AGEING_PROMOTE:
        return (0, arrived_at, True, None) if aged else (1, due_at, False, aged_at)
    return 1, aged_at, aged, (None if aged else aged_at)


def is_screening(facts: StudyFacts) -> bool:
    """A screening-programme study: a screening modality described, ordered or located as screening.

    The one test of "screening" for the reading queue and the BI-RADS suggestion alike."""
    if _text(facts.modality) not in rules.SCREENING_MODALITIES:
        return False
    return birads.is_screening(facts.study_description, facts.requested_procedure, facts.patient_location)


def reading_queue(facts: StudyFacts, ai_code: str | None) -> tuple[str, str]:
    """The queue the study is read in, and why when the AI moved it.

    A screening case stays in the screening queue unless a model suggests recall or worse
    (rules.WORKUP_CATEGORIES) or raised its urgency: then it goes to diagnostic work-up."""
    if not is_screening(facts):
        return rules.QUEUE_GENERAL, ""
    suspicious = ai_code is not None or any(rules.is_workup_category(r.category) for r in facts.ai_findings)
    if suspicious:
        return rules.QUEUE_WORKUP, "screening case moved to diagnostic work-up"
    return rules.QUEUE_SCREENING, ""


def escalation_state(due_at: datetime, now: datetime, near_minutes: float) -> str:
    """Overdue past the due time, near within near_minutes of it, else none."""
    if now > due_at:
        return ESCALATION_OVERDUE
    if due_at - now <= timedelta(minutes=near_minutes):
        return ESCALATION_NEAR
    return ESCALATION_NONE


def format_duration(delta: timedelta) -> str:
    """Short duration: "42 min", "3 h 5 min", "3 d 4 h" (minutes rounded down)."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _due_phrase(due_at: datetime, now: datetime) -> str:
    if now > due_at:
        return f"overdue by {format_duration(now - due_at)}"
    return f"due in {format_duration(due_at - now)}"


def _inline(name: str) -> str:
    # "Urgent" -> "urgent" inside a sentence, but keep "STAT" and "AI critical".
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def prioritise(
    facts: StudyFacts,
    targets: Mapping[str, Target],
    now: datetime | None = None,
    *,
    near_fraction: float = NEAR_FRACTION,
    with_due: bool = True,
    policy: OrderPolicy = DEFAULT_POLICY,
) -> Priority:
    """Urgency class, due time and reason for one study. Pure: the same facts,
    targets and ``now`` always give the same Priority.

    ``with_due=False`` leaves the clock-relative "due in 42 min" out of the
    reason: the live worklist stores the reason and shows the countdown itself,
    so a stored reason changes only when the facts, the targets or the
    policy do, or when the study passes its age ceiling."""
    if now is None:
        now = datetime.now(tz=facts.arrived_at.tzinfo)
    clinical_code, clinical_why = clinical_class(facts, targets=targets)
    ai_code, ai_why, suspicion = ai_class(facts, targets=targets)

    code = clinical_code if ai_code is None else more_urgent(clinical_code, ai_code, targets)
    target = _target(code, targets)
    due_at = facts.arrived_at + timedelta(minutes=target.minutes)
    due = _due_phrase(due_at, now) if with_due else ""

    if code != clinical_code:
        clinical = _target(clinical_code, targets)
        reason = f"{ai_why} → {_inline(target.name)}; ordered {_inline(clinical.name)}"
    elif ai_why == "no AI result":
        reason = clinical_why
    elif ai_why.startswith("AI failed"):
        reason = f"{clinical_why}; {ai_why} — read as ordered"
    else:
        reason = f"{clinical_why}; {ai_why}"
    queue, queue_why = reading_queue(facts, ai_code)
    if queue_why:
        reason = f"{reason}; {queue_why}"
    closeness = ai_closeness(facts)
    tier, order_at, aged, _ = order_position(
        arrived_at=facts.arrived_at, due_at=due_at, ceiling_minutes=target.ceiling_minutes,
        closeness=closeness, now=now, policy=policy,
    )
    if aged:
        waited = format_duration(now - facts.arrived_at)
        ceiling = format_duration(order_ceiling(target, closeness, policy))
        near = ""
        if policy.score_weight > 0 and closeness:
            near = " (shortened by the AI's suspicion)"
        elif policy.score_weight > 0 and closeness is None and policy.unscored_closeness > 0:
            near = " (shortened: no AI score)"
        reason = f"{reason}; waited {waited}, past its {ceiling} age ceiling{near}: moved up"
    if due:
        reason = f"{reason}; {due}"

    return Priority(
        urgency_code=target.code,
        urgency_name=target.name,
        rank=target.rank,
        due_at=due_at,
        reason=reason,
        ai_suspicion=suspicion,
        escalation=escalation_state(due_at, now, target.minutes * near_fraction),
        queue=queue,
        order_tier=tier,
        order_at=order_at,
        aged=aged,
        closeness=closeness,
    )


def shortened_ceiling(ceiling_minutes: float, closeness: float | None, policy: OrderPolicy) -> timedelta:
    """A class's age ceiling shortened by the AI's suspicion below its threshold."""
    weight = min(1.0, max(0.0, policy.score_weight))
    near = policy.unscored_closeness if closeness is None else closeness
    return timedelta(minutes=ceiling_minutes * (1.0 - weight * min(1.0, max(0.0, near))))


def order_ceiling(target: Target, closeness: float | None, policy: OrderPolicy) -> timedelta:
    """The age ceiling that applies to a study of this class with this AI closeness."""
    minutes = target.ceiling_minutes if target.ceiling_minutes is not None else target.minutes
    return shortened_ceiling(minutes, closeness, policy)


# The worklist order, the one definition: the database sorts by these Study fields
# (worklist.selectors.worklist_order), Python by ``sort_key`` / ``study_sort_key`` built
# from the same list. "-" = descending; a missing value sorts last.
ORDER_FIELDS: tuple[str, ...] = ("order_tier", "order_at", "-ai_suspicion", "arrived_at", "id")


def study_sort_key(
    *, order_tier: int, order_at: datetime | None, ai_suspicion: float | None, arrived_at: datetime,
    id: str | int,  # noqa: A002 - the field's name, as in ORDER_FIELDS
) -> tuple:
    """The Python key of ``ORDER_FIELDS``: what the database ordering does, row by row."""
    return (
        order_tier,
        (order_at is None, order_at or arrived_at),
        (ai_suspicion is None, -(ai_suspicion or 0.0)),
        arrived_at,
        id,
    )


def sort_key(priority: Priority, arrived_at: datetime, *, tiebreak: str | int = "") -> tuple:
    """Worklist order of a computed priority: the tier (studies promoted past their age
    ceiling first, design "promote"), then the earlier of the due time and the age
    ceiling, then the higher AI suspicion, the earlier arrival and ``tiebreak`` (a study
    id) so the order is total. With the default design the key does not depend on the
    clock; with "promote" it changes once, when the study reaches its ceiling."""
    return study_sort_key(
        order_tier=priority.order_tier,
        order_at=priority.order_at if priority.order_at is not None else priority.due_at,
        ai_suspicion=priority.ai_suspicion,
        arrived_at=arrived_at,
        id=tiebreak,
    )


def targets_check(targets: Mapping[str, Target]) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a set of targets and age ceilings, in a manager's words.

    Errors: a less urgent class (higher rank) with a shorter target than a more urgent one
    (an urgent target under STAT's would read urgent work before emergencies); an age
    ceiling longer than its own target (it could never move anything). Warnings: a less
    urgent class moved up sooner than a more urgent one."""
    errors: list[str] = []
    warnings: list[str] = []
    ordered = sorted(targets.values(), key=lambda t: t.rank)
    for i, more in enumerate(ordered):
        for less in ordered[i + 1:]:
            if less.rank > more.rank and less.minutes < more.minutes:
                errors.append(
                    f"{less.name} ({format_duration(timedelta(minutes=less.minutes))}) would be shorter than "
                    f"{more.name} ({format_duration(timedelta(minutes=more.minutes))}): a less urgent class cannot "
                    "have a shorter target."
                )
    for t in ordered:
        if t.ceiling_minutes is not None and t.ceiling_minutes > t.minutes:
            errors.append(
                f"{t.name}: age ceiling {format_duration(timedelta(minutes=t.ceiling_minutes))} is longer than its "
                f"target {format_duration(timedelta(minutes=t.minutes))}; it would never move a study up."
            )
    ceiled = [t for t in ordered if t.ceiling_minutes is not None]
    for i, more in enumerate(ceiled):
        for less in ceiled[i + 1:]:
            c_more, c_less = more.ceiling_minutes, less.ceiling_minutes
            if less.rank > more.rank and c_less < c_more:
                warnings.append(
                    f"{less.name} studies are moved up after {format_duration(timedelta(minutes=c_less))}, sooner "
                    f"than {more.name} studies ({format_duration(timedelta(minutes=c_more))})."
                )
    return errors, warnings


def policy_check(policy: OrderPolicy) -> list[str]:
    """Errors of an ageing policy, in words."""
    errors = []
    if policy.mode not in AGEING_MODES:
        errors.append(f"Unknown ageing design {policy.mode!r}: one of {', '.join(AGEING_MODES)}.")
    for name, value in (("score weight", policy.score_weight), ("closeness of unscored studies",
                                                                 policy.unscored_closeness)):
        if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
            errors.append(f"The {name} must be between 0 and 1.")
    return errors
