from django.apps import AppConfig


class PriorsConfig(AppConfig):
    name = "priors"
    verbose_name = "Prior reports"

    def ready(self) -> None:
        # Mine every signed mammography report, without the worklist app knowing about priors.
        from django.db.models.signals import post_save

        from priors.signals import report_version_signed
        from reporting.models import ReportVersion

        post_save.connect(report_version_signed, sender=ReportVersion, dispatch_uid="priors-mine-signed-report")
