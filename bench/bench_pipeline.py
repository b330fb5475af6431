"""Pipeline benchmark: studies ingested and analysed per hour with 1 and 2 inference workers, and
each study's end-to-end time (last image stored → websocket message) in parts beside its inference.

    python bench/bench_pipeline.py                     # 6 synthetic chest CTs (256 matrix), 1 then 2 workers
    python bench/bench_pipeline.py --studies 10 --matrix 512 --workers 1 2

Everything runs as the Procfile runs it, on private instances so nothing shared is disturbed:
its own Orthanc (free ports, throwaway storage, stable age 2 s), its own redis-server, its own
PostgreSQL database (triage_bench_pipeline), uvicorn, an ingestion worker with beat
(queue "default", polling every 0.5 s), a prefetch worker (queue "prefetch", decoding series while
they arrive) and N inference workers (queue "inference", one process each) running the real lung
nodule model. A websocket client notes when each study's final
status arrives.

Two phases per worker count, with studies generated before any clock starts:
  arrivals  the studies are sent one after another over C-STORE while every worker runs: each
            study's end-to-end time and its parts (below). Sending a 300-slice CT takes longer
            than analysing it here, so the workers keep up and the queue stays short.
  backlog   the studies are stored and ingested while no inference worker runs; then the N
            inference workers start: "per hour" = studies / (last result pushed − workers started),
            the rate at which N workers drain a queue (their start-up, model loading, included).

Parts of a study's end-to-end time:
  stable+ingest  last image stored → Study row saved (Orthanc's stable age, the poll, the read)
  queue          saved → analysis started (waiting behind other studies for a worker)
  analysis       analysis started → finished, itself in parts (timed inside the model's run):
    fetch        the series read from Orthanc and decoded into a volume
    inference    the model's predict() alone: the bare inference time
    sr           the DICOM SR built and stored back into Orthanc
  push           finished → websocket message received
The last column is end-to-end ÷ bare inference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/triage_bench_pipeline"
FINAL = ("analysed", "ai_failed", "no_ai")


def private_services(log_dir: Path) -> dict:
    """Orthanc and Redis of our own; returns the environment for the app processes."""
    from tests.support import processes
    from tests.support.faults import private_redis, redis_start

    http, dicom = processes.free_port(), processes.free_port()
    env = dict(os.environ, ORTHANC_HTTP_PORT=str(http), ORTHANC_DICOM_PORT=str(dicom),
               ORTHANC_URL=f"http://127.0.0.1:{http}", ORTHANC_STORAGE=str(log_dir / "orthanc"),
               ORTHANC_STABLE_AGE="2", ORTHANC_NAME="triage-bench", INGEST_POLL_SECONDS="0.5",
               ORTHANC_USERNAME="triage", ORTHANC_PASSWORD="bench-orthanc-password", PYTHONUNBUFFERED="1",
               ORTHANC_ADMIN_USERNAME="orthanc-admin", ORTHANC_ADMIN_PASSWORD="bench-orthanc-admin-password",
               DICOM_MODALITIES="MODSIM@127.0.0.1")
    redis = redis_start(private_redis(log_dir))
    env["REDIS_URL"] = redis.url
    orthanc = processes.orthanc_process(env, log_dir).start()
    processes.wait_until(lambda: processes.orthanc_ready(env["ORTHANC_URL"], ("triage", "bench-orthanc-password")),
                         timeout=30, what="Orthanc")
    return {"env": env, "stop": [orthanc, redis]}


def app_settings(env: dict) -> None:
    for name in ("ORTHANC_URL", "ORTHANC_DICOM_PORT", "ORTHANC_USERNAME", "ORTHANC_PASSWORD", "REDIS_URL",
                 "INGEST_POLL_SECONDS"):
        os.environ[name] = env[name]


def worker(env: dict, log_dir: Path, name: str, queue: str, beat: bool):
    from tests.support.processes import VENV_BIN, ManagedProcess

    argv = [str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", queue, "--concurrency", "1",
            "--loglevel", "INFO", "--without-gossip", "--without-mingle", "-n", f"{name}@%h"]
    if beat:
        argv += ["-B", "--schedule", str(log_dir / "celerybeat-schedule")]
    return ManagedProcess(name, argv, env, log_dir / f"{name}.log").start()


def listen(url: str, cookie: str, seen: dict, stop: threading.Event) -> None:
    from websockets.sync.client import connect

    with connect(url.replace("http://", "ws://") + "/ws/worklist/", origin=url,
                 additional_headers={"Cookie": f"sessionid={cookie}"}) as socket:
        while not stop.is_set():
            try:
                message = json.loads(socket.recv(timeout=0.5))
            except TimeoutError:
                continue
            if message.get("type") == "study.updated" and message["study"]["status"] in FINAL:
                seen.setdefault(message["study"]["study_instance_uid"], time.time())


def late_series(study, seed: int, every: int = 5):
    """A second reconstruction of the study's series (every 5th slice, its own series UID and count),
    as a scanner sends a thick-slice series after the thin one: the study looks complete by its
    counts before it comes, so its arrival re-analyses the study."""
    import copy

    from pydicom.uid import generate_uid

    series_uid = generate_uid(entropy_srcs=["bench-late-series", str(seed)])
    picked = study.datasets[::every]
    out = []
    for number, source in enumerate(picked, start=1):
        ds = copy.deepcopy(source)
        ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber = series_uid, 3, number
        ds.SeriesDescription = "Thick 5 mm"
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["bench-late-series", str(seed), str(number)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        if "ImagesInAcquisition" in ds:
            ds.ImagesInAcquisition = len(picked)
        out.append(ds)
    return out


def send_all(env: dict, studies: list, late: dict | None = None, seen: dict | None = None) -> dict[str, float]:
    """Send each study; `stored_at` is when its first series' last image was stored. A study in
    `late` has a second series sent 1 s after that (the modality reconstructing it). With `seen`
    (--spaced), each study is sent once the previous one's result is on the websocket."""
    from inference.synthetic.sender import store_study
    from tests.support.processes import wait_until

    stored_at = {}
    for study in studies:
        if seen is not None and stored_at:
            wait_until(lambda: all(uid in seen for uid in stored_at), timeout=900, interval=0.2,
                       what="the previous study's result")
        store_study(study, host="127.0.0.1", port=int(env["ORTHANC_DICOM_PORT"]), called_aet="ORTHANC")
        stored_at[study.study_instance_uid] = time.time()
        if late and study.study_instance_uid in late:
            time.sleep(1.0)
            store_study(dataclasses.replace(study, datasets=late[study.study_instance_uid]),
                        host="127.0.0.1", port=int(env["ORTHANC_DICOM_PORT"]), called_aet="ORTHANC")
    return stored_at


def start_listener(url: str, cookie: str) -> tuple[dict, threading.Event]:
    seen: dict[str, float] = {}
    stop = threading.Event()
    threading.Thread(target=listen, args=(url, cookie, seen, stop), daemon=True).start()
    return seen, stop


def run_arrivals(env: dict, log_dir: Path, url: str, cookie: str, studies: list, inference_workers: int,
                 late: dict | None = None, spaced: bool = False) -> dict:
    from inference.models import AnalysisRun
    from tests.support.processes import wait_until
    from worklist.models import PendingStudy, Study

    procs = [worker(env, log_dir, "ingest", "default", beat=True),
             worker(env, log_dir, "prefetch", "prefetch", beat=False)]
    procs += [worker(env, log_dir, f"inference{i}", "inference", beat=False) for i in range(inference_workers)]
    seen, stop = start_listener(url, cookie)
    time.sleep(8)  # workers connected and ready
    try:
        stored_at = send_all(env, studies, late, seen if spaced else None)
        wait_until(lambda: all(uid in seen for uid in stored_at), timeout=900, interval=0.5,
                   what="every study's result on the websocket")
        # Until Orthanc has called every study stable (its last word on late images) and any
        # re-analysis that started has finished: then count the studies analysed more than once.
        wait_until(lambda: not PendingStudy.objects.exists() and not Study.objects.filter(
            study_instance_uid__in=stored_at, status__in=("queued", "analysing", "received")).exists(),
            timeout=300, interval=0.5, what="every study stable and its analyses finished")
    finally:
        stop.set()
        for proc in procs:
            proc.stop()
    rows = []
    for uid, stored in stored_at.items():
        study = Study.objects.get(study_instance_uid=uid)
        analysis = AnalysisRun.objects.filter(study=study).first()
        timings = analysis.result.get("timings", {})
        rows.append({
            "status": study.status,
            "stable_ingest": study.ingested_at.timestamp() - stored,
            "queue": analysis.started_at.timestamp() - study.ingested_at.timestamp(),
            "analysis": (analysis.finished_at - analysis.started_at).total_seconds(),
            "push": seen[uid] - analysis.finished_at.timestamp(),
            "fetch": timings.get("fetch_seconds", float("nan")),
            "inference": timings.get("predict_seconds", float("nan")),
            "sr": timings.get("sr_seconds", float("nan")),
            "end_to_end": seen[uid] - stored,
            "analyses": study.analysed_generation,
            "prefetched": f"{timings.get('prefetched_slices', 0)}/{timings.get('slices', '?')}",
        })
    return {"rows": rows}


def run_backlog(env: dict, log_dir: Path, url: str, cookie: str, studies: list, inference_workers: int) -> dict:
    from tests.support.processes import wait_until
    from worklist.models import Study

    ingest = worker(env, log_dir, "ingest", "default", beat=True)
    seen, stop = start_listener(url, cookie)
    procs = [ingest]
    try:
        uids = set(send_all(env, studies))
        wait_until(lambda: Study.objects.filter(study_instance_uid__in=uids).count() == len(uids), timeout=300,
                   interval=0.5, what="every study ingested")
        started = time.time()
        procs += [worker(env, log_dir, f"inference{i}", "inference", beat=False) for i in range(inference_workers)]
        wait_until(lambda: all(uid in seen for uid in uids), timeout=1800, interval=0.5,
                   what="every study's result on the websocket")
    finally:
        stop.set()
        for proc in procs:
            proc.stop()
    drained = max(seen[uid] for uid in uids) - started
    statuses = sorted(set(Study.objects.filter(study_instance_uid__in=uids).values_list("status", flat=True)))
    return {"per_hour": len(uids) / drained * 3600, "drained": drained, "statuses": statuses}


def clean(orthanc_env: dict) -> None:
    import requests

    from worklist.models import Study

    Study.objects.all().delete()
    # Emptying the archive is the operator's right, not the application's (orthanc/access.lua).
    auth = (orthanc_env["ORTHANC_ADMIN_USERNAME"], orthanc_env["ORTHANC_ADMIN_PASSWORD"])
    for study_id in requests.get(orthanc_env["ORTHANC_URL"] + "/studies", auth=auth, timeout=10).json():
        requests.delete(f"{orthanc_env['ORTHANC_URL']}/studies/{study_id}", auth=auth, timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--studies", type=int, default=6)
    parser.add_argument("--matrix", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--late-series", type=float, default=0.0, metavar="SHARE",
                        help="share of studies followed, 1 s after their first series, by a second one "
                             "(a thick-slice reconstruction): how often an early start is re-analysed")
    parser.add_argument("--spaced", action="store_true",
                        help="send each study once the previous one's result is pushed: one study's latency "
                             "with no queue, whatever the machine's load")
    parser.add_argument("--phases", nargs="+", default=["arrivals", "backlog"], choices=["arrivals", "backlog"])
    args = parser.parse_args()

    log_dir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    services = private_services(log_dir)
    server = None
    # Whatever fails (uvicorn not starting, a time-out), the private Orthanc and Redis are stopped.
    try:
        env = services["env"]
        app_settings(env)
        os.environ["CAD_MODELS"] = env["CAD_MODELS"] = "inference.cad.lung_nodule.model:LungNoduleModel"
        import bench_dashboard

        bench_dashboard.setup_django(args.database_url)
        env["DATABASE_URL"] = args.database_url
        # The settings setup_django defaulted (secret key, debug off…) go to the child processes too:
        # without the Makefile's environment exported, uvicorn and the workers could not start.
        for name, value in os.environ.items():
            env.setdefault(name, value)
        from bench_load import session_for, start_server
        from django.core.management import call_command

        from inference.synthetic import generate_study

        call_command("migrate", verbosity=0)
        server, url = start_server(env)
        results = {}
        cookie = session_for("bench-pipeline", "radiologist")
        for n in args.workers:
            # New UIDs for each phase (another seed range), generated before the clock starts.
            for phase, offset, runner in (("arrivals", 0, run_arrivals), ("backlog", 500, run_backlog)):
                if phase not in args.phases:
                    continue
                clean(env)
                studies = [generate_study("chest_ct", seed=1000 * n + offset + i, matrix=args.matrix)
                           for i in range(args.studies)]
                print(f"{n} inference worker(s), {phase}: {len(studies)} chest CTs "
                      f"({len(studies[0].datasets)} slices of {args.matrix}²)…", flush=True)
                if phase == "arrivals":
                    # Every k-th study gets a late series, k from the share (0: none), the same ones each run.
                    step = round(1 / args.late_series) if args.late_series else 0
                    late = {s.study_instance_uid: late_series(s, 1000 * n + i)
                            for i, s in enumerate(studies) if step and i % step == step - 1}
                    results[(n, phase)] = runner(env, log_dir, url, cookie, studies, n, late, args.spaced)
                    results[(n, phase)]["late"] = len(late)
                else:
                    results[(n, phase)] = runner(env, log_dir, url, cookie, studies, n)
    finally:
        if server is not None:
            server.stop()
        for proc in services["stop"]:
            proc.stop()

    print(f"\nload average now {'/'.join(f'{v:.1f}' for v in os.getloadavg())} (1/5/15 min) "
          f"on {os.cpu_count()} cores\n")
    print("| inference workers | backlog drained at | median end-to-end | stable+ingest | queue | analysis "
          "| fetch | inference | SR | push | end-to-end ÷ inference | analysed more than once |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.workers:
        arrivals, backlog = results.get((n, "arrivals")), results.get((n, "backlog"))
        drained = (f"{backlog['per_hour']:.0f} studies/h ({args.studies} in {backlog['drained']:.0f} s)"
                   if backlog else "not run")
        statuses = set(backlog["statuses"]) if backlog else set()
        if arrivals:
            rows = arrivals["rows"]
            med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k not in ("status", "prefetched")}
            again = sum(r["analyses"] > 1 for r in rows)
            print(f"| {n} | {drained} | "
                  f"{med['end_to_end']:.1f} s | {med['stable_ingest']:.1f} s | {med['queue']:.1f} s | "
                  f"{med['analysis']:.1f} s | {med['fetch']:.2f} s | {med['inference']:.1f} s | {med['sr']:.1f} s | "
                  f"{med['push'] * 1000:.0f} ms | {med['end_to_end'] / med['inference']:.2f} | "
                  f"{again} of {len(rows)} ({arrivals['late']} sent a late series) |")
            for r in rows:
                print(f"|   | one study: | {r['end_to_end']:.1f} s | {r['stable_ingest']:.1f} s | {r['queue']:.1f} s | "
                      f"{r['analysis']:.1f} s | {r['fetch']:.2f} s ({r['prefetched']} prefetched) | "
                      f"{r['inference']:.1f} s | {r['sr']:.1f} s | "
                      f"{r['push'] * 1000:.0f} ms | {r['end_to_end'] / r['inference']:.2f} | {r['analyses']} |")
            statuses |= {r["status"] for r in rows}
        else:
            print(f"| {n} | {drained} | not run | | | | | | | | | |")
        print(f"|   | statuses: {', '.join(sorted(statuses))} | | | | | | | | | | |")


if __name__ == "__main__":
    main()
