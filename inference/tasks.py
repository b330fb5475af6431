"""Celery tasks: take an id, re-read the row, call one service. Retries live here."""

from celery import shared_task

from inference.services import analyses_sweep, study_analyse
from worklist.orthanc import OrthancUnavailable


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OrthancUnavailable,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def analyse_study(study_id: int) -> str:
    return study_analyse(study_id)


@shared_task
def sweep_stalled_analyses() -> dict:
    return analyses_sweep()
