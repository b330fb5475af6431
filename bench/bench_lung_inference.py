"""Lung nodule inference on a 512 x 512 chest CT of 300 slices: time and peak memory.

    python bench/bench_lung_inference.py [--runs 3] [--slices 300] [--matrix 512]

The study is generated and written to disk by a child process, so this process's peak RSS
(resource.getrusage) counts only what inference holds: reading the DICOM files into a volume,
predict(), and building the SR. Orthanc is not involved (that is network, not compute).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from inference_timing import django_setup, print_runs, time_runs, write_generated_study


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--matrix", type=int, default=512)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()

    django_setup()
    import pydicom
    import torch

    from archive.volumes import volume_from_datasets
    from inference.cad.lung_nodule.model import LungNoduleModel
    from inference.dicom_results import sr_build

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_generated_study(Path(tmp) / "study", "chest_ct", seed=args.seed, matrix=args.matrix,
                                      slices=args.slices)
        model = LungNoduleModel()
        model.network()  # weights load once per process, as in a worker

        def results(volume, prediction) -> int:
            sr_build(volume, prediction, model_name=model.name, model_version=model.version)
            return len(prediction.findings)

        rows = time_runs(args.runs, lambda: volume_from_datasets(pydicom.dcmread(f) for f in files),
                         model.predict, results)
    print_runs(f"Lung nodule inference, {args.slices} slices of {args.matrix}x{args.matrix}, {len(files)} files, "
               f"torch threads {torch.get_num_threads()}, CPU cores {os.cpu_count()}",
               ("read DICOM -> volume", "predict", "SR"), "findings", rows, note="targets: ≤ 20 s, ≤ 2048 MB")


if __name__ == "__main__":
    main()
