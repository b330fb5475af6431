"""python manage.py train_model lung_nodule --seed 0: train a built-in CAD model on generated data."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inference.cad.lung_nodule.model import DEFAULT_WEIGHTS


class Command(BaseCommand):
    help = "Train a built-in CAD model on synthetic studies (CPU)."

    def add_arguments(self, parser):
        parser.add_argument("model", choices=["lung_nodule"])
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--scans", type=int, default=48, help="generated training scans")
        parser.add_argument("--epochs", type=int, default=6)
        parser.add_argument("--workers", type=int, default=2, help="processes generating scans")
        parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
        parser.add_argument("--cache", type=Path, default=None,
                            help="folder to keep each generated scan's training views in (reruns reuse them)")

    def handle(self, *args, model: str, seed: int, scans: int, epochs: int, workers: int, out: Path,
               cache: Path | None, **options):
        from inference.cad.lung_nodule.train import train_lung_nodule

        if scans < 2:
            raise CommandError("train on at least two scans")
        result = train_lung_nodule(seed=seed, scans=scans, out_path=out, workers=workers, epochs=epochs, cache=cache,
                                   log=lambda line: self.stdout.write(line))
        size = result.path.stat().st_size / 1e6
        seconds = result.meta["train_seconds"]
        self.stdout.write(self.style.SUCCESS(f"saved {result.path} ({size:.2f} MB) in {seconds} s"))
