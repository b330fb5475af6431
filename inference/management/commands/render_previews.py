"""Write one preview PNG per synthetic study kind (used in the README)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from inference.synthetic.preview import render_previews


class Command(BaseCommand):
    help = "Render a preview PNG per synthetic study kind (lesion slice where there is one)."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="docs/images")

    def handle(self, *args, **opts):
        for path in render_previews(opts["out"]):
            self.stdout.write(f"wrote {path}")
