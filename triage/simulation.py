"""Department simulation: how long studies wait under FIFO and under triage.

The worklist order comes from the very same ``prioritise`` and ``sort_key``
that order the live worklist, so the simulation measures what ships.

Model, in brief (all figures are parameters; defaults from DOMAIN.md):

* Arrivals: Poisson, with an hourly rate that follows a daytime peak
  (``HOURLY_PROFILE``). ``load`` sets the mean daily rate so that the reading
  work is that share of the readers' capacity.
* Readers: a constant number of radiologists reading around the clock. That
  is simpler than shifts and errs towards FIFO: the daytime peak still builds
  a backlog that the night clears, which is when ordering matters.
* Reading is non-preemptive: a radiologist finishes a study before taking the
  next. Reading times are log-normal with a mean per study type.
* Each study type has a prevalence of *truly positive* findings: the finding
  its AI model looks for (types without a model have none by definition). The
  model sees a positive with its sensitivity and calls a negative negative
  with its specificity; its result arrives a few minutes after the study and
  may fail. Until the result arrives, the study is ordered by its clinical
  class alone.
* FIFO takes the earliest arrival. Triage takes the smallest ``sort_key`` of
  ``prioritise``. The key does not depend on the clock (only on the study's
  facts), so a heap re-keyed whenever a study's facts change (its AI result
  arrives) picks exactly what a full re-sort at pick time would; the
  ``recompute="full"`` mode does the full re-sort, and a test checks the two
  agree.

Both policies run on the identical arrival stream (same seed), so the
comparison is paired.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

import numpy as np

from triage.lungrads import Nodule, describe, suggest
from triage.priority import (
    AGEING_CEILING,
    AGEING_OFF,
    AGEING_PROMOTE,
    DEFAULT_POLICY,
    DEFAULT_TARGETS,
    AiResult,
    OrderPolicy,
    Priority,
    StudyFacts,
    Target,
    clinical_class,
    order_position,
    prioritise,
    sort_key,
    study_sort_key,
)

START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday at midnight
MINUTES_PER_DAY = 24 * 60

# Relative arrival rate by hour of day (0-23), mean 1 after normalising: quiet
# nights, a peak in working hours, a busy evening emergency department.
HOURLY_PROFILE = (
    0.35, 0.3, 0.3, 0.3, 0.3, 0.35, 0.5, 0.8,
    1.4, 1.8, 1.9, 1.8, 1.6, 1.7, 1.8, 1.7,
    1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.5, 0.4,
)  # fmt: skip

EMERGENCY = "EMERGENCY DEPT"
INPATIENT = "WARD 5 (INPATIENT)"
OUTPATIENT = "OUTPATIENT CLINIC"
SCREENING = "SCREENING CLINIC"


@dataclass(frozen=True)
class AiModel:
    name: str
    sensitivity: float
    specificity: float
    minutes: float = 5.0  # mean time from arrival to result
    failure_rate: float = 0.02


@dataclass(frozen=True)
class StudyType:
    name: str
    share: float  # of arrivals, before normalising
    read_minutes: float  # mean reading (and reporting) time
    read_cv: float  # coefficient of variation of the log-normal
    orders: tuple[tuple[str, str | None, float], ...]  # (location, priority, weight)
    prevalence: float = 0.0  # share with a truly positive finding
    ai_model: str | None = None


# Reading times: DOMAIN.md (RIS timestamps: head CT 16.1, chest CT 15.8,
# abdomen 17.9 min; radiograph 15 s-2 min; screening mammogram 1-4 min;
# prostate MRI 15-25 min). Screening LDCT (10 min) and knee MRI (12 min) are
# our assumptions. Prevalences: Lung-RADS 4A-4X about 7 % in screening; the
# rest are rough orders of magnitude, named here so they can be argued with.
DEFAULT_CASE_MIX: tuple[StudyType, ...] = (
    StudyType(
        "chest_xr", 0.41, 1.5, 0.6,
        ((EMERGENCY, "STAT", 0.15), (EMERGENCY, "ROUTINE", 0.15), (INPATIENT, "ROUTINE", 0.25),
         (INPATIENT, "HIGH", 0.05), (OUTPATIENT, "ROUTINE", 0.35), (OUTPATIENT, "HIGH", 0.05)),
        prevalence=0.04, ai_model="cxr_critical",
    ),
    StudyType(
        "head_ct", 0.12, 16.1, 0.5,
        ((EMERGENCY, "STAT", 0.45), (EMERGENCY, "ROUTINE", 0.15), (INPATIENT, "ROUTINE", 0.2),
         (INPATIENT, "STAT", 0.05), (OUTPATIENT, "ROUTINE", 0.15)),
        prevalence=0.08, ai_model="ich",
    ),
    StudyType(
        "chest_ct_screening", 0.06, 10.0, 0.4, ((SCREENING, "ROUTINE", 1.0),),
        prevalence=0.07, ai_model="lung_nodule",
    ),
    StudyType(
        "chest_ct_diagnostic", 0.08, 15.8, 0.5,
        ((EMERGENCY, "STAT", 0.1), (INPATIENT, "ROUTINE", 0.35), (OUTPATIENT, "ROUTINE", 0.45),
         (OUTPATIENT, "HIGH", 0.1)),
        prevalence=0.10, ai_model="lung_nodule",
    ),
    StudyType(
        "abdomen_ct", 0.10, 17.9, 0.5,
        ((EMERGENCY, "STAT", 0.25), (EMERGENCY, "ROUTINE", 0.1), (INPATIENT, "ROUTINE", 0.35),
         (OUTPATIENT, "ROUTINE", 0.3)),
    ),
    StudyType(
        "mammo_screening", 0.15, 1.5, 0.5, ((SCREENING, "ROUTINE", 1.0),),
        prevalence=0.02, ai_model="mammo",
    ),
    StudyType(
        "prostate_mri", 0.03, 20.0, 0.3, ((OUTPATIENT, "ROUTINE", 0.85), (OUTPATIENT, "HIGH", 0.15)),
        prevalence=0.35, ai_model="prostate",
    ),
    StudyType(
        "knee_mri", 0.05, 12.0, 0.4,
        ((OUTPATIENT, "ROUTINE", 0.9), (INPATIENT, "ROUTINE", 0.05), (EMERGENCY, "ROUTINE", 0.05)),
    ),
)  # fmt: skip

DEFAULT_AI_MODELS: dict[str, AiModel] = {
    m.name: m
    for m in (
        AiModel("cxr_critical", 0.9, 0.9, minutes=2.0),
        AiModel("ich", 0.9, 0.9, minutes=3.0),
        AiModel("lung_nodule", 0.9, 0.9, minutes=6.0),
        AiModel("mammo", 0.9, 0.9, minutes=3.0),
        AiModel("prostate", 0.9, 0.9, minutes=6.0),
    )
}


@dataclass(frozen=True)
class SimStudy:
    id: int
    arrived: float  # minutes from START
    kind: str
    location: str
    priority: str | None
    positive: bool
    read_minutes: float
    ai_ready: float | None  # minutes from START; None without a model
    ai_result: AiResult | None
    ai_status: str | None
    true_result: AiResult | None = None  # truly positive: what the finding required
    flagged: bool = False  # the AI flagged it (score at or over its threshold)

    def facts(self, *, with_ai: bool) -> StudyFacts:
        arrived_at = START + timedelta(minutes=self.arrived)
        if self.ai_ready is None:
            return StudyFacts(arrived_at, self.priority, self.location)
        if not with_ai:
            return StudyFacts(arrived_at, self.priority, self.location, ai_status="ai_pending")
        findings = (self.ai_result,) if self.ai_result is not None else ()
        return StudyFacts(arrived_at, self.priority, self.location, ai_findings=findings, ai_status=self.ai_status)

    def needed_facts(self) -> StudyFacts:
        """The facts with the finding the patient truly has (none for a negative study)."""
        arrived_at = START + timedelta(minutes=self.arrived)
        findings = (self.true_result,) if self.true_result is not None else ()
        return StudyFacts(arrived_at, self.priority, self.location, ai_findings=findings, ai_status="ai_done")


@dataclass
class SimResult:
    policy: str
    studies: list[SimStudy]
    start: list[float | None]  # reading started, minutes from START
    finish: list[float | None]  # report signed
    pick_order: list[int] = field(default_factory=list)
    queued_at_end: list[int] = field(default_factory=list)


def mean_read_minutes(case_mix: Sequence[StudyType]) -> float:
    total = sum(t.share for t in case_mix)
    return sum(t.share * t.read_minutes for t in case_mix) / total


def arrivals_per_day(*, load: float, radiologists: int, case_mix: Sequence[StudyType] = DEFAULT_CASE_MIX) -> float:
    """Daily arrivals whose reading work is ``load`` times the readers' capacity."""
    return load * radiologists * MINUTES_PER_DAY / mean_read_minutes(case_mix)


def _lognormal(rng: np.random.Generator, mean: float, cv: float) -> float:
    sigma = math.sqrt(math.log(1 + cv * cv))
    return float(rng.lognormal(math.log(mean) - sigma * sigma / 2, sigma))


def binormal_scores(*, sensitivity: float, specificity: float) -> tuple[float, float]:
    """(threshold, mean of positives) of a binormal ROC with unit variances and negatives
    at N(0, 1) that passes through (1 - specificity, sensitivity) at its threshold."""
    eps = 1e-6
    threshold = _NORMAL.inv_cdf(min(1 - eps, max(eps, specificity)))
    return threshold, threshold + _NORMAL.inv_cdf(min(1 - eps, max(eps, sensitivity)))


_NORMAL = NormalDist()


def _true_finding(model: str, rng: np.random.Generator) -> tuple[float | None, str | None]:
    """What a truly positive study holds: (nodule size, or None; category, or None)."""
    if model == "lung_nodule":
        # About 4 % 4A and 3 % 4B/4X in screening: 4A-sized or larger nodules.
        size = rng.uniform(8.0, 15.0) if rng.random() < 4 / 7 else rng.uniform(15.0, 30.0)
        return round(float(size), 1), None
    if model == "mammo":
        return None, "birads:5" if rng.random() < 0.3 else "birads:4"
    if model == "prostate":
        return None, "pirads:4" if rng.random() < 0.5 else "pirads:5"
    return None, None  # score-only detectors (ich, cxr): the finding is the flag


def _ai_result(model: str, suspicion: float, *, flagged: bool, truth: tuple[float | None, str | None] | None,
               rng: np.random.Generator) -> AiResult:
    """What the model reports. A flagged positive reports the true finding; categories come
    from the same rule code the product uses (Lung-RADS from nodule sizes)."""
    if model == "lung_nodule":
        if flagged and truth is not None:
            size = truth[0]
        elif flagged:
            size = round(float(rng.uniform(8.0, 11.0)), 1)  # a false positive looks like a small 4A
        else:
            size = round(float(rng.uniform(3.0, 6.0)), 1) if rng.random() < 0.5 else None
        nodules = [Nodule("solid", size)] if size is not None else []
        suggestion = suggest(nodules)
        headline = describe(nodules[0]) if nodules else None
        return AiResult(model, suspicion, suggestion.as_category, headline)
    if model == "mammo":
        if flagged:
            value = truth[1] if truth is not None else "birads:4"
        else:
            value = "birads:1" if rng.random() < 0.5 else "birads:2"
        return AiResult(model, suspicion, value, None)
    if model == "prostate":
        if flagged:
            value = truth[1] if truth is not None else ("pirads:4" if rng.random() < 0.5 else "pirads:5")
        else:
            value = "pirads:2" if rng.random() < 0.5 else "pirads:3"
        return AiResult(model, suspicion, value, None)
    return AiResult(model, suspicion, None, None)


def _true_result(model: str, truth: tuple[float | None, str | None]) -> AiResult:
    """The result a perfect model would give: what the patient's finding required."""
    if model == "lung_nodule":
        nodule = Nodule("solid", truth[0])
        return AiResult(model, 1.0, suggest([nodule]).as_category, describe(nodule))
    return AiResult(model, 1.0, truth[1], None)


def generate_studies(
    *,
    days: int,
    per_day: float,
    seed: int,
    case_mix: Sequence[StudyType] = DEFAULT_CASE_MIX,
    ai_models: Mapping[str, AiModel] = DEFAULT_AI_MODELS,
) -> list[SimStudy]:
    """The arrival stream, with every random draw made up front so that every policy
    sees identical studies.

    AI scores come from a binormal ROC through the model's (1 - specificity,
    sensitivity) point: a latent score N(0, 1) for negatives and N(mu, 1) for
    positives, flagged at or above the threshold. The study's suspicion is
    Phi(score - threshold), so 0.5 is the operating threshold and a near miss
    scores just under it, as a real model's probability would."""
    rng = np.random.default_rng(seed)
    profile = np.asarray(HOURLY_PROFILE, dtype=float)
    profile = profile / profile.mean()
    shares = np.asarray([t.share for t in case_mix], dtype=float)
    shares = shares / shares.sum()

    times: list[float] = []
    for day in range(days):
        for hour in range(24):
            n = rng.poisson(per_day / 24 * profile[hour])
            base = (day * 24 + hour) * 60
            times.extend(base + 60 * rng.random(n))
    times.sort()

    # Cumulative weights and searchsorted: a scalar rng.choice(p=...) per
    # study is a hundred times slower.
    kind_cdf = np.cumsum(shares)
    order_cdfs = [np.cumsum([w for _, _, w in t.orders]) / sum(w for _, _, w in t.orders) for t in case_mix]
    rocs = {name: binormal_scores(sensitivity=m.sensitivity, specificity=m.specificity)
            for name, m in ai_models.items()}

    def pick(cdf: np.ndarray) -> int:
        return min(int(np.searchsorted(cdf, rng.random(), side="right")), len(cdf) - 1)

    studies = []
    for i, t in enumerate(times):
        k = pick(kind_cdf)
        kind = case_mix[k]
        location, priority, _ = kind.orders[pick(order_cdfs[k])]
        positive = bool(rng.random() < kind.prevalence)
        read = _lognormal(rng, kind.read_minutes, kind.read_cv)
        ai_ready = ai_result = ai_status = true_result = None
        flagged = False
        model = ai_models.get(kind.ai_model) if kind.ai_model else None
        truth = _true_finding(kind.ai_model, rng) if positive and kind.ai_model else None
        if truth is not None:
            true_result = _true_result(kind.ai_model, truth)
        if model is not None:
            ai_ready = float(t + model.minutes * rng.uniform(0.5, 1.5))
            threshold, mu = rocs[model.name]
            score = float(rng.normal(mu if positive else 0.0, 1.0))
            if rng.random() < model.failure_rate:
                ai_status = "ai_failed: timeout"
            else:
                flagged = score >= threshold
                suspicion = _NORMAL.cdf(score - threshold)
                ai_result = _ai_result(model.name, suspicion, flagged=flagged, truth=truth, rng=rng)
                ai_status = "ai_done"
        studies.append(
            SimStudy(i, float(t), kind.name, location, priority, positive, read, ai_ready, ai_result, ai_status,
                     true_result=true_result, flagged=flagged)
        )
    return studies


@dataclass(frozen=True)
class Design:
    """A triage ordering to simulate: the live function with these age ceilings (minutes per
    class, None = none) and this OrderPolicy. ``triage`` is the live default."""

    name: str
    policy: OrderPolicy = DEFAULT_POLICY
    ceilings: Mapping[str, int | None] | None = None  # None: the targets' own ceilings

    def targets(self, base: Mapping[str, Target]) -> dict[str, Target]:
        if self.ceilings is None:
            return dict(base)
        return {code: replace(t, ceiling_minutes=self.ceilings.get(code)) for code, t in base.items()}


TRIAGE = Design("triage")
EDF = Design("edf", OrderPolicy(mode=AGEING_OFF))  # earliest due first, no age ceiling (before issue 18)


def as_design(policy: str | Design) -> Design | None:
    """None for FIFO; "triage" is the live default, "edf" due-time order without ceilings."""
    if isinstance(policy, Design):
        return policy
    if policy == "fifo":
        return None
    if policy == "triage":
        return TRIAGE
    if policy == "edf":
        return EDF
    raise ValueError(f"unknown policy {policy!r}")


@dataclass(frozen=True)
class Prepared:
    """Each study's priority before and after its AI result: computed once per stream with
    ``prioritise`` and shared by every design (class, due time, suspicion and closeness do
    not depend on the clock or the ageing policy; the order position is recomputed from
    them with ``order_position`` at every event)."""

    before: list[Priority]
    after: list[Priority]


def prepare(studies: Sequence[SimStudy], targets: Mapping[str, Target]) -> Prepared:
    off = OrderPolicy(mode=AGEING_OFF)
    before, after = [], []
    for s in studies:
        pre = s.facts(with_ai=False)
        before.append(prioritise(pre, targets, now=pre.arrived_at, with_due=False, policy=off))
        if s.ai_ready is None:
            after.append(before[-1])
        else:
            post = s.facts(with_ai=True)
            after.append(prioritise(post, targets, now=post.arrived_at, with_due=False, policy=off))
    return Prepared(before, after)


_ARRIVAL, _AI_DONE, _FREE, _AGE = 0, 1, 2, 3


def run_queue(
    studies: Sequence[SimStudy],
    *,
    radiologists: int,
    policy: str | Design,
    targets: Mapping[str, Target] = DEFAULT_TARGETS,
    horizon: float | None = None,
    recompute: str = "heap",
    prepared: Prepared | None = None,
) -> SimResult:
    """Event-driven reading queue. ``policy`` is "fifo", "triage" (the live order), "edf"
    or a Design. With a ``horizon`` (minutes) the run stops there and reports what is
    still queued; without one it runs until every study is read.

    Triage keeps a heap keyed by ``sort_key`` and re-keys a study when its facts change
    (AI result) or when ``order_position`` says its position changes (it reaches its age
    ceiling, design "promote"). ``recompute="full"`` instead calls ``prioritise`` for
    every waiting study at every pick; a test checks the two pick the same."""
    design = as_design(policy)
    if radiologists < 1:
        raise ValueError("need at least one radiologist")
    name = "fifo" if design is None else design.name
    start: list[float | None] = [None] * len(studies)
    finish: list[float | None] = [None] * len(studies)
    result = SimResult(name, list(studies), start, finish)
    events: list[tuple[float, int, int, int]] = []
    seq = 0
    for s in studies:
        events.append((s.arrived, seq, _ARRIVAL, s.id))
        seq += 1
        if s.ai_ready is not None:
            events.append((s.ai_ready, seq, _AI_DONE, s.id))
            seq += 1
    heapq.heapify(events)

    design_targets = design.targets(targets) if design is not None else dict(targets)
    if design is not None and recompute == "heap" and prepared is None:
        prepared = prepare(studies, targets)
    queued: dict[int, bool] = {}  # id -> AI result known
    heap: list[tuple] = []  # (key, version, id) for triage, (arrived, id) for fifo
    version: dict[int, int] = {}
    idle = radiologists

    def full_key(study: SimStudy, now: float) -> tuple:
        facts = study.facts(with_ai=queued[study.id])
        p = prioritise(facts, design_targets, now=START + timedelta(minutes=now), policy=design.policy)
        return sort_key(p, facts.arrived_at, tiebreak=study.id)

    def push(study: SimStudy, now: float) -> None:
        nonlocal seq
        if design is None:
            heapq.heappush(heap, (study.arrived, study.id))
            return
        if recompute != "heap":
            return
        p = (prepared.after if queued[study.id] else prepared.before)[study.id]
        target = design_targets.get(p.urgency_code)
        arrived_at = START + timedelta(minutes=study.arrived)
        tier, order_at, _, changes_at = order_position(
            arrived_at=arrived_at, due_at=p.due_at,
            ceiling_minutes=target.ceiling_minutes if target is not None else None,
            closeness=p.closeness, now=START + timedelta(minutes=now), policy=design.policy,
        )
        key = study_sort_key(order_tier=tier, order_at=order_at, ai_suspicion=p.ai_suspicion,
                             arrived_at=arrived_at, id=study.id)
        version[study.id] = version.get(study.id, 0) + 1
        heapq.heappush(heap, (key, version[study.id], study.id))
        if changes_at is not None:
            heapq.heappush(events, ((changes_at - START).total_seconds() / 60, seq, _AGE, study.id))
            seq += 1

    def pick(now: float) -> int:
        if design is not None and recompute == "full":
            return min(queued, key=lambda i: full_key(studies[i], now))
        while True:
            entry = heapq.heappop(heap)
            sid = entry[-1]
            if sid in queued and (design is None or entry[1] == version[sid]):
                return sid

    while events:
        now, _, kind, sid = events[0]
        if horizon is not None and now > horizon:
            break
        heapq.heappop(events)
        if kind == _ARRIVAL:
            queued[sid] = False
            push(studies[sid], now)
        elif kind == _AI_DONE:
            if sid in queued:
                queued[sid] = True
                if design is not None:
                    push(studies[sid], now)  # facts changed: re-key
        elif kind == _AGE:
            if sid in queued:
                push(studies[sid], now)  # reached its age ceiling: re-key
            continue
        else:
            idle += 1
        while idle and queued:
            sid = pick(now)
            del queued[sid]
            start[sid] = now
            finish[sid] = now + studies[sid].read_minutes
            result.pick_order.append(sid)
            idle -= 1
            heapq.heappush(events, (finish[sid], seq, _FREE, sid))
            seq += 1
    result.queued_at_end = sorted(queued)
    return result


# --- summaries ------------------------------------------------------------------


@dataclass(frozen=True)
class GroupStats:
    group: str
    n: int
    unread: int
    start_mean: float
    start_median: float
    start_p95: float
    start_p99: float
    start_max: float
    report_mean: float
    report_median: float
    report_p95: float
    report_p99: float
    report_max: float
    within_target: float  # share of the group reported within the target of the class it truly needed


@dataclass(frozen=True)
class StudyClass:
    assigned: str  # the class the study had with its AI result known
    clinical: str  # the class its order and location gave it
    needed: str  # the class it truly needed: its order, location and true finding
    needed_minutes: float  # that class's target


def final_classes(studies: Sequence[SimStudy], targets: Mapping[str, Target]) -> list[StudyClass]:
    """Per study: the class it was given (AI result known), its clinical class, and the class
    it truly needed, which the department is judged against. A truly positive study needed
    the class of its true finding (a haemorrhage the AI missed still needed the hour); a
    negative one needed its clinical class, whatever the AI said."""
    out = []
    off = OrderPolicy(mode=AGEING_OFF)
    for s in studies:
        facts = s.facts(with_ai=True)
        p = prioritise(facts, targets, now=facts.arrived_at, with_due=False, policy=off)
        clinical, _ = clinical_class(facts, targets=targets)
        if s.true_result is not None:
            needed = prioritise(s.needed_facts(), targets, now=facts.arrived_at, with_due=False, policy=off)
            code, minutes = needed.urgency_code, (needed.due_at - facts.arrived_at).total_seconds() / 60
        else:
            code, minutes = clinical, float(targets[clinical].minutes if clinical in targets else
                                           DEFAULT_TARGETS[clinical].minutes)
        out.append(StudyClass(p.urgency_code, clinical, code, minutes))
    return out


POSITIVE = "truly positive"
POSITIVE_ROUTINE = "positive, ordered routine"
MISSED = "positive, missed by AI"


def summarise(
    result: SimResult,
    *,
    targets: Mapping[str, Target] = DEFAULT_TARGETS,
    warmup_days: float = 1.0,
    classes: list[StudyClass] | None = None,
) -> list[GroupStats]:
    """Waits by the class each study truly needed, for truly positive studies (all, those
    ordered routine, those the AI missed or failed on) and for all. Studies that arrived
    during the warm-up (queue filling from empty) are left out. Everyone is judged
    against the target of the class they truly needed."""
    classes = classes if classes is not None else final_classes(result.studies, targets)
    groups: dict[str, list[int]] = {code: [] for code in sorted(targets, key=lambda c: targets[c].rank)}
    groups.update({POSITIVE: [], POSITIVE_ROUTINE: [], MISSED: [], "all": []})
    for s in result.studies:
        if s.arrived < warmup_days * MINUTES_PER_DAY:
            continue
        c = classes[s.id]
        groups.setdefault(c.needed, []).append(s.id)
        groups["all"].append(s.id)
        if s.positive:
            groups[POSITIVE].append(s.id)
            if c.clinical == "routine":
                groups[POSITIVE_ROUTINE].append(s.id)
            if not s.flagged:
                groups[MISSED].append(s.id)

    stats = []
    for name, ids in groups.items():
        read = [i for i in ids if result.finish[i] is not None]
        if not ids:
            continue
        waits = np.asarray([result.start[i] - result.studies[i].arrived for i in read], dtype=float)
        reports = np.asarray([result.finish[i] - result.studies[i].arrived for i in read], dtype=float)
        met = sum(1 for i in read if result.finish[i] - result.studies[i].arrived <= classes[i].needed_minutes)

        def q(a: np.ndarray, p: float) -> float:
            return float(np.percentile(a, p)) if a.size else math.nan

        stats.append(
            GroupStats(
                group=name,
                n=len(ids),
                unread=len(ids) - len(read),
                start_mean=float(waits.mean()) if waits.size else math.nan,
                start_median=q(waits, 50),
                start_p95=q(waits, 95),
                start_p99=q(waits, 99),
                start_max=q(waits, 100),
                report_mean=float(reports.mean()) if reports.size else math.nan,
                report_median=q(reports, 50),
                report_p95=q(reports, 95),
                report_p99=q(reports, 99),
                report_max=q(reports, 100),
                within_target=met / len(ids),
            )
        )
    return stats


def format_minutes(value: float) -> str:
    """Compact wait: "12.3 min", "4.2 h", "3.1 d"."""
    if math.isnan(value):
        return "-"
    if value < 60:
        return f"{value:.1f} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / MINUTES_PER_DAY:.1f} d"


def format_table(stats_by_policy: Mapping[str, list[GroupStats]]) -> str:
    """Markdown table, policies side by side per group."""
    header = (
        "| group | policy | n | wait to start: median | p95 | p99 | max "
        "| to report: median | p95 | p99 | max | within target |"
    )
    lines = [header, "|" + "---|" * 12]
    groups = [g.group for g in next(iter(stats_by_policy.values()))]
    by_name = {p: {g.group: g for g in stats} for p, stats in stats_by_policy.items()}
    f = format_minutes
    for group in groups:
        for policy in stats_by_policy:
            g = by_name[policy].get(group)
            if g is None:
                continue
            lines.append(
                f"| {group} | {policy} | {g.n} | {f(g.start_median)} | {f(g.start_p95)} | {f(g.start_p99)} "
                f"| {f(g.start_max)} | {f(g.report_median)} | {f(g.report_p95)} | {f(g.report_p99)} "
                f"| {f(g.report_max)} | {g.within_target:.1%} |"
            )
    return "\n".join(lines)


@dataclass(frozen=True)
class Scenario:
    name: str
    radiologists: int
    per_day: float


def run_scenario(
    scenario: Scenario,
    *,
    days: int,
    seed: int,
    policies: Sequence[str | Design] = ("fifo", "triage"),
    targets: Mapping[str, Target] = DEFAULT_TARGETS,
    case_mix: Sequence[StudyType] = DEFAULT_CASE_MIX,
    ai_models: Mapping[str, AiModel] = DEFAULT_AI_MODELS,
    warmup_days: float = 1.0,
) -> tuple[dict[str, SimResult], dict[str, list[GroupStats]]]:
    studies = generate_studies(days=days, per_day=scenario.per_day, seed=seed, case_mix=case_mix, ai_models=ai_models)
    return run_designs(studies, radiologists=scenario.radiologists, policies=policies, targets=targets,
                       warmup_days=warmup_days)


def run_designs(
    studies: Sequence[SimStudy],
    *,
    radiologists: int,
    policies: Sequence[str | Design],
    targets: Mapping[str, Target] = DEFAULT_TARGETS,
    warmup_days: float = 1.0,
) -> tuple[dict[str, SimResult], dict[str, list[GroupStats]]]:
    """Every policy on the one arrival stream (a paired comparison)."""
    classes = final_classes(studies, targets)
    prepared = prepare(studies, targets) if any(as_design(p) is not None for p in policies) else None
    results, stats = {}, {}
    for policy in policies:
        r = run_queue(studies, radiologists=radiologists, policy=policy, targets=targets, prepared=prepared)
        results[r.policy] = r
        stats[r.policy] = summarise(r, targets=targets, warmup_days=warmup_days, classes=classes)
    return results, stats


def save_wait_plot(results: Mapping[str, SimResult], path: str, *, targets: Mapping[str, Target] = DEFAULT_TARGETS):
    """Cumulative distributions of arrival-to-report time, FIFO against
    triage, for truly positive and for routine-class studies."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    any_result = next(iter(results.values()))
    classes = final_classes(any_result.studies, targets)
    panels = (
        ("Truly positive studies", lambda s: s.positive),
        ("Studies that needed the routine class", lambda s: classes[s.id].needed == "routine"),
    )
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, (title, wanted) in zip(axes, panels, strict=True):
        for policy, result in results.items():
            waits = np.sort(
                [
                    result.finish[s.id] - s.arrived
                    for s in result.studies
                    if wanted(s) and result.finish[s.id] is not None
                ]
            )
            if waits.size:
                ax.step(waits / 60, np.arange(1, waits.size + 1) / waits.size, where="post", label=policy)
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("arrival to report (hours, log scale)")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].axvline(targets["routine"].minutes / 60, color="grey", linestyle="--", label="routine target")
    axes[0].set_ylabel("share of studies reported")
    axes[1].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- frontier of ageing designs and the load/sensitivity sweep -------------------------------


def frontier_designs() -> list[Design]:
    """The ageing designs and parameters compared in docs/simulation.md."""
    designs = [EDF]
    for weight in (0.0, 0.8):
        for unscored in (0.0, 0.5):
            for inpatient in (None, 120):
                for urgent in (60, 120):
                    for routine in (4, 5, 6, 8, 12, 16):
                        designs.append(Design(
                            f"ceiling w{weight:g} u{unscored:g} inpatient {inpatient or '-'} urgent {urgent} "
                            f"routine {routine * 60}",
                            OrderPolicy(AGEING_CEILING, weight, unscored),
                            {"inpatient": inpatient, "urgent": urgent, "routine": routine * 60},
                        ))
    for weight in (0.0, 0.8):
        for urgent in (60, 120):
            for routine in (4, 6, 8, 12, 16):
                designs.append(Design(
                    f"promote w{weight:g} u0 inpatient - urgent {urgent} routine {routine * 60}",
                    OrderPolicy(AGEING_PROMOTE, weight, 0.0),
                    {"urgent": urgent, "routine": routine * 60},
                ))
    return designs


def robust_designs() -> list[Design]:
    """The frontier's best designs with longer routine ceilings, for the check across seeds."""
    designs = [EDF]
    for routine in (12, 16, 20, 24, 32, 48):
        designs.append(Design(f"ceiling w0.8 u0 inpatient - urgent 120 routine {routine * 60}",
                              OrderPolicy(AGEING_CEILING, 0.8, 0.0), {"urgent": 120, "routine": routine * 60}))
    for routine in (16, 24, 32):
        designs.append(Design(f"promote w0.8 u0 inpatient - urgent 120 routine {routine * 60}",
                              OrderPolicy(AGEING_PROMOTE, 0.8, 0.0), {"urgent": 120, "routine": routine * 60}))
    return designs


@dataclass(frozen=True)
class Comparison:
    """One policy against FIFO on one stream: what issue 18 asks to see."""

    load: float
    sensitivity: float
    seed: int
    policy: str
    gain: float  # FIFO median wait to start / the policy's, truly positive studies
    p99_ratio: float  # the policy's p99 wait to start / FIFO's, truly positive
    max_ratio: float  # the same for the maximum
    positive: GroupStats
    fifo_positive: GroupStats
    routine: GroupStats
    stat: GroupStats
    fifo_stat: GroupStats


def compare(stats: Mapping[str, list[GroupStats]], *, load: float, sensitivity: float, seed: int) -> list[Comparison]:
    by = {p: {g.group: g for g in s} for p, s in stats.items()}
    fifo = by["fifo"]
    out = []
    for policy, groups in by.items():
        pos, fpos = groups[POSITIVE], fifo[POSITIVE]
        out.append(Comparison(
            load=load, sensitivity=sensitivity, seed=seed, policy=policy,
            gain=fpos.start_median / max(pos.start_median, 1e-9),
            p99_ratio=pos.start_p99 / max(fpos.start_p99, 1e-9),
            max_ratio=pos.start_max / max(fpos.start_max, 1e-9),
            positive=pos, fifo_positive=fpos, routine=groups["routine"], stat=groups["stat"],
            fifo_stat=fifo["stat"],
        ))
    return out


def with_sensitivity(models: Mapping[str, AiModel], sensitivity: float | None, specificity: float | None
                     ) -> dict[str, AiModel]:
    return {
        name: replace(m, sensitivity=m.sensitivity if sensitivity is None else sensitivity,
                      specificity=m.specificity if specificity is None else specificity)
        for name, m in models.items()
    }


def sweep(
    *,
    loads: Sequence[float],
    sensitivities: Sequence[float],
    seeds: Sequence[int],
    policies: Sequence[str | Design],
    radiologists: int = 4,
    days: int = 30,
    specificity: float = 0.9,
    targets: Mapping[str, Target] = DEFAULT_TARGETS,
    progress=None,
) -> list[Comparison]:
    """Every policy on every (load, sensitivity, seed) stream, each against FIFO."""
    out: list[Comparison] = []
    for seed in seeds:
        for sensitivity in sensitivities:
            models = with_sensitivity(DEFAULT_AI_MODELS, sensitivity, specificity)
            for load in loads:
                studies = generate_studies(days=days, per_day=arrivals_per_day(load=load, radiologists=radiologists),
                                           seed=seed, ai_models=models)
                names = ["fifo", *[p for p in policies if p != "fifo"]]
                _, stats = run_designs(studies, radiologists=radiologists, policies=names, targets=targets)
                rows = compare(stats, load=load, sensitivity=sensitivity, seed=seed)
                out += rows
                if progress is not None:
                    progress(rows)
    return out


def format_comparisons(rows: Sequence[Comparison], *, with_policy_params: bool = False) -> str:
    """Markdown: truly positive waits to start against FIFO, routine and STAT, per row."""
    f = format_minutes
    lines = [
        "| load | AI sens. | seed | policy | positive median FIFO → policy (gain) "
        "| positive p99 FIFO → policy (ratio) | positive max FIFO → policy (ratio) "
        "| positive p99 / max to report | routine within target | routine p99 / max to start "
        "| STAT median / p99 to start (FIFO) | STAT within target |",
        "|" + "---|" * 12,
    ]
    for r in rows:
        if r.policy == "fifo":
            continue
        lines.append(
            f"| {r.load:g} | {r.sensitivity:g} | {r.seed} | {r.policy} "
            f"| {f(r.fifo_positive.start_median)} → {f(r.positive.start_median)} ({r.gain:.1f}×) "
            f"| {f(r.fifo_positive.start_p99)} → {f(r.positive.start_p99)} ({r.p99_ratio:.2f}) "
            f"| {f(r.fifo_positive.start_max)} → {f(r.positive.start_max)} ({r.max_ratio:.2f}) "
            f"| {f(r.positive.report_p99)} / {f(r.positive.report_max)} "
            f"| {r.routine.within_target:.1%} | {f(r.routine.start_p99)} / {f(r.routine.start_max)} "
            f"| {f(r.stat.start_median)} / {f(r.stat.start_p99)} ({f(r.fifo_stat.start_median)} / "
            f"{f(r.fifo_stat.start_p99)}) | {r.stat.within_target:.1%} |"
        )
    return "\n".join(lines)


def save_sweep_plot(rows: Sequence[Comparison], path: str, *, policy: str = "triage") -> None:
    """Two panels against load, one line per AI sensitivity: the truly positive median
    gain over FIFO, and the p99 and max ratios (policy / FIFO; at or under 1 = no worse)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    mine = [r for r in rows if r.policy == policy]
    sens = sorted({r.sensitivity for r in mine})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for s in sens:
        pts = sorted((r.load, r) for r in mine if r.sensitivity == s)
        loads = [p[0] for p in pts]
        axes[0].plot(loads, [p[1].gain for p in pts], marker="o", label=f"sensitivity {s:g}")
        axes[1].plot(loads, [p[1].p99_ratio for p in pts], marker="o", label=f"p99, sensitivity {s:g}")
        axes[1].plot(loads, [p[1].max_ratio for p in pts], marker="x", linestyle="--", label=f"max, sensitivity {s:g}")
    axes[0].axhline(5, color="grey", linestyle=":", label="5× goal")
    axes[0].set_yscale("log")
    axes[0].set_title(f"Truly positive: median wait to start, FIFO / {policy}")
    axes[1].axhline(1, color="grey", linestyle=":")
    axes[1].set_title(f"Truly positive: {policy} / FIFO wait to start (tail)")
    for ax in axes:
        ax.set_xlabel("load (reading work / capacity)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def format_frontier(rows: Sequence[Comparison], *, min_gain: float = 5.0) -> str:
    """One line per policy: truly positive median gain, p99 and max ratio (policy / FIFO) at
    each load, the worst over the seeds run (smallest gain, largest ratios), ordered as issue
    18 chooses: designs whose gain stays >= ``min_gain`` everywhere first, then by their worst
    p99 ratio."""
    loads = sorted({r.load for r in rows})
    by: dict[str, dict[float, list[Comparison]]] = {}
    for r in rows:
        if r.policy != "fifo":
            by.setdefault(r.policy, {}).setdefault(r.load, []).append(r)

    def worst(cs: list[Comparison]) -> tuple[float, float, float]:
        return min(c.gain for c in cs), max(c.p99_ratio for c in cs), max(c.max_ratio for c in cs)

    def rank(item):
        w = [worst(cs) for cs in item[1].values()]
        return (min(x[0] for x in w) < min_gain, max(x[1] for x in w))

    head = " | ".join(f"{load:g}: gain / p99 / max" for load in loads)
    lines = [f"| policy | {head} | worst p99 | worst max |", "|" + "---|" * (len(loads) + 3)]
    for policy, d in sorted(by.items(), key=rank):
        w = {load: worst(cs) for load, cs in d.items()}
        cells = " | ".join(f"{w[load][0]:.1f}× / {w[load][1]:.2f} / {w[load][2]:.2f}" if load in w else "-"
                           for load in loads)
        ok = "" if min(x[0] for x in w.values()) >= min_gain else " (gain < 5× somewhere)"
        lines.append(f"| {policy}{ok} | {cells} | {max(x[1] for x in w.values()):.2f} "
                     f"| {max(x[2] for x in w.values()):.2f} |")
    return "\n".join(lines)
