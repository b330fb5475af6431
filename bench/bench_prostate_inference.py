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
import tempfile
from pathlib import Path

from inference_timing import django_setup, print_runs, time_runs, write_generated_study


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()

    django_setup()
    import pydicom
    import torch

    from inference.cad.prostate.model import ProstateModel, case_from_datasets
    from inference.cad.prostate.seg import seg_build
    from inference.cad.prostate.sr import sr_build

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_generated_study(Path(tmp) / "study", "prostate_mri", seed=args.seed, n_lesions=1)
        model = ProstateModel()
        model.network()  # weights load once per process, as in a worker

        def results(case, prediction) -> int:
            seg = seg_build(case, prediction, model_name=model.name, model_version=model.version)
            sr_build(case, prediction, seg, model_name=model.name, model_version=model.version)
            return len(prediction.reported)

        rows = time_runs(args.runs, lambda: case_from_datasets([pydicom.dcmread(f) for f in files]),
                         model.predict, results)
    print_runs(f"Prostate MRI inference, {len(files)} files (T2 320x320x24, DWI 4 b-values and ADC 128x128x24), "
               f"torch threads {torch.get_num_threads()}, CPU cores {os.cpu_count()}",
               ("read + identify + volumes", "predict", "SEG + SR"), "lesions", rows, note="target: ≤ 20 s per study")


if __name__ == "__main__":
    main()
