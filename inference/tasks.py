"""Celery tasks: take an id, re-read the row, call one service. Retries live here."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from archive.orthanc import OrthancUnavailable
from inference.services import analyses_sweep, series_prefetch_run, study_analyse

PREFETCH_STEP_SECONDS = 0.2  # between two steps of a series still arriving


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


# On a queue of its own ("prefetch"), whose worker runs beside the inference workers and shares
# their disk: decoding the next study never waits behind, nor delays, an analysis. One short step
# at a time, each queueing the next, so several series arriving at once are decoded side by side.
# Not retried and not acknowledged late: a prefetch lost only means the analysis fetches the images.
@shared_task(acks_late=False, ignore_result=True)
def prefetch_series(series_orthanc_id: str, idle_since: float | None = None) -> None:
    idle_since = series_prefetch_run(series_orthanc_id, idle_since=idle_since)
    if idle_since is not None:
        prefetch_series.apply_async((series_orthanc_id, idle_since), countdown=PREFETCH_STEP_SECONDS)
