"""Time synthetic study generation per kind: median of N runs and peak RSS, one process per kind.

    python bench/bench_generate.py            # all kinds, 3 runs each, default sizes
    python bench/bench_generate.py --runs 5 --kinds chest_ct
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import load_note  # bench/ is the script directory, so on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(kind: str, runs: int) -> dict:
    from inference.synthetic import generate_study

    times, instances = [], 0
    for seed in range(runs):
        start = time.perf_counter()
        study = generate_study(kind, seed=seed)
        times.append(time.perf_counter() - start)
        instances = len(study.datasets)
        del study
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    return {"kind": kind, "runs": runs, "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3), "instances": instances, "peak_rss_mb": round(peak_mb, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kinds", nargs="*", default=None)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.runs)))
        return
    from inference.synthetic import STUDY_KINDS

    print(f"{'kind':<14}{'median s':>10}{'min s':>8}{'instances':>11}{'peak RSS MB':>13}")
    for kind in args.kinds or STUDY_KINDS:
        # A fresh process per kind so peak RSS belongs to that kind alone.
        out = subprocess.run([sys.executable, __file__, "--one", kind, "--runs", str(args.runs)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['kind']:<14}{r['median_s']:>10.2f}{r['min_s']:>8.2f}{r['instances']:>11}{r['peak_rss_mb']:>13.0f}")
    print(f"\n{load_note()}")


if __name__ == "__main__":
    main()
