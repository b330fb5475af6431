"""How many inference workers a department needs, from each model's measured cost per study.

    python bench/sizing.py                       # the figures measured for the README
    python bench/sizing.py --measure             # measure them again, one core each (taskset -c 0)
    python bench/sizing.py --lung 6.2 --mammo 0.5 --prostate 1.5 --mix department --peak-factor 3

One inference worker is one Celery process on the "inference" queue holding one core (docker-compose
`worker`, Procfile `worker`: `--concurrency` is the number of workers on that machine). A study
occupies its worker for the model's CPU time (read the DICOM files, predict, build the SR/SEG: the
inference benches' "CPU (s)", process CPU time of all threads, which other work on a shared machine
inflates far less than the wall time) plus the transfer: fetching the study from Orthanc and storing
the results (bench_pipeline.py measured fetch 0.6-1.7 s and SR store 0.2-0.5 s for a 300-slice CT;
`--transfer` counts 2 s for every study, an upper bound for the smaller mammography and prostate studies).

Demand is the busiest hour: the day's studies / 24 x `--peak-factor` (3: the busiest hour carries
1/8 of the day, as in a department doing most of its work in daytime hours). Workers = the busy
workers that hour / `--utilisation` (0.5: twice the capacity, so a burst or a slower model does not
build a queue), rounded up; plus one spare so a worker can fail or be updated.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

from machine import load_note  # bench/ is the script directory, so on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The model that analyses each kind of study of the simulator's mixes (inference/synthetic/traffic.py);
# the other kinds (radiographs, head CT, knee MRI) have none: no inference worker time.
MODEL_OF_KIND = {"chest_ct": "lung", "mammography": "mammo", "prostate_mri": "prostate"}
BENCHES = {
    "lung": ["bench_lung_inference.py", "--runs", "3"],  # 300 slices of 512x512
    "mammo": ["bench_mammo_inference.py", "--runs", "5", "--threads", "1"],  # four views, 1024x832
    "prostate": ["bench_prostate_inference.py", "--runs", "5"],  # T2 320x320x24, DWI and ADC 128x128x24
}
# CPU seconds per study: the higher of two medians measured with the benches above under
# `taskset -c 0` on 2 shared cores (load average 17-24, the wall times 3-7x these; lung 6.19 and
# 9.87 s, mammography 0.46 and 0.39 s, prostate 0.99 and 1.17 s); see the README's Benchmarks.
MEASURED = {"lung": 9.87, "mammo": 0.46, "prostate": 1.17}
DEPARTMENTS = (200, 1000, 5000)


def measure(model: str) -> float:
    """Run the model's bench on one core; its median CPU seconds per study."""
    argv = [sys.executable, str(ROOT / "bench" / BENCHES[model][0]), *BENCHES[model][1:]]
    if shutil.which("taskset"):
        argv = ["taskset", "-c", "0", *argv]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    match = re.search(r"Per study, median: ([0-9.]+) s wall, ([0-9.]+) s CPU", out)
    if match is None:
        raise RuntimeError(f"{BENCHES[model][0]} printed no per-study figure:\n{out}")
    print(f"{model}: {match[1]} s wall, {match[2]} s CPU per study (one core)", file=sys.stderr)
    return float(match[2])


def workers_needed(per_day: int, seconds: dict[str, float], mix: dict[str, float], *, transfer: float,
                   peak_factor: float, utilisation: float) -> dict[str, float]:
    """One department's row: AI studies a day and in the busiest hour, worker-seconds, workers."""
    ai_share = sum(share for kind, share in mix.items() if kind in MODEL_OF_KIND)
    per_study = sum(share * (seconds[MODEL_OF_KIND[kind]] + transfer)
                    for kind, share in mix.items() if kind in MODEL_OF_KIND)  # over all studies
    peak_studies = per_day / 24 * peak_factor
    busy = peak_studies * per_study / 3600
    return {"per_day": per_day, "ai_per_day": per_day * ai_share, "ai_peak_hour": peak_studies * ai_share,
            "busy": busy, "workers": max(1, math.ceil(busy / utilisation - 1e-9))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", action="store_true", help="run the three inference benches on one core first")
    for model in MEASURED:
        parser.add_argument(f"--{model}", type=float, default=MEASURED[model],
                            help=f"CPU seconds per study of the {model} model (default {MEASURED[model]})")
    parser.add_argument("--transfer", type=float, default=2.0, help="seconds per study to fetch it and store results")
    parser.add_argument("--mix", default="department", help="a mix of inference/synthetic/traffic.py or kind=share,...")
    parser.add_argument("--peak-factor", type=float, default=3.0, help="busiest hour's rate / the day's mean rate")
    parser.add_argument("--utilisation", type=float, default=0.5, help="highest planned share of a worker kept busy")
    parser.add_argument("--departments", default=",".join(map(str, DEPARTMENTS)), help="studies a day, comma separated")
    args = parser.parse_args()

    from inference.synthetic.traffic import department_mix

    mix = department_mix(args.mix)
    seconds = {model: measure(model) if args.measure else getattr(args, model) for model in MEASURED}
    shares = ", ".join(f"{kind} {share:.0%}" for kind, share in sorted(mix.items(), key=lambda kv: -kv[1]))
    print(f"Mix '{args.mix}': {shares}; analysed by a model: "
          + ", ".join(f"{kind} ({MODEL_OF_KIND[kind]})" for kind in mix if kind in MODEL_OF_KIND))
    print("Per study, one core: " + ", ".join(f"{m} {s:.2f} s CPU" for m, s in seconds.items())
          + f", + {args.transfer:g} s fetch and store each; one worker takes "
          + ", ".join(f"{3600 / (s + args.transfer):.0f} {m}/h" for m, s in seconds.items()))
    print(f"Busiest hour = {args.peak_factor:g} x the day's mean hourly rate; workers planned at "
          f"{args.utilisation:.0%} utilisation (x{1 / args.utilisation:g} headroom), rounded up\n")
    print("| studies a day | analysed by a model | of them in the busiest hour | busy workers then | "
          "inference workers (cores) | with a spare |")
    print("| --- | --- | --- | --- | --- | --- |")
    for per_day in (int(d) for d in args.departments.split(",")):
        row = workers_needed(per_day, seconds, mix, transfer=args.transfer, peak_factor=args.peak_factor,
                             utilisation=args.utilisation)
        print(f"| {per_day:,} | {row['ai_per_day']:,.0f} | {row['ai_peak_hour']:,.0f} | {row['busy']:.2f} | "
              f"**{row['workers']}** | {row['workers'] + 1} |")
    print(f"\n{'Measured' if args.measure else 'Printed'} at {load_note()}")


if __name__ == "__main__":
    main()
