"""`train_model prostate` and `evaluate_model prostate`: their options and what they run."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import CommandError

from inference.cad.prostate.model import DEFAULT_THRESHOLD, DEFAULT_WEIGHTS


def add_train_arguments(parser) -> None:
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", type=int, default=40, help="generated training studies")
    parser.add_argument("--validation-cases", type=int, default=16,
                        help="further studies (own seed range) the epoch and the operating threshold are chosen on")
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--fp-per-case", type=float, default=0.25,
                        help="false positives per validation case at the operating threshold")
    parser.add_argument("--workers", type=int, default=2, help="processes generating studies")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder to keep each generated study's network inputs and targets in")
    parser.add_argument("--calibrate-only", action="store_true",
                        help="keep the network in --out and redo only the post-processing settings on the "
                             "validation cases (the last step of training)")


def train(options: dict, *, out, err) -> None:
    from inference.cad.prostate.train import calibrate, split_seeds, train_prostate

    if options["cases"] < 2 or options["validation_cases"] < 2:
        raise CommandError("train on at least two cases and validate on at least two")
    if options["calibrate_only"]:
        seeds = split_seeds("validation", options["seed"], options["validation_cases"])
        calibrate(options["out"], seeds, workers=options["workers"], fp_per_case=options["fp_per_case"],
                  rule=f"{options['validation_cases']} validation cases (seed {options['seed']})", log=out)
        return
    result = train_prostate(seed=options["seed"], cases=options["cases"],
                            validation_cases=options["validation_cases"], epochs=options["epochs"],
                            out_path=options["out"], workers=options["workers"], cache=options["cache"],
                            fp_per_case=options["fp_per_case"], log=out)
    size = result.path.stat().st_size / 1e6
    out(f"saved {result.path} ({size:.2f} MB) in {result.meta['train_seconds']} s")


def add_evaluate_arguments(parser) -> None:
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", default="test", choices=["test", "validation"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)


def evaluate(options: dict, *, out, err) -> None:
    import torch

    from inference.cad.prostate.evaluate import markdown_table, run_cases
    from inference.cad.prostate.train import split_seeds

    if options["count"] < 1:
        raise CommandError("evaluate at least one case")
    checkpoint = torch.load(options["weights"], map_location="cpu", weights_only=True)
    threshold = float(checkpoint.get("meta", {}).get("threshold", DEFAULT_THRESHOLD))
    seeds = split_seeds(options["split"], options["seed"], options["count"])
    results = run_cases(seeds, weights=str(options["weights"]), workers=options["workers"], log=err)
    command = "python manage.py evaluate_model " + " ".join(sys.argv[2:])
    out(markdown_table(results, threshold, command=command))
