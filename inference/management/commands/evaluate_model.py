"""python manage.py evaluate_model lung_nodule --count 100 --seed 999: FROC / CPM on held-out scans."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from django.core.management.base import BaseCommand, CommandError

from inference.cad.lung_nodule.model import DEFAULT_THRESHOLD, DEFAULT_WEIGHTS


class Command(BaseCommand):
    help = "Score a built-in CAD model on generated studies it never saw (markdown table)."

    def add_arguments(self, parser):
        parser.add_argument("model", choices=["lung_nodule"])
        parser.add_argument("--count", type=int, default=100)
        parser.add_argument("--seed", type=int, default=999)
        parser.add_argument("--matrix", type=int, default=384)
        parser.add_argument("--protocol", default="screening", choices=["screening", "diagnostic"])
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
        parser.add_argument("--split", default="test", choices=["test", "validation"],
                            help="validation scans (their own seed range) may be used to set the threshold")
        parser.add_argument("--set-threshold-at-fp", type=float, default=None,
                            help="validation only: store the threshold reaching this many FP/scan in the weights")

    def handle(self, *args, model, count, seed, matrix, protocol, workers, weights, split, set_threshold_at_fp,
               **options):
        from inference.cad.lung_nodule.evaluate import evaluation_seeds, markdown_table, run_scans, threshold_at

        if set_threshold_at_fp is not None and split != "validation":
            raise CommandError("the operating threshold is set on validation scans, never on the test set")
        checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
        threshold = float(checkpoint.get("meta", {}).get("threshold", DEFAULT_THRESHOLD))
        results = run_scans(evaluation_seeds(seed, count, split=split), matrix=matrix, protocol=protocol,
                            weights=str(weights), workers=workers, log=lambda line: self.stderr.write(line))
        if set_threshold_at_fp is not None:
            threshold = threshold_at(results, set_threshold_at_fp)
            checkpoint.setdefault("meta", {})["threshold"] = threshold
            checkpoint["meta"]["threshold_rule"] = (f"{set_threshold_at_fp:g} FP/scan on {count} validation scans "
                                                   f"(seed {seed}, matrix {matrix})")
            torch.save(checkpoint, weights)
            self.stderr.write(f"threshold {threshold:.3f} stored in {weights}")
        command = "python manage.py evaluate_model " + " ".join(sys.argv[2:])
        self.stdout.write(markdown_table(results, threshold, matrix=matrix, protocol=protocol, command=command))
