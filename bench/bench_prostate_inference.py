"""Prostate MRI inference on a default-size generated study (T2 320², 24 slices; DWI and ADC 128²):
time and peak memory of the whole predict path.

    python bench/bench_prostate_inference.py [--runs 5]

The study is generated and written to disk by a child process, so this process's peak RSS
counts only what inference holds. Each run reads the DICOM files, identifies the series by
their headers, registers ADC and high-b DWI to the T2, runs the network, measures on the T2
grid and builds the SEG and the SR. Orthanc is not involved (that is network, not compute).
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


def write_study(folder: Path, *, seed: int) -> None:
    code = ("from inference.synthetic import generate_study; import sys; "
            f"generate_study('prostate_mri', seed={seed}, n_lesions=1).write(sys.argv[1])")
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ.setdefault("ORTHANC_PASSWORD", "bench-only")
    import django

    django.setup()
    import pydicom
    import torch

    from inference.cad.prostate.model import ProstateModel, case_from_datasets
    from inference.cad.prostate.seg import seg_build
    from inference.cad.prostate.sr import sr_build

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "study"
        write_study(folder, seed=args.seed)
        files = sorted(folder.rglob("*.dcm"))
        model = ProstateModel()
        model.network()  # weights load once per process, as in a worker
        rows = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            case = case_from_datasets([pydicom.dcmread(f) for f in files])
            t1 = time.perf_counter()
            prediction = model.predict(case)
            t2 = time.perf_counter()
            seg = seg_build(case, prediction, model_name=model.name, model_version=model.version)
            sr_build(case, prediction, seg, model_name=model.name, model_version=model.version)
            t3 = time.perf_counter()
            rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0, len(prediction.reported)))
            del case
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Prostate MRI inference, {len(files)} files (T2 320x320x24, DWI 4 b-values and ADC 128x128x24), "
          f"torch threads {torch.get_num_threads()}, CPU cores {os.cpu_count()}\n")
    print("| run | read + identify + volumes (s) | predict (s) | SEG + SR (s) | total (s) | lesions |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n, (a, b, c, d, f) in enumerate(rows, 1):
        print(f"| {n} | {a:.2f} | {b:.2f} | {c:.2f} | {d:.2f} | {f} |")
    medians = [statistics.median(r[i] for r in rows) for i in range(4)]
    print(f"| **median** | {medians[0]:.2f} | {medians[1]:.2f} | {medians[2]:.2f} | **{medians[3]:.2f}** | |")
    print(f"\nPeak RSS of this process: **{peak_mb:.0f} MB** (target: ≤ 20 s per study)")


if __name__ == "__main__":
    main()
