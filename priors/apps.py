from django.apps import AppConfig


class PriorsConfig(AppConfig):
    name = "priors"
    verbose_name = "Prior reports"

    def ready(self) -> None:
        # Mine every signed mammography report, without reporting knowing about priors: reporting
        # sends report_signed after the signature commits.
        from priors.signals import report_version_signed
        from reporting.signals import report_signed

        report_signed.connect(report_version_signed, dispatch_uid="priors-mine-signed-report")
