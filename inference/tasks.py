"""Celery tasks: take an id, re-read the row, call one service. Retries live here."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from archive.orthanc import OrthancUnavailable
from inference.services import analyses_sweep, study_analyse


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # A task that raises is acknowledged (acks_late only covers a dying worker), so an analysis
    # that met the database restarting was dropped until the sweeper's 15 minutes: retry it like
    # an Orthanc outage. Found by tests/faults/test_database_refused.py.
    autoretry_for=(OrthancUnavailable, OperationalError, InterfaceError),
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
