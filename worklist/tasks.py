"""Periodic ingestion from the archive's change feed."""

import logging

import redis
from celery import shared_task
from django.conf import settings

from archive.orthanc import OrthancUnavailable
from worklist.ingest import orthanc_changes_follow
from worklist.services import escalations_check, studies_reprioritise

logger = logging.getLogger(__name__)


@shared_task(acks_late=False)
def follow_orthanc_changes() -> int:
    # One follower at a time; if the lock is lost (Redis restarted) two may overlap, which
    # idempotent ingestion tolerates.
    lock = redis.Redis.from_url(settings.REDIS_URL).lock("lock:follow-orthanc-changes", timeout=600)
    if not lock.acquire(blocking=False):
        return 0
    try:
        return orthanc_changes_follow()
    except OrthancUnavailable as exc:
        logger.warning("change feed not read: %s", exc)
        return 0
    finally:
        try:
            lock.release()
        except redis.exceptions.RedisError:
            pass


@shared_task
def escalate_overdue_studies() -> dict:
    return escalations_check()


@shared_task
def reprioritise_open_studies() -> int:
    return studies_reprioritise()
