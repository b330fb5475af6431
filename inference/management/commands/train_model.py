"""python manage.py train_model lung_nodule --seed 0: train a built-in CAD model on generated data.

The defaults reproduce the committed weights: every round (first network, hard-negative mining,
final network, threshold calibration) runs in this one command.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inference.cad.lung_nodule.model import DEFAULT_WEIGHTS


class Command(BaseCommand):
    help = "Train a built-in CAD model on synthetic studies (CPU)."

    def add_arguments(self, parser):
        parser.add_argument("model", choices=["lung_nodule"])
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

    def handle(self, *args, model: str, seed: int, scans: int, epochs: int, mine_scans: int, final_epochs: int,
               calibration_scans: int, fp_per_scan: float, workers: int, out: Path, cache: Path | None,
               **options):
        from inference.cad.lung_nodule.train import train_lung_nodule

        if scans < 2:
            raise CommandError("train on at least two scans")
        if mine_scans < 0 or calibration_scans < 0:
            raise CommandError("--mine-scans and --calibration-scans cannot be negative")
        result = train_lung_nodule(seed=seed, scans=scans, out_path=out, workers=workers, epochs=epochs,
                                   mine_scans=mine_scans, final_epochs=final_epochs,
                                   calibration_scans=calibration_scans, fp_per_scan=fp_per_scan, cache=cache,
                                   log=lambda line: self.stdout.write(line))
        size = result.path.stat().st_size / 1e6
        seconds = result.meta["train_seconds"]
        self.stdout.write(self.style.SUCCESS(f"saved {result.path} ({size:.2f} MB) in {seconds} s"))
