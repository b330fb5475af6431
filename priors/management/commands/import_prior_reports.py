from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from priors.services import ImportFileError, prior_reports_import, read_prior_report_file


class Command(BaseCommand):
    help = ("Import prior mammography reports (JSON lines or CSV with patient_id, accession, date, modality, text) "
            "and mine each; importing the same accession again updates it")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            rows = read_prior_report_file(file)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        result = prior_reports_import(rows=rows)
        for error in result.errors:
            self.stderr.write(error)
        self.stdout.write(f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged, "
                          f"{len(result.errors)} rejected")
        if result.errors and not (result.created or result.updated or result.unchanged):
            raise CommandError("no row could be imported")
