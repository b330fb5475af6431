import logging
import os
import threading

from celery import Celery
from celery.signals import after_setup_logger, celeryd_init, worker_process_init

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


_WARM = {"models": False}


@celeryd_init.connect
def _note_inference_worker(sender=None, options=None, **kwargs):
    queues = (options or {}).get("queues") or []
    if isinstance(queues, str):
        queues = queues.split(",")
    _WARM["models"] = "inference" in queues


@worker_process_init.connect
def _warm_models(**kwargs):
    # Load the models' weights as soon as an inference worker's process starts, not on its first
    # study: the first study after a (re)start waited 1.5-1.9 s for them (bench_pipeline, quiet).
    # In a thread, so the process takes tasks at once; a task that needs a model meanwhile waits
    # on that model's own lock.
    if _WARM["models"]:
        from inference.cad.registry import models_warm

        threading.Thread(target=models_warm, name="models-warm", daemon=True).start()
