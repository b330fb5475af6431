"""Lung nodule inference on a 512 x 512 chest CT of 300 slices: time and peak memory.

    python bench/bench_lung_inference.py [--runs 3] [--slices 300] [--matrix 512]

The study is generated and written to disk by a child process, so this process's peak RSS
(resource.getrusage) counts only what inference holds: reading the DICOM files into a volume,
predict(), and building the SR. Orthanc is not involved (that is network, not compute).
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


def write_study(folder: Path, *, matrix: int, slices: int, seed: int) -> None:
    code = (
        "from inference.synthetic import generate_study; import sys; "
        f"generate_study('chest_ct', seed={seed}, matrix={matrix}, slices={slices}).write(sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--matrix", type=int, default=512)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ.setdefault("ORTHANC_PASSWORD", "bench-only")
    import django

    django.setup()
    import pydicom
    import torch

    from inference.cad.lung_nodule.model import LungNoduleModel
    from inference.dicom_results import sr_build
    from inference.volumes import volume_from_datasets

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "study"
        write_study(folder, matrix=args.matrix, slices=args.slices, seed=args.seed)
        files = sorted(folder.rglob("*.dcm"))
        model = LungNoduleModel()
        model.network()  # weights load once per process, as in a worker
        rows = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            volume = volume_from_datasets(pydicom.dcmread(f) for f in files)
            t1 = time.perf_counter()
            prediction = model.predict(volume)
            t2 = time.perf_counter()
            sr_build(volume, prediction, model_name=model.name, model_version=model.version)
            t3 = time.perf_counter()
            rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0, len(prediction.findings)))
            del volume
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Lung nodule inference, {args.slices} slices of {args.matrix}x{args.matrix}, "
          f"{len(files)} files, torch threads {torch.get_num_threads()}, CPU cores {os.cpu_count()}\n")
    print("| run | read DICOM -> volume (s) | predict (s) | SR (s) | total (s) | findings |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n, (a, b, c, d, f) in enumerate(rows, 1):
        print(f"| {n} | {a:.2f} | {b:.2f} | {c:.2f} | {d:.2f} | {f} |")
    medians = [statistics.median(r[i] for r in rows) for i in range(4)]
    print(f"| **median** | {medians[0]:.2f} | {medians[1]:.2f} | {medians[2]:.2f} | **{medians[3]:.2f}** | |")
    print(f"\nPeak RSS of this process: **{peak_mb:.0f} MB** (targets: ≤ 20 s, ≤ 2048 MB)")


if __name__ == "__main__":
    main()
