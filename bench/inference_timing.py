"""What the model inference benches share (bench_lung_inference, bench_mammo_inference,
bench_prostate_inference): a generated study written to disk by a child process, so this
process's peak RSS counts only what inference holds; Django set up without a deployment's
secrets; each run timed in three steps; one markdown table with medians and the peak RSS.
Orthanc is not involved (that is network, not compute).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from machine import load_note  # bench/ is the script directory, so on sys.path

ROOT = Path(__file__).resolve().parents[1]


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ.setdefault("ORTHANC_PASSWORD", "bench-only")
    import django

    django.setup()


def write_generated_study(folder: Path, kind: str, **params) -> list[Path]:
    """Generate a study in a child process and write it under `folder`; its DICOM files, sorted."""
    code = ("from inference.synthetic import generate_study; import sys; "
            f"generate_study({kind!r}, **{params!r}).write(sys.argv[1])")
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, cwd=ROOT)
    return sorted(folder.rglob("*.dcm"))


def time_runs(runs: int, read: Callable[[], object], predict: Callable[[object], object],
              results: Callable[[object, object], int]) -> list[tuple[float, float, float, float, int, float]]:
    """(read s, predict s, results s, total s, findings, CPU s) per run; `results` writes the DICOM
    results in memory and returns how many findings they hold. CPU s is this process's CPU time
    over the run, all threads: the core-seconds a study takes, which other work on a shared
    machine inflates far less than the wall time (bench/sizing.py sizes workers from it)."""
    rows = []
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        item = read()
        t1 = time.perf_counter()
        prediction = predict(item)
        t2 = time.perf_counter()
        count = results(item, prediction)
        t3 = time.perf_counter()
        rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0, count, time.process_time() - c0))
        del item, prediction  # one study in memory at a time, as in a worker
    return rows


def print_runs(title: str, steps: tuple[str, str, str], what: str, rows: list[tuple], *, note: str = "") -> None:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{title}\n")
    print(f"| run | {steps[0]} (s) | {steps[1]} (s) | {steps[2]} (s) | total (s) | CPU (s) | {what} |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n, (a, b, c, d, f, cpu) in enumerate(rows, 1):
        print(f"| {n} | {a:.2f} | {b:.2f} | {c:.2f} | {d:.2f} | {cpu:.2f} | {f} |")
    medians = [statistics.median(r[i] for r in rows) for i in (0, 1, 2, 3, 5)]
    print(f"| **median** | {medians[0]:.2f} | **{medians[1]:.2f}** | {medians[2]:.2f} | **{medians[3]:.2f}** | "
          f"{medians[4]:.2f} | |")
    print(f"\nPeak RSS of this process: **{peak_mb:.0f} MB**" + (f" ({note})" if note else ""))
    print(f"Per study, median: {medians[3]:.2f} s wall, {medians[4]:.2f} s CPU")
    print(f"Measured at {load_note()}")
