import logging
import os

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("triage_worklist")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
def quieter_task_logs(logger=None, **kwargs):
    # Ingestion ticks every second: "received/succeeded" lines would drown what matters.
    # The application logs each study it ingests or analyses, and failures still show.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    logging.getLogger("celery.worker.strategy").setLevel(logging.WARNING)
    logging.getLogger("celery.beat").setLevel(logging.WARNING)
