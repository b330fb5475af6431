"""Dashboard API benchmark: 50,000 realistic studies in PostgreSQL, each /api/stats/... timed.

    python bench/bench_dashboard.py                 # fills triage_bench_dashboard once, then times
    python bench/bench_dashboard.py --refill        # throw the data away and fill again
    python bench/bench_dashboard.py --calls 50

Runs in its own PostgreSQL database (created if missing; default
postgres://postgres@127.0.0.1:5432/triage_bench_dashboard, or --database-url). The fill is
synthetic but shaped like a department: 60 days of arrivals with a daytime peak, a case mix of
radiographs, CT, MRI and mammography, turnaround by urgency class with some breaches, the last
hours' studies still open, AI analyses with failures and findings, readers' reviews of them
(accepted, edited, rejected, added), signed reports, CT dose. Each endpoint is called through
Django's test client as a logged-in manager (the whole request: middleware, DRF, JSON) and its
median and 95th percentile printed as a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from machine import load_note  # bench/ is the script directory, so on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/triage_bench_dashboard"

# (modality, body part, description, share, mean reading min, AI model, CT dose: CTDIvol median, scan cm)
CASE_MIX = [
    ("DX", "CHEST", "CHEST PA", 0.38, 1.5, "cxr_critical", None, None),
    ("DX", "KNEE", "KNEE 2 VIEWS", 0.05, 1.2, None, None, None),
    ("CT", "HEAD", "CT HEAD WITHOUT CONTRAST", 0.12, 16.1, "ich", 50.0, 16.0),
    ("CT", "CHEST", "LDCT LUNG SCREENING", 0.06, 10.0, "lung_nodule", 2.5, 32.0),
    ("CT", "CHEST", "CT CHEST WITH CONTRAST", 0.08, 15.8, "lung_nodule", 9.0, 34.0),
    ("CT", "ABDOMEN", "CT ABDOMEN PELVIS", 0.10, 17.9, None, 12.0, 48.0),
    ("MG", "BREAST", "SCREENING MAMMOGRAM", 0.13, 1.5, "mammo", None, None),
    ("MR", "PROSTATE", "MRI PROSTATE BIPARAMETRIC", 0.03, 20.0, "prostate", None, None),
    ("MR", "KNEE", "MRI KNEE", 0.05, 12.0, None, None, None),
]
PROFILE = np.array([0.35, 0.3, 0.3, 0.3, 0.3, 0.35, 0.5, 0.8, 1.4, 1.8, 1.9, 1.8,
                    1.6, 1.7, 1.8, 1.7, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.5, 0.4])
# (location, requested priority, urgency code, weight)
ORDERS = [("EMERGENCY DEPT", "STAT", "stat", 0.25), ("WARD 5 (INPATIENT)", "ROUTINE", "inpatient", 0.25),
          ("OUTPATIENT CLINIC", "HIGH", "urgent", 0.08), ("OUTPATIENT CLINIC", "ROUTINE", "routine", 0.42)]
NAMES = {"stat": "STAT", "ai_critical": "AI critical", "inpatient": "Inpatient", "urgent": "Urgent",
         "routine": "Routine"}
RANKS = {"stat": 10, "ai_critical": 20, "inpatient": 30, "urgent": 40, "routine": 50}
ERRORS = ["timeout after 300 s", "series without pixel data", "Orthanc unreachable: connection refused",
          "CUDA out of memory", "unsupported transfer syntax 1.2.840.10008.1.2.4.90"]


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES", "DJANGO_HSTS_SECONDS"):
        os.environ.setdefault(name, "0")
    os.environ.setdefault("ORTHANC_PASSWORD", "bench")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    create_database(database_url)
    import django

    django.setup()


def create_database(url: str) -> None:
    import psycopg
    from dj_database_url import parse

    db = parse(url)
    admin = psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres",
                            password=db["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{db["NAME"]}"')


def fill(n_studies: int, days: int, seed: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from dashboard.models import DoseReferenceLevel
    from inference.models import AnalysisRun
    from reporting.models import FindingReview, Report, ReportVersion
    from worklist.models import Study

    rng = np.random.default_rng(seed)
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(days=days)
    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE worklist_study, worklist_auditevent, inference_analysisrun, worklist_findingreview,"
                       " worklist_report, worklist_reportversion, dashboard_dosereferencelevel CASCADE")
    readers = []
    for i in range(8):
        user, _ = User.objects.get_or_create(username=f"bench-reader-{i}", defaults={
            "role": Role.RADIOLOGIST, "first_name": f"Reader{i}", "last_name": "Bench"})
        readers.append(user)
    User.objects.get_or_create(username="bench-manager", defaults={"role": Role.MANAGER})

    # Arrival times: a Poisson count per hour following the daytime profile, then scaled to n.
    hours = days * 24
    weights = np.tile(PROFILE / PROFILE.sum(), days)
    per_hour = rng.multinomial(n_studies, weights / weights.sum())
    arrival_minutes = np.concatenate([h * 60 + rng.uniform(0, 60, k) for h, k in zip(range(hours), per_hour,
                                                                                      strict=True)])
    arrival_minutes.sort()
    kinds = rng.choice(len(CASE_MIX), size=n_studies, p=[c[3] for c in CASE_MIX])
    orders = rng.choice(len(ORDERS), size=n_studies, p=[o[3] for o in ORDERS])
    targets = {"stat": 60, "ai_critical": 60, "inpatient": 240, "urgent": 1440, "routine": 5760}

    studies, runs_spec = [], []
    for i in range(n_studies):
        modality, body, description, _, read_mean, model, ctdi, length = CASE_MIX[kinds[i]]
        location, priority, code, _ = ORDERS[orders[i]]
        arrived = start + timedelta(minutes=float(arrival_minutes[i]))
        flagged = model is not None and rng.random() < 0.08
        failed = model is not None and not flagged and rng.random() < 0.03
        if flagged and code in ("routine", "urgent", "inpatient"):
            code = "ai_critical" if model in ("ich", "cxr_critical") else ("urgent" if code == "routine" else code)
        target = targets[code]
        # Turnaround: log-normal around 45 % of the target, so about 10 % breach.
        turnaround = float(rng.lognormal(np.log(0.45 * target), 0.6))
        reading = float(rng.lognormal(np.log(read_mean), 0.5))
        turnaround = max(turnaround, reading + 1)
        reported = arrived + timedelta(minutes=turnaround)
        is_reported = reported < now
        dose = {}
        if ctdi is not None:
            c = float(rng.lognormal(np.log(ctdi), 0.25))
            dose = {"ctdi_vol_mgy": round(c, 2), "dlp_mgy_cm": round(c * length * rng.uniform(0.9, 1.1), 1)}
        studies.append(Study(
            study_instance_uid=f"1.2.826.0.1.3680043.10.999.{seed}.{i}", orthanc_id=f"bench-{seed}-{i}",
            patient_id=f"P{rng.integers(1, 30000)}", patient_name=f"BENCH^PATIENT{i}", accession_number=f"B{i:07d}",
            modality=modality, modalities=modality, body_part=body, study_description=description,
            requested_priority=priority, patient_location=location, arrived_at=arrived, study_datetime=arrived,
            status="ai_failed" if failed else ("analysed" if model else "no_ai"),
            status_reason=ERRORS[0] if failed else "",
            urgency_code=code, urgency_name=NAMES[code], urgency_rank=RANKS[code],
            due_at=arrived + timedelta(minutes=target), priority_reason="bench",
            reading_state="reported" if is_reported else "unread",
            claimed_at=reported - timedelta(minutes=reading) if is_reported else None,
            reported_at=reported if is_reported else None,
            reported_by=readers[int(rng.integers(0, len(readers)))] if is_reported else None,
            **dose,
        ))
        runs_spec.append((model, flagged, failed, is_reported))
    with transaction.atomic():
        Study.objects.bulk_create(studies, batch_size=5000)
    print(f"  {n_studies} studies in {time.monotonic() - began:.0f} s", flush=True)

    runs, run_studies = [], []
    for study, (model, flagged, failed, _) in zip(studies, runs_spec, strict=True):
        if model is None:
            continue
        # Version 1.1 replaced 1.0 twenty days ago.
        version = "1.1" if study.arrived_at > now - timedelta(days=20) else "1.0"
        category, suspicion, findings = "", float(rng.uniform(0, 0.45)), []
        if model == "lung_nodule":
            category = rng.choice(["lungrads:4A", "lungrads:4B"]) if flagged else rng.choice(["lungrads:1",
                                                                                              "lungrads:2"])
            findings = [{"diameter_mm": float(rng.uniform(4, 20)), "type": "solid"}
                        for _ in range(int(rng.integers(1, 4)) if flagged else int(rng.integers(0, 2)))]
        elif model == "mammo":
            category = "birads:4" if flagged else "birads:1"
            findings = [{"diameter_mm": 12.0, "type": "mass"}] if flagged else []
        elif model == "prostate":
            category = "pirads:4" if flagged else "pirads:2"
            findings = [{"diameter_mm": 11.0, "type": "lesion"}] if flagged else []
        if flagged:
            suspicion = float(rng.uniform(0.55, 1.0))
        started = study.arrived_at + timedelta(seconds=float(rng.uniform(20, 120)))
        seconds = float(rng.lognormal(np.log(30 if model == "lung_nodule" else 4), 0.3))
        runs.append(AnalysisRun(
            study=study, model_name=model, model_version=version, status="failed" if failed else "done",
            started_at=started, finished_at=started + timedelta(seconds=seconds),
            error=ERRORS[int(rng.integers(0, len(ERRORS)))] if failed else "",
            suspicion=None if failed else suspicion, category="" if failed else category,
            headline="bench", result={} if failed else {"findings": findings},
            inference_seconds=None if failed else seconds,
        ))
        run_studies.append(study)
    AnalysisRun.objects.bulk_create(runs, batch_size=5000)
    print(f"  {len(runs)} analyses", flush=True)

    reviews = []
    for run, study in zip(runs, run_studies, strict=True):
        if study.reported_at is None or run.status != "done":
            continue
        # Agreement of version 1.1 drifts down in its last week: the dashboard should raise it.
        late = study.arrived_at > now - timedelta(days=6)
        accept = 0.55 if (run.model_version == "1.1" and late) else 0.8
        for index, _ in enumerate(run.result.get("findings", [])):
            roll = rng.random()
            decision = "accepted" if roll < accept - 0.05 else ("edited" if roll < accept else "rejected")
            reviews.append(FindingReview(study=study, analysis=run, finding_index=index, decision=decision,
                                         reviewer=study.reported_by))
        if rng.random() < 0.04:
            reviews.append(FindingReview(study=study, decision="added", finding_type="solid", diameter_mm=6.0,
                                         centre_mm=[0, 0, 0], reviewer=study.reported_by))
    FindingReview.objects.bulk_create(reviews, batch_size=5000)
    # reviewed_at is auto_now: set it to the signing time, as a reader would have.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE worklist_findingreview r SET reviewed_at = s.reported_at FROM worklist_study s "
                       "WHERE r.study_id = s.id AND s.reported_at IS NOT NULL")
    print(f"  {len(reviews)} finding reviews", flush=True)

    reported = [s for s in studies if s.reported_at is not None]
    Report.objects.bulk_create([Report(study=s) for s in reported], batch_size=5000)
    report_ids = dict(Report.objects.values_list("study_id", "id"))
    ReportVersion.objects.bulk_create([
        ReportVersion(report_id=report_ids[s.pk], number=1, template="free", fields={}, text="Bench report.",
                      reading_mode="concurrent", author=s.reported_by, signed_at=s.reported_at)
        for s in reported], batch_size=5000)
    print(f"  {len(reported)} signed reports", flush=True)
    for _, _, description, _, _, _, ctdi, length in CASE_MIX:
        if ctdi is not None:
            DoseReferenceLevel.objects.create(protocol=description, ctdi_vol_mgy=round(ctdi * 1.3, 1),
                                              dlp_mgy_cm=round(ctdi * length * 1.3))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled in {time.monotonic() - began:.0f} s", flush=True)


ENDPOINTS = [
    "/api/stats/backlog/",
    "/api/stats/turnaround/?group=urgency&days=30",
    "/api/stats/turnaround/?group=modality&days=30",
    "/api/stats/turnaround/?group=day&days=30",
    "/api/stats/breaches/?days=30",
    "/api/stats/volume/?bucket=hour&days=3",
    "/api/stats/volume/?bucket=day&days=30",
    "/api/stats/workload/?days=30",
    "/api/stats/ai/?days=30",
    "/api/stats/ai/agreement/?days=35",
    "/api/stats/dose/?days=30",
    "/api/stats/dose/outliers/?days=30",
    "/api/stats/capacity/inputs/",
    "/api/stats/target-changes/",
]
EXPORT = "/api/stats/export/studies.csv?days=30"


def time_endpoints(calls: int) -> list[tuple[str, float, float, int]]:
    from django.test import Client

    from accounts.models import User

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="bench-manager"))
    results = []
    for url in [*ENDPOINTS, EXPORT]:
        timings = []
        for i in range(calls + 2):
            began = time.perf_counter()
            response = client.get(url)
            size = len(b"".join(response.streaming_content)) if response.streaming else len(response.content)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code} {response.content[:200]!r}")
            if i >= 2:  # two warm-up calls: connection, caches
                timings.append(elapsed)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        results.append((url, statistics.median(timings), p95, size))
        print(f"  {url}: {statistics.median(timings):.0f} ms", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--studies", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()

    setup_django(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    from worklist.models import Study

    call_command("migrate", verbosity=0)
    if args.refill or Study.objects.count() != args.studies:
        print(f"filling {args.database_url} with {args.studies} studies over {args.days} days…", flush=True)
        fill(args.studies, args.days, args.seed)
    counts = {m.__name__: m.objects.count() for m in (Study,)}
    print(f"timing {len(ENDPOINTS) + 1} endpoints, {args.calls} calls each…", flush=True)
    results = time_endpoints(args.calls)

    print(f"\nPostgreSQL {connection.cursor().connection.info.server_version}, {counts['Study']} studies, "
          f"{args.calls} calls per endpoint (after 2 warm-up calls), Django test client as a manager; "
          f"{load_note()}\n")
    print("| endpoint | median ms | p95 ms | response bytes |")
    print("|---|---|---|---|")
    for url, median, p95, size in results:
        print(f"| `{url}` | {median:.0f} | {p95:.0f} | {size:,} |")
    slow = [url for url, median, _, _ in results if median >= 300 and url != EXPORT]
    print(f"\n{'All' if not slow else 'Not all'} chart endpoints under 300 ms median" +
          (f"; over: {', '.join(slow)}" if slow else "") + " (the CSV export streams every study; not a chart).")


if __name__ == "__main__":
    main()
