"""`train_model lung_nodule` and `evaluate_model lung_nodule`: their options and what they run.

Each built-in model keeps its command-line surface in its own package (a `commands` module with
add_train_arguments / train / add_evaluate_arguments / evaluate), so the two management commands
stay a dispatcher and adding a model never edits another model's options.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import CommandError

from inference.cad.lung_nodule.model import DEFAULT_THRESHOLD, DEFAULT_WEIGHTS


def add_train_arguments(parser) -> None:
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scans", type=int, default=48, help="generated scans for the first round")
    parser.add_argument("--epochs", type=int, default=6, help="epochs of the first round")
    parser.add_argument("--mine-scans", type=int, default=96,
                        help="further scans whose negatives the first network scores highest are kept "
                             "(hard-negative mining); 0 trains one round only")
    parser.add_argument("--final-epochs", type=int, default=8, help="epochs of the final network")
    parser.add_argument("--calibration-scans", type=int, default=30,
                        help="further scans (never trained on) the operating threshold is set on; 0 keeps 0.5")
    parser.add_argument("--fp-per-scan", type=float, default=1.0,
                        help="false positives per scan at the operating threshold on the calibration scans")
    parser.add_argument("--workers", type=int, default=2, help="processes generating scans")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder to keep each generated scan's training views in (reruns reuse them)")


def train(options: dict, *, out, err) -> None:
    from inference.cad.lung_nodule.train import train_lung_nodule

    if options["scans"] < 2:
        raise CommandError("train on at least two scans")
    if options["mine_scans"] < 0 or options["calibration_scans"] < 0:
        raise CommandError("--mine-scans and --calibration-scans cannot be negative")
    result = train_lung_nodule(seed=options["seed"], scans=options["scans"], out_path=options["out"],
                               workers=options["workers"], epochs=options["epochs"],
                               mine_scans=options["mine_scans"], final_epochs=options["final_epochs"],
                               calibration_scans=options["calibration_scans"], fp_per_scan=options["fp_per_scan"],
                               cache=options["cache"], log=out)
    size = result.path.stat().st_size / 1e6
    out(f"saved {result.path} ({size:.2f} MB) in {result.meta['train_seconds']} s")


def add_evaluate_arguments(parser) -> None:
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=999)
    parser.add_argument("--seeds", default=None,
                        help="comma-separated seeds, --count scans each, pooled with a bootstrap 95 %% CI and "
                             "one CPM per seed (overrides --seed)")
    parser.add_argument("--matrix", type=int, default=384)
    parser.add_argument("--protocol", default="screening", choices=["screening", "diagnostic"])
    parser.add_argument("--slice-thickness", type=float, default=None,
                        help="generate the scans with this slice thickness and spacing (mm; default: the "
                             "protocol's); the model's envelope is checked too and reported")
    parser.add_argument("--granulomas", type=int, default=0,
                        help="calcified granulomas (benign mimics) added to each scan; marks on them are reported")
    parser.add_argument("--vendor", default="A", choices=["A", "B"],
                        help="acquisition profile of the scans (A: the training profile; B: low dose, sharp kernel)")
    parser.add_argument("--phantom", default="default", choices=["default", "hard"],
                        help="hard: fissures, benign perifissural nodules, vessel bifurcations at nodule scale, "
                             "emphysema and breathing motion in every scan; marks on the benign mimics are "
                             "false positives and reported per kind")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--split", default="test", choices=["test", "validation"],
                        help="validation scans (their own seed range) may be used to set the threshold")
    parser.add_argument("--set-threshold-at-fp", type=float, default=None,
                        help="validation only: store the threshold reaching this many FP/scan in the weights")


def evaluate(options: dict, *, out, err) -> None:
    import torch

    from inference.cad.lung_nodule.evaluate import evaluation_seeds, markdown_table, run_scans, threshold_at

    weights, split, set_at = options["weights"], options["split"], options["set_threshold_at_fp"]
    matrix, protocol, count, seed = options["matrix"], options["protocol"], options["count"], options["seed"]
    if set_at is not None and split != "validation":
        raise CommandError("the operating threshold is set on validation scans, never on the test set")
    checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
    threshold = float(checkpoint.get("meta", {}).get("threshold", DEFAULT_THRESHOLD))
    thickness = options.get("slice_thickness")
    seeds = [int(v) for v in options["seeds"].split(",")] if options.get("seeds") else [seed]
    results = []
    for group in seeds:
        scans = run_scans(evaluation_seeds(group, count, split=split), matrix=matrix, protocol=protocol,
                          weights=str(weights), workers=options["workers"], log=err, slice_thickness=thickness,
                          granulomas=options.get("granulomas") or 0, vendor=options.get("vendor") or "A",
                          phantom=options.get("phantom") or "default")
        for scan in scans:
            scan.seed_group = group
        results += scans
    if set_at is not None:
        threshold = threshold_at(results, set_at)
        checkpoint.setdefault("meta", {})["threshold"] = threshold
        checkpoint["meta"]["threshold_rule"] = (f"{set_at:g} FP/scan on {count} validation scans "
                                               f"(seed {seed}, matrix {matrix})")
        torch.save(checkpoint, weights)
        err(f"threshold {threshold:.3f} stored in {weights}")
    command = "python manage.py evaluate_model " + " ".join(sys.argv[2:])
    out(markdown_table(results, threshold, matrix=matrix, protocol=protocol, command=command,
                       slice_thickness=thickness, seeds=seeds if len(seeds) > 1 else None,
                       vendor=options.get("vendor") or "A", phantom=options.get("phantom") or "default"))
