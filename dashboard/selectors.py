"""Statistics behind the manager dashboard: one plain function per chart, read-only.

Everything is computed in the database with aggregation. Percentiles use PostgreSQL's
``percentile_cont`` (linear interpolation between the two nearest values); SQLite, the demo's
database, has no ordered-set aggregates, so there the same rows are fetched and
``percentile_cont`` below computes the identical figure in Python.

Definitions (also on the pages and in docs):

* **Turnaround**: arrival (first image in the archive) to the first signed report. A study counts
  on the day its report was signed, in the reporting window asked for.
* **Within target**: signed no later than the study's due time, which is arrival plus the target of
  its urgency class in force when it was signed (open studies are re-prioritised when a manager
  changes a target; reported ones keep the due time they were read against).
* **Reading time**: claim to signature (``reported_at - claimed_at``; signing keeps ``claimed_at``).
  A study released and claimed again counts from the last claim.
* **Flagged by AI**: a finished analysis whose result raises the study's urgency under
  ``triage.rules``: its category is one the rules raise (Lung-RADS 4A/4B/4X, BI-RADS 4-5,
  PI-RADS 4-5), or, for a model whose category belongs to no known reporting system, its suspicion
  is at or over the model's flag threshold. Exactly what ``triage.priority.ai_class`` does.
* **Findings review**: a finding accepted or edited (right finding, corrected measurement) agrees
  with the reader; rejected disagrees; "added" is a finding the reader found and the AI missed.
  **PPV of flags** = flagged analyses with at least one accepted or edited finding / flagged
  analyses with any reviewed finding. Score-only models (no findings list) have no PPV here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractHour, Substr, TruncDate, TruncDay, TruncHour, TruncWeek
from django.utils import timezone

from dashboard.models import DoseReferenceLevel
from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import FindingDecision, FindingReview
from triage import rules
from triage.selectors import urgency_targets
from worklist.models import AuditEvent, ReadingState, Study

AGREES = (FindingDecision.ACCEPTED, FindingDecision.EDITED)
REVIEWED = (FindingDecision.ACCEPTED, FindingDecision.EDITED, FindingDecision.REJECTED)


# --- shared helpers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


def window_last(days: float, *, until: datetime | None = None) -> Window:
    until = until or timezone.now()
    return Window(since=until - timedelta(days=days), until=until)


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _share(part: int | None, whole: int | None) -> float | None:
    return (part or 0) / whole if whole else None


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


class Percentile(Aggregate):
    """percentile_cont(fraction) WITHIN GROUP (ORDER BY expression): PostgreSQL only."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


class EpochMinutes(Func):
    """Minutes of an interval (PostgreSQL): EXTRACT(EPOCH FROM end - start) / 60."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) / 60.0)"
    output_field = FloatField()


def _duration(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _minutes(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() / 60 if isinstance(value, timedelta) else float(value)


def _grouped_percentiles(
    queryset: QuerySet, *, keys: Sequence[str], value: tuple[str, str] | str, fractions: Sequence[float]
) -> dict[object, list[float | None]]:
    """Percentiles of a value per group (``keys``: fields or annotations of the queryset), in the
    database on PostgreSQL. ``value`` is a field, or (end, start) for the minutes between two
    timestamps. Groups are keyed by the key's value, or by a tuple of values for several keys."""

    def group(row: Sequence) -> object:
        return row[0] if len(keys) == 1 else tuple(row)

    if _is_postgres():
        expression = EpochMinutes(_duration(*value)) if isinstance(value, tuple) else F(value)
        aggregates = {f"p{i}": Percentile(expression, f) for i, f in enumerate(fractions)}
        rows = queryset.values(*keys).annotate(**aggregates).order_by()
        return {group([row[k] for k in keys]): [row[f"p{i}"] for i in range(len(fractions))] for row in rows}
    # SQLite: fetch the groups and the values, compute the same interpolation in Python.
    fields = list(value) if isinstance(value, tuple) else [value]
    groups: dict[object, list[float]] = defaultdict(list)
    for row in queryset.values_list(*keys, *fields).order_by():
        parts = row[len(keys):]
        if any(p is None for p in parts):
            continue
        number = _minutes(parts[0] - parts[1]) if isinstance(value, tuple) else float(parts[0])
        groups[group(row[:len(keys)])].append(number)
    return {k: [percentile_cont(v, f) for f in fractions] for k, v in groups.items()}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- backlog -------------------------------------------------------------------------------------


OPEN_STATES = [state for state in ReadingState.values if state != ReadingState.REPORTED]


def open_studies() -> QuerySet[Study]:
    # "IN (unread, in_progress)" rather than "!= reported": the worklist index on
    # (reading_state, due_at) then finds the open studies without reading the reported ones.
    return Study.objects.filter(reading_state__in=OPEN_STATES)


def _oldest_per(queryset: QuerySet[Study], field: str) -> dict[str, dict]:
    """The longest-waiting study in each group (DISTINCT ON in PostgreSQL)."""
    columns = ("id", "accession_number", "modality", "study_description", "arrived_at", field)
    if _is_postgres():
        rows = queryset.order_by(field, "arrived_at", "id").distinct(field).values(*columns)
    else:
        rows, seen = [], set()
        for row in queryset.order_by(field, "arrived_at", "id").values(*columns):
            if row[field] not in seen:
                seen.add(row[field])
                rows.append(row)
    return {row[field]: row for row in rows}


def backlog_summary(*, now: datetime | None = None) -> dict:
    """Open studies (not yet reported) by urgency class, modality, reading state and AI state,
    each with its count, how many are past due, and its longest-waiting study."""
    now = now or timezone.now()
    backlog = open_studies()
    counts = {
        "n": Count("id"),
        "overdue": Count("id", filter=Q(due_at__lt=now)),
        "oldest_arrived_at": Min("arrived_at"),
    }
    names = {code: target.name for code, target in urgency_targets().items()}

    def breakdown(field: str, label=None) -> list[dict]:
        rows = list(backlog.values(field).annotate(**counts, rank=Min("urgency_rank")).order_by("rank", field))
        oldest = _oldest_per(backlog, field)
        out = []
        for row in rows:
            study = oldest.get(row[field])
            out.append({
                "key": row[field],
                "label": (label(row) if label else row[field]) or "(none)",
                "n": row["n"],
                "overdue": row["overdue"],
                "oldest_wait_minutes": _minutes(now - row["oldest_arrived_at"]),
                "oldest_study": None if study is None else {
                    "id": study["id"],
                    "accession_number": study["accession_number"],
                    "modality": study["modality"],
                    "study_description": study["study_description"],
                    "arrived_at": _iso(study["arrived_at"]),
                },
            })
        return out

    # Ordered by class rank, most urgent first.
    urgency = breakdown("urgency_code", label=lambda r: names.get(r["urgency_code"], r["urgency_code"]))
    return {
        "at": now.isoformat(),
        "total": sum(row["n"] for row in urgency),
        "overdue": sum(row["overdue"] for row in urgency),
        "by_urgency": urgency,
        "by_modality": sorted(breakdown("modality"), key=lambda r: -r["n"]),
        "by_reading_state": breakdown("reading_state"),
        "by_ai_status": breakdown("status"),
    }


# --- turnaround ----------------------------------------------------------------------------------

TURNAROUND_GROUPS = {
    "urgency": F("urgency_code"),
    "modality": F("modality"),
    "day": TruncDate("reported_at"),
}


def reported_in(window: Window) -> QuerySet[Study]:
    return Study.objects.filter(reported_at__gte=window.since, reported_at__lt=window.until)


def turnaround_by(*, group: str, window: Window, modality: str | None = None) -> list[dict]:
    """Arrival-to-report minutes by urgency class, modality or signing day: count, median,
    90th percentile and share signed within target."""
    studies = reported_in(window)
    if modality:
        studies = studies.filter(modality=modality)
    key = TURNAROUND_GROUPS[group]
    aggregates = {
        "n": Count("id"),
        "within": Count("id", filter=Q(reported_at__lte=F("due_at"))),
        "mean": Avg(_duration("reported_at", "arrived_at")),
    }
    if _is_postgres():
        # One pass: counts and percentiles in the same GROUP BY.
        turnaround = EpochMinutes(_duration("reported_at", "arrived_at"))
        aggregates |= {"p50": Percentile(turnaround, 0.5), "p90": Percentile(turnaround, 0.9)}
    counts = {row["group_key"]: row for row in
              studies.annotate(group_key=key).values("group_key").annotate(**aggregates).order_by()}
    if _is_postgres():
        percentiles = {k: [row["p50"], row["p90"]] for k, row in counts.items()}
    else:
        percentiles = _grouped_percentiles(studies.annotate(group_key=key), keys=["group_key"],
                                           value=("reported_at", "arrived_at"), fractions=(0.5, 0.9))
    targets = urgency_targets()  # the manager's rows over the defaults, as triage itself uses
    rows = []
    for group_key, row in counts.items():
        median, p90 = percentiles.get(group_key, [None, None])
        target = targets.get(group_key) if group == "urgency" else None
        rows.append({
            "key": group_key.isoformat() if hasattr(group_key, "isoformat") else group_key,
            "label": target.name if target else (str(group_key) if group_key not in (None, "") else "(none)"),
            "n": row["n"],
            "median_minutes": median,
            "p90_minutes": p90,
            "mean_minutes": _minutes(row["mean"]),
            "within_target": row["within"],
            "within_target_share": _share(row["within"], row["n"]),
            "target_minutes": target.minutes if target else None,
        })
    if group == "urgency":
        rows.sort(key=lambda r: targets[r["key"]].rank if r["key"] in targets else 999)
    else:
        rows.sort(key=lambda r: (r["key"] is None, r["key"] or ""))
    return rows


def turnaround_breaches(*, window: Window, now: datetime | None = None, limit: int = 200) -> list[dict]:
    """Studies that missed their due time: signed late in the window, or still open past due now."""
    now = now or timezone.now()
    late = reported_in(window).filter(reported_at__gt=F("due_at"))
    overdue_open = open_studies().filter(due_at__lt=now, arrived_at__lt=window.until)
    columns = ("id", "accession_number", "patient_name", "modality", "study_description", "urgency_code",
               "urgency_name", "arrived_at", "due_at", "reported_at", "reading_state")
    # Worst first, and no more than `limit` of each kind leave the database.
    rows = (list(late.order_by(_duration("due_at", "reported_at").asc()).values(*columns)[:limit])
            + list(overdue_open.order_by("due_at").values(*columns)[:limit]))
    out = []
    for row in rows:
        ended = row["reported_at"] or now
        out.append({
            **{k: row[k] for k in columns},
            "arrived_at": _iso(row["arrived_at"]),
            "due_at": _iso(row["due_at"]),
            "reported_at": _iso(row["reported_at"]),
            "open": row["reported_at"] is None,
            "minutes_over": _minutes(ended - row["due_at"]),
            "turnaround_minutes": _minutes(ended - row["arrived_at"]),
        })
    out.sort(key=lambda r: -r["minutes_over"])
    return out[:limit]


# --- volume and workload -------------------------------------------------------------------------

BUCKETS = {"hour": TruncHour, "day": TruncDay}


def volume_over_time(*, window: Window, bucket: str = "day") -> list[dict]:
    """Arrivals and signed reports per hour or per day."""
    trunc = BUCKETS[bucket]
    arrivals = (Study.objects.filter(arrived_at__gte=window.since, arrived_at__lt=window.until)
                .annotate(t=trunc("arrived_at")).values("t").annotate(n=Count("id")).order_by())
    reads = reported_in(window).annotate(t=trunc("reported_at")).values("t").annotate(n=Count("id")).order_by()
    series: dict[datetime, dict] = defaultdict(lambda: {"arrivals": 0, "reports": 0})
    for row in arrivals:
        series[row["t"]]["arrivals"] = row["n"]
    for row in reads:
        series[row["t"]]["reports"] = row["n"]
    return [{"t": t.isoformat(), **series[t]} for t in sorted(series)]


def radiologist_workload(*, window: Window) -> list[dict]:
    """Reports signed per radiologist, their reading time (claim to signature) and modality mix."""
    reported = reported_in(window).filter(reported_by__isnull=False)
    is_timed = Q(claimed_at__isnull=False, claimed_at__lte=F("reported_at"))
    aggregates = {
        "n": Count("id"),
        "timed": Count("id", filter=is_timed),
        "total": Sum(_duration("reported_at", "claimed_at"), filter=is_timed),
    }
    if _is_postgres():
        reading = EpochMinutes(_duration("reported_at", "claimed_at"))
        aggregates |= {"p50": Percentile(reading, 0.5, filter=is_timed),
                       "p90": Percentile(reading, 0.9, filter=is_timed)}
    per_reader = {
        row["reported_by"]: row
        for row in reported.values("reported_by", "reported_by__username", "reported_by__first_name",
                                   "reported_by__last_name").annotate(**aggregates).order_by()
    }
    if _is_postgres():
        percentiles = {k: [row["p50"], row["p90"]] for k, row in per_reader.items()}
    else:
        percentiles = _grouped_percentiles(reported.filter(is_timed), keys=["reported_by"],
                                           value=("reported_at", "claimed_at"), fractions=(0.5, 0.9))
    mix: dict[int, dict[str, int]] = defaultdict(dict)
    for row in reported.values("reported_by", "modality").annotate(n=Count("id")).order_by():
        mix[row["reported_by"]][row["modality"] or "(none)"] = row["n"]
    rows = []
    for reader, row in per_reader.items():
        name = (" ".join(p for p in (row["reported_by__first_name"], row["reported_by__last_name"]) if p)
                or row["reported_by__username"])
        median, p90 = percentiles.get(reader, [None, None])
        total = row["total"]
        rows.append({
            "radiologist": row["reported_by__username"],
            "name": name,
            "reports": row["n"],
            "timed_reports": row["timed"],
            "reading_median_minutes": median,
            "reading_p90_minutes": p90,
            "reading_total_hours": _minutes(total) / 60 if total is not None else 0.0,
            "by_modality": mix[reader],
        })
    rows.sort(key=lambda r: -r["reports"])
    return rows


# --- AI performance ------------------------------------------------------------------------------


def flagged_q(prefix: str = "") -> Q:
    """Analyses whose result raises the study (see module docstring): the rules of
    ``triage.rules`` written as a database filter."""
    raising = [f"{system}:{value}" for system, values in rules.CATEGORY_URGENCY.items()
               for value, code in values.items() if code]
    known_system = Q()
    for system in rules.CATEGORY_URGENCY:
        known_system |= Q(**{f"{prefix}category__istartswith": f"{system}:"})
    by_category = Q(**{f"{prefix}category__in": raising})
    named = list(rules.FLAG_RULES)
    by_score = Q()
    for name, rule in rules.FLAG_RULES.items():
        by_score |= Q(**{f"{prefix}model_name__iexact": name, f"{prefix}suspicion__gte": rule.threshold})
    unnamed = Q(**{f"{prefix}suspicion__gte": rules.DEFAULT_FLAG_RULE.threshold})
    for name in named:
        unnamed &= ~Q(**{f"{prefix}model_name__iexact": name})
    done = Q(**{f"{prefix}status": AnalysisStatus.DONE})
    return done & (by_category | (~known_system & (by_score | unnamed)))


def analyses_in(window: Window) -> QuerySet[AnalysisRun]:
    return AnalysisRun.objects.filter(started_at__gte=window.since, started_at__lt=window.until)


def _model_key(row: dict, prefix: str = "") -> tuple[str, str]:
    return row[f"{prefix}model_name"], row[f"{prefix}model_version"]


def ai_model_performance(*, window: Window) -> list[dict]:
    """Per model version: analyses, flag rate, failures, inference time and agreement with readers."""
    runs = analyses_in(window)
    done = Q(status=AnalysisStatus.DONE)
    per_model = {
        _model_key(row): row
        for row in runs.values("model_name", "model_version")
        .annotate(
            runs=Count("id"),
            analysed=Count("id", filter=done),
            failed=Count("id", filter=Q(status=AnalysisStatus.FAILED)),
            running=Count("id", filter=Q(status=AnalysisStatus.RUNNING)),
            flagged=Count("id", filter=flagged_q()),
            first_run=Min("started_at"),
            **({"p50": Percentile(F("inference_seconds"), 0.5, filter=done),
                "p90": Percentile(F("inference_seconds"), 0.9, filter=done)} if _is_postgres() else {}),
        )
        .order_by()
    }
    if _is_postgres():
        timing = {k: [row["p50"], row["p90"]] for k, row in per_model.items()}
    else:
        timing = _grouped_percentiles(runs.filter(done), keys=["model_name", "model_version"],
                                      value="inference_seconds", fractions=(0.5, 0.9))
    # Counted from the reviews' side (far fewer rows than analyses): per model version, the
    # decisions, and the distinct flagged analyses with any reviewed / any agreed finding (PPV).
    flagged_run = flagged_q("analysis__")
    reviews = {
        _model_key(row, "analysis__"): row
        for row in FindingReview.objects.filter(analysis__started_at__gte=window.since,
                                                analysis__started_at__lt=window.until)
        .values("analysis__model_name", "analysis__model_version")
        .annotate(
            accepted=Count("id", filter=Q(decision=FindingDecision.ACCEPTED)),
            edited=Count("id", filter=Q(decision=FindingDecision.EDITED)),
            rejected=Count("id", filter=Q(decision=FindingDecision.REJECTED)),
            flagged_reviewed=Count("analysis", distinct=True, filter=flagged_run & Q(decision__in=REVIEWED)),
            flagged_confirmed=Count("analysis", distinct=True, filter=flagged_run & Q(decision__in=AGREES)),
        )
        .order_by()
    }
    # A finding the reader added belongs to no analysis: it counts as missed by every model that
    # analysed the study. (A filter before annotate restricts the joined reviews to "added" ones.)
    missed = {
        (row["model_name"], row["model_version"]): row["n"]
        for row in runs.filter(done, study__finding_reviews__decision=FindingDecision.ADDED)
        .values("model_name", "model_version")
        .annotate(n=Count("study__finding_reviews"))
        .order_by()
    }
    rows = []
    for key, row in sorted(per_model.items()):
        name, version = key
        times = timing.get(key, [None, None])
        review = reviews.get(key, {})
        accepted, edited, rejected = (review.get(k, 0) for k in ("accepted", "edited", "rejected"))
        added = missed.get(key) or 0
        rows.append({
            "model_name": name,
            "model_version": version,
            "runs": row["runs"],
            "analysed": row["analysed"],
            "failed": row["failed"],
            "running": row["running"],
            "failure_rate": _share(row["failed"], row["analysed"] + row["failed"]),
            "flagged": row["flagged"],
            "flag_rate": _share(row["flagged"], row["analysed"]),
            "inference_median_seconds": times[0],
            "inference_p90_seconds": times[1],
            "findings_accepted": accepted,
            "findings_edited": edited,
            "findings_rejected": rejected,
            "findings_added": added,
            "accepted_share": _share(accepted + edited, accepted + edited + rejected),
            "missed_share": _share(added, accepted + edited + added),
            "flags_reviewed": review.get("flagged_reviewed", 0),
            "flags_confirmed": review.get("flagged_confirmed", 0),
            "ppv": _share(review.get("flagged_confirmed", 0), review.get("flagged_reviewed", 0)),
            "first_run_at": _iso(row["first_run"]),
        })
    return rows


def ai_failure_reasons(*, window: Window, limit: int = 30) -> list[dict]:
    """Failed analyses grouped by model and (the start of) their error message."""
    rows = (analyses_in(window).filter(status=AnalysisStatus.FAILED)
            .annotate(reason=Substr("error", 1, 120))
            .values("model_name", "model_version", "reason")
            .annotate(n=Count("id"), last=Max("started_at"))
            .order_by("-n", "model_name")[:limit])
    return [{**row, "reason": row["reason"] or "(no message)", "last": _iso(row["last"])} for row in rows]


def ai_agreement_over_time(*, window: Window) -> list[dict]:
    """Per model version and week of review: share of AI findings the readers accepted, and
    findings they added."""
    reviews = FindingReview.objects.filter(reviewed_at__gte=window.since, reviewed_at__lt=window.until)
    rows = (reviews.filter(analysis__isnull=False)
            .annotate(week=TruncWeek("reviewed_at"))
            .values("analysis__model_name", "analysis__model_version", "week")
            .annotate(agreed=Count("id", filter=Q(decision__in=AGREES)),
                      reviewed=Count("id", filter=Q(decision__in=REVIEWED)))
            .order_by("week"))
    return [{
        "model_name": row["analysis__model_name"],
        "model_version": row["analysis__model_version"],
        "week": row["week"].date().isoformat(),
        "agreed": row["agreed"],
        "reviewed": row["reviewed"],
        "accepted_share": _share(row["agreed"], row["reviewed"]),
    } for row in rows]


# Drift alert: the last week's agreement against the four weeks before it. An alert needs enough
# reviews on both sides, a drop a manager would care about, and a drop unlikely to be chance
# (one-sided two-proportion z-test at 5 %).
DRIFT_RECENT_DAYS = 7
DRIFT_BASELINE_DAYS = 28
DRIFT_MIN_REVIEWS = 20
DRIFT_MIN_DROP = 0.10
DRIFT_Z = -1.645


@dataclass(frozen=True)
class Drift:
    baseline_share: float | None
    recent_share: float | None
    z: float | None
    alert: bool
    reason: str


def agreement_drift(*, baseline_agreed: int, baseline_n: int, recent_agreed: int, recent_n: int) -> Drift:
    """Has agreement dropped from the baseline to the recent period? Pure; see DRIFT_*."""
    base = _share(baseline_agreed, baseline_n)
    recent = _share(recent_agreed, recent_n)
    if baseline_n < DRIFT_MIN_REVIEWS or recent_n < DRIFT_MIN_REVIEWS:
        return Drift(base, recent, None, False,
                     f"too few reviews to judge ({baseline_n} baseline, {recent_n} recent; need {DRIFT_MIN_REVIEWS})")
    pooled = (baseline_agreed + recent_agreed) / (baseline_n + recent_n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / baseline_n + 1 / recent_n))
    z = (recent - base) / se if se > 0 else 0.0
    drop = base - recent
    alert = drop >= DRIFT_MIN_DROP and z <= DRIFT_Z
    if alert:
        reason = f"agreement fell from {base:.0%} to {recent:.0%} (z = {z:.2f})"
    elif drop >= DRIFT_MIN_DROP:
        reason = f"agreement fell from {base:.0%} to {recent:.0%}, but not beyond chance (z = {z:.2f})"
    else:
        reason = f"agreement {recent:.0%} against {base:.0%} before"
    return Drift(base, recent, z, alert, reason)


def ai_agreement_drift(*, now: datetime | None = None) -> list[dict]:
    """Drift check for every model version reviewed in the last five weeks."""
    now = now or timezone.now()
    recent_start = now - timedelta(days=DRIFT_RECENT_DAYS)
    base_start = recent_start - timedelta(days=DRIFT_BASELINE_DAYS)
    counts = (FindingReview.objects.filter(analysis__isnull=False, decision__in=REVIEWED,
                                           reviewed_at__gte=base_start, reviewed_at__lt=now)
              .values("analysis__model_name", "analysis__model_version")
              .annotate(base_n=Count("id", filter=Q(reviewed_at__lt=recent_start)),
                        base_ok=Count("id", filter=Q(reviewed_at__lt=recent_start, decision__in=AGREES)),
                        recent_n=Count("id", filter=Q(reviewed_at__gte=recent_start)),
                        recent_ok=Count("id", filter=Q(reviewed_at__gte=recent_start, decision__in=AGREES)))
              .order_by("analysis__model_name", "analysis__model_version"))
    out = []
    for row in counts:
        drift = agreement_drift(baseline_agreed=row["base_ok"], baseline_n=row["base_n"],
                                recent_agreed=row["recent_ok"], recent_n=row["recent_n"])
        out.append({
            "model_name": row["analysis__model_name"],
            "model_version": row["analysis__model_version"],
            "baseline_reviews": row["base_n"],
            "recent_reviews": row["recent_n"],
            "baseline_share": drift.baseline_share,
            "recent_share": drift.recent_share,
            "z": drift.z,
            "alert": drift.alert,
            "reason": drift.reason,
        })
    return out


# --- radiation dose ------------------------------------------------------------------------------


def ct_studies_with_dose(window: Window) -> QuerySet[Study]:
    return Study.objects.filter(arrived_at__gte=window.since, arrived_at__lt=window.until,
                                ctdi_vol_mgy__isnull=False)


def _over_reference(references: Iterable[DoseReferenceLevel]) -> Q:
    """Above the protocol's reference on CTDIvol or DLP, as a plain filter: a department has tens of
    protocols, and a filter per protocol is far cheaper than a correlated subquery per study."""
    over = Q(pk__in=[])
    for ref in references:
        if ref.ctdi_vol_mgy is not None:
            over |= Q(study_description=ref.protocol, ctdi_vol_mgy__gt=ref.ctdi_vol_mgy)
        if ref.dlp_mgy_cm is not None:
            over |= Q(study_description=ref.protocol, dlp_mgy_cm__gt=ref.dlp_mgy_cm)
    return over


def dose_by_protocol(*, window: Window) -> list[dict]:
    """CT dose per protocol: median and 75th percentile of CTDIvol and DLP (reference levels are
    conventionally set at a distribution's 75th percentile), the reference and how many exceed it."""
    studies = ct_studies_with_dose(window)
    references = {r.protocol: r for r in DoseReferenceLevel.objects.all()}
    counts = {
        row["study_description"]: row
        for row in studies.values("study_description").annotate(
            n=Count("id"), outliers=Count("id", filter=_over_reference(references.values())),
            max_ctdi=Max("ctdi_vol_mgy"), max_dlp=Max("dlp_mgy_cm"),
        ).order_by()
    }
    ctdi = _grouped_percentiles(studies, keys=["study_description"], value="ctdi_vol_mgy", fractions=(0.5, 0.75))
    dlp = _grouped_percentiles(studies.exclude(dlp_mgy_cm=None), keys=["study_description"], value="dlp_mgy_cm",
                               fractions=(0.5, 0.75))
    rows = []
    for protocol, row in sorted(counts.items(), key=lambda item: -item[1]["n"]):
        reference = references.get(protocol)
        rows.append({
            "protocol": protocol,
            "n": row["n"],
            "ctdi_median": ctdi.get(protocol, [None, None])[0],
            "ctdi_p75": ctdi.get(protocol, [None, None])[1],
            "ctdi_max": row["max_ctdi"],
            "dlp_median": dlp.get(protocol, [None, None])[0],
            "dlp_p75": dlp.get(protocol, [None, None])[1],
            "dlp_max": row["max_dlp"],
            "reference_ctdi": reference.ctdi_vol_mgy if reference else None,
            "reference_dlp": reference.dlp_mgy_cm if reference else None,
            "outliers": row["outliers"],
        })
    return rows


def dose_outliers(*, window: Window, limit: int = 200) -> list[dict]:
    """CT studies above their protocol's reference level on CTDIvol or DLP, highest ratio first."""
    references = {r.protocol: r for r in DoseReferenceLevel.objects.all()}
    rows = (ct_studies_with_dose(window).filter(_over_reference(references.values()))
            .values("id", "accession_number", "study_description", "arrived_at", "ctdi_vol_mgy", "dlp_mgy_cm"))
    out = []
    for row in rows:
        ref = references[row["study_description"]]
        ratios = [v / r for v, r in ((row["ctdi_vol_mgy"], ref.ctdi_vol_mgy), (row["dlp_mgy_cm"], ref.dlp_mgy_cm))
                  if v is not None and r]
        out.append({**row, "arrived_at": _iso(row["arrived_at"]), "ref_ctdi": ref.ctdi_vol_mgy,
                    "ref_dlp": ref.dlp_mgy_cm, "ratio": max(ratios)})
    out.sort(key=lambda r: -r["ratio"])
    return out[:limit]


# --- measured inputs for capacity planning -------------------------------------------------------


def arrivals_by_hour_of_day(*, window: Window) -> list[float]:
    """Mean arrivals in each hour of the day (0-23) over the window, in the server's time zone."""
    days = max((window.until - window.since).total_seconds() / 86400, 1e-9)
    counts = dict(Study.objects.filter(arrived_at__gte=window.since, arrived_at__lt=window.until)
                  .annotate(h=ExtractHour("arrived_at")).values("h").annotate(n=Count("id"))
                  .order_by().values_list("h", "n"))
    return [counts.get(h, 0) / days for h in range(24)]


def reading_by_protocol(*, window: Window) -> list[dict]:
    """Arrivals and timed reads per (modality, body part, description), the simulation's study types."""
    arrived = {
        (r["modality"], r["body_part"], r["study_description"]): r["n"]
        for r in Study.objects.filter(arrived_at__gte=window.since, arrived_at__lt=window.until)
        .values("modality", "body_part", "study_description").annotate(n=Count("id")).order_by()
    }
    timed = {
        (r["modality"], r["body_part"], r["study_description"]): r
        for r in reported_in(window).filter(claimed_at__isnull=False, claimed_at__lte=F("reported_at"))
        .values("modality", "body_part", "study_description")
        .annotate(reads=Count("id"), total=Sum(_duration("reported_at", "claimed_at"))).order_by()
    }
    keys: Iterable = set(arrived) | set(timed)
    return [{
        "modality": k[0], "body_part": k[1], "study_description": k[2],
        "arrivals": arrived.get(k, 0),
        "timed_reads": timed.get(k, {}).get("reads", 0),
        "reading_minutes_total": _minutes(timed.get(k, {}).get("total")) or 0.0,
    } for k in keys]


def active_radiologists(*, window: Window) -> int:
    return reported_in(window).exclude(reported_by=None).values("reported_by").distinct().count()


# --- export --------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id", "accession_number", "modality", "body_part", "study_description", "requested_priority",
    "patient_location", "urgency_code", "status", "ai_headline", "arrived_at", "due_at", "claimed_at",
    "reported_at", "reported_by__username", "ctdi_vol_mgy", "dlp_mgy_cm",
)


def studies_for_export(*, window: Window) -> Iterable[dict]:
    """Studies that arrived in the window with their times, oldest first, streamed."""
    return (Study.objects.filter(arrived_at__gte=window.since, arrived_at__lt=window.until)
            .order_by("arrived_at", "id").values(*EXPORT_COLUMNS).iterator(chunk_size=2000))


# --- targets -------------------------------------------------------------------------------------


def target_changes(*, limit: int = 20) -> list[dict]:
    """The latest changes of turnaround targets, age ceilings and the ageing policy (audit log)."""
    rows = (AuditEvent.objects.filter(action__in=("urgency_class.update", "ageing_policy.update")).order_by("-at")
            .values("at", "user__username", "detail")[:limit])
    return [{"at": _iso(r["at"]), "user": r["user__username"], "detail": r["detail"]} for r in rows]
