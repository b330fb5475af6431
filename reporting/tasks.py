"""Signed reports to the archive: right after signing, and again for any the archive missed."""

from celery import shared_task

from archive.orthanc import OrthancUnavailable
from reporting.archive import report_archive, reports_archive_pending


# The name is the one it had under worklist, so messages already queued by an older release run.
@shared_task(name="worklist.tasks.archive_report", acks_late=True, autoretry_for=(OrthancUnavailable,),
             retry_backoff=2, retry_backoff_max=300, max_retries=10)
def archive_report(version_id: int) -> str:
    return report_archive(version_id)


@shared_task
def archive_pending_reports() -> int:
    """Reports signed while the archive or the broker was down are archived on this pass."""
    pending = list(reports_archive_pending())
    for version_id in pending:
        archive_report.delay(version_id)
    return len(pending)
