"""Mammography inference on a four-view case at the standard matrix (1024 x 832, 0.28 mm): time and memory.

    python bench/bench_mammo_inference.py [--runs 5] [--matrix standard] [--threads 2]

The case is generated and written to disk by a child process, so this process's peak RSS
(resource.getrusage) counts only what inference holds: reading the four DICOM files, predict()
and building the SR. Orthanc is not involved (that is network, not compute).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from inference_timing import django_setup, print_runs, time_runs, write_generated_study


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--matrix", default="standard", choices=["standard", "small"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()

    django_setup()
    import pydicom
    import torch

    from inference.cad.mammography.images import four_views
    from inference.cad.mammography.model import MammographyModel
    from inference.cad.mammography.sr import sr_build

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_generated_study(Path(tmp) / "case", "mammography", seed=args.seed, matrix=args.matrix,
                                      n_lesions=2)
        model = MammographyModel()
        model.network()  # weights load once per process, as in a worker

        def results(views, prediction) -> int:
            findings = model.findings(prediction, views)
            sr_build(views, findings, prediction.density, model_name=model.name, model_version=model.version)
            return len(findings)

        rows = time_runs(args.runs, lambda: four_views(pydicom.dcmread(f) for f in files), model.predict, results)
    print_runs(f"Mammography inference, four views at matrix {args.matrix!r}, {len(files)} files, "
               f"torch threads {torch.get_num_threads()}, CPU cores {os.cpu_count()}",
               ("read DICOM", "predict", "findings + SR"), "findings", rows, note="target: ≤ 10 s per case")


if __name__ == "__main__":
    main()
