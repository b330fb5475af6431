from django.core.management.base import BaseCommand

from priors.models import PriorReport
from priors.services import prior_report_remine


class Command(BaseCommand):
    help = "Mine every stored prior report again (after the mining rules changed); prints how many values changed"

    def handle(self, *args, **options):
        changed = 0
        for prior in PriorReport.objects.order_by("pk").iterator():
            before = (prior.birads, prior.density, prior.laterality, prior.features)
            prior = prior_report_remine(prior=prior)
            changed += before != (prior.birads, prior.density, prior.laterality, prior.features)
        self.stdout.write(f"{PriorReport.objects.count()} reports mined again, {changed} changed")
