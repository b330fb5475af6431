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

        # Every write to a study or a user (a claiming reader's name is in the rows) moves the
        # version that cached worklist pages are kept under (worklist.page_cache).
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from worklist.models import Study
        from worklist.page_cache import changed

        for model in (Study, get_user_model()):
            post_save.connect(changed, sender=model, dispatch_uid=f"worklist-version-save-{model._meta.label}")
            post_delete.connect(changed, sender=model, dispatch_uid=f"worklist-version-delete-{model._meta.label}")
