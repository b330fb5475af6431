"""python manage.py evaluate_model <model> [options]: score a built-in model on held-out generated studies."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from inference.cad.commands import add_model_subcommands, model_command_modules


class Command(BaseCommand):
    help = "Score a built-in CAD model on generated studies it never saw (markdown table)."

    def add_arguments(self, parser):
        add_model_subcommands(self, parser, "evaluate")

    def handle(self, *args, model: str, **options):
        module = model_command_modules()[model]
        module.evaluate(options, out=self.stdout.write, err=self.stderr.write)
