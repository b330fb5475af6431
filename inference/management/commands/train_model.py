"""python manage.py train_model <model> [options]: train a built-in CAD model on generated data (CPU).

The defaults of each model reproduce its committed weights; `train_model <model> --help` lists them.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from inference.cad.commands import add_model_subcommands, model_command_modules


class Command(BaseCommand):
    help = "Train a built-in CAD model on synthetic studies (CPU)."

    def add_arguments(self, parser):
        add_model_subcommands(self, parser, "train")

    def handle(self, *args, model: str, **options):
        module = model_command_modules()[model]
        module.train(options, out=self.stdout.write, err=self.stderr.write)
