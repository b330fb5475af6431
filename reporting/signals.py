"""Signals reporting sends to the apps above it, always after the transaction that caused them commits.

The subscriber knows the sender, never the reverse (docs/architecture.md): priors mines signed
reports by connecting to `report_signed` in its AppConfig.ready(); reporting does not import priors.
A signature that rolls back sends nothing.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

from reporting.models import ReportVersion

logger = logging.getLogger(__name__)

# A report version was signed, the first one or an amendment. Keyword arguments: version_id,
# study_id, amended (bool). Receivers re-read what they need: they run after commit, outside it.
report_signed = Signal()


def report_signed_on_commit(*, version_id: int, study_id: int, amended: bool) -> None:
    """Send `report_signed` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _send(version_id=version_id, study_id=study_id, amended=amended))


def _send(*, version_id: int, study_id: int, amended: bool) -> None:
    # The report is signed and committed: a receiver that fails is logged, never allowed to stop
    # the other receivers or the response.
    results = report_signed.send_robust(sender=ReportVersion, version_id=version_id, study_id=study_id,
                                        amended=amended)
    for receiver, result in results:
        if isinstance(result, Exception):
            logger.error("report_signed receiver %r failed for version %s", receiver, version_id,
                         exc_info=(type(result), result, result.__traceback__))
