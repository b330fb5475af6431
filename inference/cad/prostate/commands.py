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
    parser.add_argument("--hard-share", type=float, default=0.0,
                        help="share of training and validation studies generated with the hard phantom "
                             "(BPH nodules, DWI distortion, T2 motion); 0 reproduces the original weights")
    parser.add_argument("--vendor", default="A", help="acquisition profile of the generated studies (A or B)")
    parser.add_argument("--init", type=Path, default=None,
                        help="fine-tune from these weights (keeping their post-processing settings; only the "
                             "operating threshold is set again on the validation cases)")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle schedule)")
    parser.add_argument("--align-phase", action="store_true",
                        help="move ADC and DWI onto the T2 along the diffusion phase direction (shift and stretch "
                             "by mutual information) before the network, in training and at inference")
    parser.add_argument("--calibrate-only", action="store_true",
                        help="keep the network in --out and redo only the post-processing settings on the "
                             "validation cases (the last step of training)")


def train(options: dict, *, out, err) -> None:
    from inference.cad.prostate.train import calibrate, phantom_mix, split_seeds, train_prostate
    from inference.synthetic.prostate_mri import VENDORS

    if options["cases"] < 2 or options["validation_cases"] < 2:
        raise CommandError("train on at least two cases and validate on at least two")
    hard_share, vendor = options.get("hard_share") or 0.0, options.get("vendor") or "A"
    if not 0.0 <= hard_share <= 1.0:
        raise CommandError("--hard-share is a share between 0 and 1")
    if vendor not in VENDORS:
        raise CommandError(f"--vendor must be one of {', '.join(sorted(VENDORS))}")
    if options["calibrate_only"]:
        seeds = split_seeds("validation", options["seed"], options["validation_cases"])
        calibrate(options["out"], seeds, workers=options["workers"], fp_per_case=options["fp_per_case"],
                  rule=f"{options['validation_cases']} validation cases (seed {options['seed']}, hard share "
                       f"{hard_share:g}, vendor {vendor})", log=out,
                  phantoms=phantom_mix(options["validation_cases"], hard_share), vendor=vendor)
        return
    result = train_prostate(seed=options["seed"], cases=options["cases"],
                            validation_cases=options["validation_cases"], epochs=options["epochs"],
                            out_path=options["out"], workers=options["workers"], cache=options["cache"],
                            fp_per_case=options["fp_per_case"], hard_share=hard_share, vendor=vendor,
                            init=options.get("init"), lr=options.get("lr") or 3e-3,
                            align_phase=bool(options.get("align_phase")), log=out)
    size = result.path.stat().st_size / 1e6
    out(f"saved {result.path} ({size:.2f} MB) in {result.meta['train_seconds']} s")


def add_evaluate_arguments(parser) -> None:
    from inference.synthetic.prostate_mri import PHANTOMS, VENDORS

    parser.add_argument("--count", type=int, default=60, help="studies per seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", default=None,
                        help="comma-separated seeds, --count studies each: one column per seed and the mean "
                             "over seeds with a bootstrap 95 %% CI (overrides --seed)")
    parser.add_argument("--phantom", default="default", choices=PHANTOMS,
                        help="hard: BPH nodules (benign mimics), DWI distortion and T2 motion")
    parser.add_argument("--vendor", default="A", choices=sorted(VENDORS),
                        help="acquisition profile the studies are generated with (noise, T2 contrast, b-values, ADC)")
    parser.add_argument("--split", default="test", choices=["test", "validation"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)


def evaluate(options: dict, *, out, err) -> None:
    import torch

    from inference.cad.prostate.evaluate import markdown_table, run_cases, seeds_table
    from inference.cad.prostate.train import split_seeds

    if options["count"] < 1:
        raise CommandError("evaluate at least one case")
    checkpoint = torch.load(options["weights"], map_location="cpu", weights_only=True)
    threshold = float(checkpoint.get("meta", {}).get("threshold", DEFAULT_THRESHOLD))
    phantom, vendor = options.get("phantom") or "default", options.get("vendor") or "A"
    command = "python manage.py evaluate_model " + " ".join(sys.argv[2:])
    if options.get("seeds"):
        try:
            groups = dict.fromkeys(int(v) for v in options["seeds"].split(","))
        except ValueError as exc:
            raise CommandError(f"--seeds takes comma-separated integers: {exc}") from exc
        for group in groups:
            groups[group] = run_cases(split_seeds(options["split"], group, options["count"]),
                                      weights=str(options["weights"]), workers=options["workers"], log=err,
                                      phantom=phantom, vendor=vendor)
            for case in groups[group]:
                case.seed_group = group
        out(seeds_table(groups, threshold, command=command, phantom=phantom, vendor=vendor))
        return
    seeds = split_seeds(options["split"], options["seed"], options["count"])
    results = run_cases(seeds, weights=str(options["weights"]), workers=options["workers"], log=err,
                        phantom=phantom, vendor=vendor)
    out(markdown_table(results, threshold, command=command))
