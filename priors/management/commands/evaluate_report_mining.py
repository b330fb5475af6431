from pathlib import Path

from django.core.management.base import BaseCommand

from priors.evaluation import LABELLED_SET, evaluate, load_labelled, markdown_table


class Command(BaseCommand):
    help = "Accuracy of the mammography report miner on the labelled set, dev and held-out apart (markdown)"

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=LABELLED_SET)
        parser.add_argument("--errors", action="store_true", help="list each miss (dev part only: the held-out "
                                                                   "part is not for tuning)")

    def handle(self, *args, file: Path, errors: bool, **options):
        parts = evaluate(load_labelled(file))
        self.stdout.write(markdown_table(parts))
        if errors and "dev" in parts:
            self.stdout.write("\nDev misses:\n" + "\n".join(parts["dev"].errors or ["none"]))
