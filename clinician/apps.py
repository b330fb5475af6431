from django.apps import AppConfig


class ClinicianConfig(AppConfig):
    name = "clinician"

    def ready(self) -> None:
        # A study's referring clinicians hear of its changes; worklist sends the signal after
        # commit and does not know clinician exists.
        from clinician.events import study_changed_forward
        from worklist.signals import study_changed

        study_changed.connect(study_changed_forward, dispatch_uid="clinician-forward-study-changed")
