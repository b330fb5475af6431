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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from triage.lungrads import Nodule, describe, suggest
from triage.priority import DEFAULT_TARGETS, AiResult, StudyFacts, Target, clinical_class, prioritise, sort_key

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

    def facts(self, *, with_ai: bool) -> StudyFacts:
        arrived_at = START + timedelta(minutes=self.arrived)
        if self.ai_ready is None:
            return StudyFacts(arrived_at, self.priority, self.location)
        if not with_ai:
            return StudyFacts(arrived_at, self.priority, self.location, ai_status="ai_pending")
        findings = (self.ai_result,) if self.ai_result is not None else ()
        return StudyFacts(arrived_at, self.priority, self.location, ai_findings=findings, ai_status=self.ai_status)


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


def _ai_result(model: str, *, positive: bool, flagged: bool, rng: np.random.Generator) -> AiResult:
    """What the model reports. Categories come from the same rule code the
    product uses (Lung-RADS from simulated nodule sizes)."""
    suspicion = float(rng.uniform(0.55, 1.0) if flagged else rng.uniform(0.0, 0.45))
    if model == "lung_nodule":
        if flagged and positive:
            # About 4 % 4A and 3 % 4B/4X in screening: 4A-sized or larger nodules.
            size = rng.uniform(8.0, 15.0) if rng.random() < 4 / 7 else rng.uniform(15.0, 30.0)
        elif flagged:
            size = rng.uniform(8.0, 11.0)  # a false positive looks like a small 4A
        else:
            size = rng.uniform(3.0, 6.0) if rng.random() < 0.5 else None
        nodules = [Nodule("solid", round(float(size), 1))] if size is not None else []
        suggestion = suggest(nodules)
        headline = describe(nodules[0]) if nodules else None
        return AiResult(model, suspicion, suggestion.as_category, headline)
    if model == "mammo":
        value = ("5" if positive and rng.random() < 0.3 else "4") if flagged else ("1" if rng.random() < 0.5 else "2")
        return AiResult(model, suspicion, f"birads:{value}", None)
    if model == "prostate":
        value = ("4" if rng.random() < 0.5 else "5") if flagged else ("2" if rng.random() < 0.5 else "3")
        return AiResult(model, suspicion, f"pirads:{value}", None)
    return AiResult(model, suspicion, None, None)  # score-only detectors (ich, cxr)


def generate_studies(
    *,
    days: int,
    per_day: float,
    seed: int,
    case_mix: Sequence[StudyType] = DEFAULT_CASE_MIX,
    ai_models: Mapping[str, AiModel] = DEFAULT_AI_MODELS,
) -> list[SimStudy]:
    """The arrival stream, with every random draw made up front so that FIFO
    and triage see identical studies."""
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

    def pick(cdf: np.ndarray) -> int:
        return min(int(np.searchsorted(cdf, rng.random(), side="right")), len(cdf) - 1)

    studies = []
    for i, t in enumerate(times):
        k = pick(kind_cdf)
        kind = case_mix[k]
        location, priority, _ = kind.orders[pick(order_cdfs[k])]
        positive = bool(rng.random() < kind.prevalence)
        read = _lognormal(rng, kind.read_minutes, kind.read_cv)
        ai_ready = ai_result = ai_status = None
        model = ai_models.get(kind.ai_model) if kind.ai_model else None
        if model is not None:
            ai_ready = float(t + model.minutes * rng.uniform(0.5, 1.5))
            if rng.random() < model.failure_rate:
                ai_status = "ai_failed: timeout"
            else:
                flagged = bool(rng.random() < (model.sensitivity if positive else 1 - model.specificity))
                ai_result = _ai_result(model.name, positive=positive, flagged=flagged, rng=rng)
                ai_status = "ai_done"
        studies.append(
            SimStudy(i, float(t), kind.name, location, priority, positive, read, ai_ready, ai_result, ai_status)
        )
    return studies


_ARRIVAL, _AI_DONE, _FREE = 0, 1, 2


def run_queue(
    studies: Sequence[SimStudy],
    *,
    radiologists: int,
    policy: str,
    targets: Mapping[str, Target] = DEFAULT_TARGETS,
    horizon: float | None = None,
    recompute: str = "heap",
) -> SimResult:
    """Event-driven reading queue. ``policy`` is "fifo" or "triage". With a
    ``horizon`` (minutes) the run stops there and reports what is still
    queued; without one it runs until every study is read."""
    if policy not in {"fifo", "triage"}:
        raise ValueError(f"unknown policy {policy!r}")
    if radiologists < 1:
        raise ValueError("need at least one radiologist")
    start: list[float | None] = [None] * len(studies)
    finish: list[float | None] = [None] * len(studies)
    result = SimResult(policy, list(studies), start, finish)
    events: list[tuple[float, int, int, int]] = []
    seq = 0
    for s in studies:
        heapq.heappush(events, (s.arrived, seq, _ARRIVAL, s.id))
        seq += 1
        if s.ai_ready is not None:
            heapq.heappush(events, (s.ai_ready, seq, _AI_DONE, s.id))
            seq += 1

    queued: dict[int, bool] = {}  # id -> AI result known
    heap: list[tuple] = []  # (key, version, id) for triage, (arrived, id) for fifo
    version: dict[int, int] = {}
    idle = radiologists

    def key(study: SimStudy, now: float) -> tuple:
        facts = study.facts(with_ai=queued[study.id])
        p = prioritise(facts, targets, now=START + timedelta(minutes=now))
        return sort_key(p, facts.arrived_at, tiebreak=study.id)

    def push(study: SimStudy, now: float) -> None:
        if policy == "fifo":
            heapq.heappush(heap, (study.arrived, study.id))
        elif recompute == "heap":
            version[study.id] = version.get(study.id, 0) + 1
            heapq.heappush(heap, (key(study, now), version[study.id], study.id))

    def pick(now: float) -> int:
        if policy == "triage" and recompute == "full":
            return min(queued, key=lambda i: key(studies[i], now))
        while True:
            entry = heapq.heappop(heap)
            sid = entry[-1]
            if sid in queued and (policy == "fifo" or entry[1] == version[sid]):
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
                if policy == "triage":
                    push(studies[sid], now)  # facts changed: re-key
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
    report_mean: float
    report_median: float
    report_p95: float
    within_target: float  # share of the group reported within its class target


def final_classes(studies: Sequence[SimStudy], targets: Mapping[str, Target]) -> list[tuple[str, str, float]]:
    """(final urgency code, clinical code, target minutes) per study, with
    its AI result known: the class the department is judged against."""
    out = []
    for s in studies:
        facts = s.facts(with_ai=True)
        p = prioritise(facts, targets, now=facts.arrived_at)
        clinical, _ = clinical_class(facts, targets=targets)
        out.append((p.urgency_code, clinical, (p.due_at - facts.arrived_at).total_seconds() / 60))
    return out


def summarise(
    result: SimResult,
    *,
    targets: Mapping[str, Target] = DEFAULT_TARGETS,
    warmup_days: float = 1.0,
    classes: list[tuple[str, str, float]] | None = None,
) -> list[GroupStats]:
    """Waits by urgency class and for truly positive studies. Studies that
    arrived during the warm-up (queue filling from empty) are left out."""
    classes = classes if classes is not None else final_classes(result.studies, targets)
    groups: dict[str, list[int]] = {code: [] for code in sorted(targets, key=lambda c: targets[c].rank)}
    groups.update({"truly positive": [], "positive, ordered routine": [], "all": []})
    for s in result.studies:
        if s.arrived < warmup_days * MINUTES_PER_DAY:
            continue
        code, clinical, _ = classes[s.id]
        groups.setdefault(code, []).append(s.id)
        groups["all"].append(s.id)
        if s.positive:
            groups["truly positive"].append(s.id)
            if clinical == "routine":
                groups["positive, ordered routine"].append(s.id)

    stats = []
    for name, ids in groups.items():
        read = [i for i in ids if result.finish[i] is not None]
        if not ids:
            continue
        waits = np.asarray([result.start[i] - result.studies[i].arrived for i in read], dtype=float)
        reports = np.asarray([result.finish[i] - result.studies[i].arrived for i in read], dtype=float)
        met = sum(1 for i in read if result.finish[i] - result.studies[i].arrived <= classes[i][2])

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
                report_mean=float(reports.mean()) if reports.size else math.nan,
                report_median=q(reports, 50),
                report_p95=q(reports, 95),
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
        "| group | policy | n | wait to start: mean | median | p95 | to report: mean | median | p95 | within target |"
    )
    lines = [header, "|" + "---|" * 10]
    groups = [g.group for g in next(iter(stats_by_policy.values()))]
    by_name = {p: {g.group: g for g in stats} for p, stats in stats_by_policy.items()}
    for group in groups:
        for policy in stats_by_policy:
            g = by_name[policy].get(group)
            if g is None:
                continue
            lines.append(
                f"| {group} | {policy} | {g.n} | {format_minutes(g.start_mean)} | {format_minutes(g.start_median)} "
                f"| {format_minutes(g.start_p95)} | {format_minutes(g.report_mean)} "
                f"| {format_minutes(g.report_median)} | {format_minutes(g.report_p95)} | {g.within_target:.1%} |"
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
    policies: Sequence[str] = ("fifo", "triage"),
    targets: Mapping[str, Target] = DEFAULT_TARGETS,
    case_mix: Sequence[StudyType] = DEFAULT_CASE_MIX,
    ai_models: Mapping[str, AiModel] = DEFAULT_AI_MODELS,
    warmup_days: float = 1.0,
) -> tuple[dict[str, SimResult], dict[str, list[GroupStats]]]:
    studies = generate_studies(days=days, per_day=scenario.per_day, seed=seed, case_mix=case_mix, ai_models=ai_models)
    classes = final_classes(studies, targets)
    results, stats = {}, {}
    for policy in policies:
        results[policy] = run_queue(studies, radiologists=scenario.radiologists, policy=policy, targets=targets)
        stats[policy] = summarise(results[policy], targets=targets, warmup_days=warmup_days, classes=classes)
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
        ("Routine-class studies", lambda s: classes[s.id][0] == "routine"),
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
