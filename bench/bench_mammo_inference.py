"""Mammography inference on a four-view case at the standard matrix (1024 x 832, 0.28 mm): time and memory.

    python bench/bench_mammo_inference.py [--runs 5] [--matrix standard] [--threads 2]

The case is generated and written to disk by a child process, so this process's peak RSS
(resource.getrusage) counts only what inference holds: reading the four DICOM files, predict()
and building the SR. Orthanc is not involved (that is network, not compute).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_case(folder: Path, *, matrix: str, seed: int) -> None:
    code = (
        "from inference.synthetic import generate_study; import sys; "
        f"generate_study('mammography', seed={seed}, matrix={matrix!r}, n_lesions=2).write(sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--matrix", default="standard", choices=["standard", "small"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ.setdefault("ORTHANC_PASSWORD", "bench-only")
    import django

    django.setup()
    import pydicom
    import torch

    from inference.cad.mammography.images import four_views
    from inference.cad.mammography.model import MammographyModel
    from inference.cad.mammography.sr import sr_build

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        write_case(folder, matrix=args.matrix, seed=args.seed)
        files = sorted(folder.rglob("*.dcm"))
        model = MammographyModel()
        model.network()  # weights load once per process, as in a worker
        rows = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            views = four_views(pydicom.dcmread(f) for f in files)
            t1 = time.perf_counter()
            prediction = model.predict(views)
            t2 = time.perf_counter()
            findings = model.findings(prediction, views)
            sr_build(views, findings, prediction.density, model_name=model.name, model_version=model.version)
            t3 = time.perf_counter()
            rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0, len(findings)))
            del views
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Mammography inference, four views at matrix {args.matrix!r}, {len(files)} files, "
          f"torch threads {torch.get_num_threads()}, CPU cores {os.cpu_count()}\n")
    print("| run | read DICOM (s) | predict (s) | findings + SR (s) | total (s) | findings |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n, (a, b, c, d, f) in enumerate(rows, 1):
        print(f"| {n} | {a:.2f} | {b:.2f} | {c:.2f} | {d:.2f} | {f} |")
    medians = [statistics.median(r[i] for r in rows) for i in range(4)]
    print(f"| **median** | {medians[0]:.2f} | **{medians[1]:.2f}** | {medians[2]:.2f} | **{medians[3]:.2f}** | |")
    print(f"\nPeak RSS of this process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
