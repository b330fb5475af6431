from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "worklist"

    def ready(self) -> None:
        # The analysis pipeline changes a study's status through worklist's own service (events,
        # alerts), handed over here so that inference never imports worklist (inference.studies).
        from inference.studies import study_owner_register
        from worklist.models import StudyStatus
        from worklist.services import study_set_status

        study_owner_register(set_status=study_set_status, statuses=StudyStatus)
