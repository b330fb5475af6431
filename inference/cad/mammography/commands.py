"""`train_model mammography` and `evaluate_model mammography`: their options and what they run."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import CommandError

from inference.cad.mammography.model import DEFAULT_THRESHOLD, DEFAULT_WEIGHTS


def add_train_arguments(parser) -> None:
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--small-cases", type=int, default=300,
                        help="generated four-view cases at the small matrix (0.56 mm pixels)")
    parser.add_argument("--standard-cases", type=int, default=50,
                        help="generated four-view cases at the standard matrix (0.28 mm pixels)")
    parser.add_argument("--steps", type=int, default=600, help="optimiser steps")
    parser.add_argument("--batch", type=int, default=16, help="crops per step")
    parser.add_argument("--validation-cases", type=int, default=100,
                        help="further cases (never trained on) the operating threshold is set on; 0 keeps 0.5")
    parser.add_argument("--specificity", type=float, default=0.9,
                        help="case-level specificity on the validation cases at the operating threshold")
    parser.add_argument("--workers", type=int, default=2, help="processes generating cases")
    parser.add_argument("--hard-share", type=float, default=0.0,
                        help="share of training and validation cases drawn from the hard phantom (benign mimics)")
    parser.add_argument("--init", type=Path, default=None, help="fine-tune from these weights instead of from scratch")
    parser.add_argument("--max-lr", type=float, default=2e-3, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--width", type=int, default=24, help="channels of the network's first stride-2 stage")
    parser.add_argument("--benign-channel", action="store_true",
                        help="a fifth output, a benign-mimic heatmap trained on benign_findings; lesion peaks are "
                             "scaled by 1 - benign")
    parser.add_argument("--validation-hard-share", type=float, default=None,
                        help="share of hard phantoms among the validation cases the threshold is set on "
                             "(default: --hard-share)")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)


def train(options: dict, *, out, err) -> None:
    from inference.cad.mammography.train import train_mammography

    if options["small_cases"] + options["standard_cases"] < 8:
        raise CommandError("train on at least eight cases")
    if not 0 <= (options.get("hard_share") or 0.0) <= 1:
        raise CommandError("--hard-share is a fraction between 0 and 1")
    if not 0 < options["specificity"] < 1:
        raise CommandError("--specificity is a fraction between 0 and 1")
    result = train_mammography(seed=options["seed"], small_cases=options["small_cases"],
                               standard_cases=options["standard_cases"], steps=options["steps"],
                               batch=options["batch"], validation_cases=options["validation_cases"],
                               specificity=options["specificity"], out_path=options["out"],
                               workers=options["workers"], hard_share=options.get("hard_share") or 0.0,
                               init=options.get("init"), max_lr=options.get("max_lr") or 2e-3,
                               width=options.get("width") or 24, benign=bool(options.get("benign_channel")),
                               validation_hard_share=options.get("validation_hard_share"), log=out)
    size = result.path.stat().st_size / 1e6
    out(f"saved {result.path} ({size:.2f} MB) in {result.meta['train_seconds']} s")


def add_evaluate_arguments(parser) -> None:
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", default=None,
                        help="comma-separated seeds, --count cases each: per-seed figures, their mean and a "
                             "pooled 95 %% bootstrap CI (overrides --seed)")
    parser.add_argument("--phantom", default="default", choices=["default", "hard"],
                        help="hard: benign mimics, power-law parenchyma, per-case exposure")
    parser.add_argument("--vendor", default="A", choices=["A", "B"], help="acquisition profile of the cases")
    parser.add_argument("--matrix", default="standard", choices=["standard", "small"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--split", default="test", choices=["test", "validation"],
                        help="validation cases (their own seed range) may be used to set the threshold")
    parser.add_argument("--set-threshold-at-specificity", type=float, default=None,
                        help="validation only: store the threshold reaching this case-level specificity")


def evaluate(options: dict, *, out, err) -> None:
    import torch

    from inference.cad.mammography.evaluate import (
        evaluation_seeds,
        markdown_table,
        mimic_type_lines,
        run_cases,
        seeds_table,
        threshold_at_specificity,
    )

    weights, split, set_at = options["weights"], options["split"], options["set_threshold_at_specificity"]
    if set_at is not None and split != "validation":
        raise CommandError("the operating threshold is set on validation cases, never on the test set")
    if not weights.exists():
        raise CommandError(f"no weights at {weights}; run: python manage.py train_model mammography")
    checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
    threshold = float(checkpoint.get("meta", {}).get("threshold", DEFAULT_THRESHOLD))
    seeds = [int(v) for v in options["seeds"].split(",")] if options.get("seeds") else [options["seed"]]
    phantom, vendor = options.get("phantom") or "default", options.get("vendor") or "A"
    results = []
    for group in seeds:
        cases = run_cases(evaluation_seeds(group, options["count"], split=split), matrix=options["matrix"],
                          weights=str(weights), workers=options["workers"], log=err, phantom=phantom, vendor=vendor)
        for case in cases:
            case.seed_group = group
        results += cases
    if set_at is not None:
        threshold = threshold_at_specificity(results, set_at)
        checkpoint.setdefault("meta", {})["threshold"] = threshold
        checkpoint["meta"]["threshold_rule"] = (f"{set_at:.0%} case-level specificity on {options['count']} "
                                               f"validation cases (seed {options['seed']}, matrix {options['matrix']})")
        torch.save(checkpoint, weights)
        err(f"threshold {threshold:.3f} stored in {weights}")
    command = "python manage.py evaluate_model " + " ".join(sys.argv[2:])
    out(markdown_table(results, threshold, matrix=options["matrix"], command=command))
    out("")
    out(f"Phantom \"{phantom}\", vendor profile {vendor}; per seed, mean over seeds, pooled with a 95 % CI "
        "(bootstrap over cases). A case is positive only with a finding that needs recall.")
    out("")
    out("\n".join(seeds_table(results, threshold, seeds)))
    mimics = mimic_type_lines(results, threshold)
    if mimics:
        out("")
        out("\n".join(mimics))
