"""Signals worklist sends to the apps above it, after the change they report has committed.

`study_changed` leaves `worklist.events.study_publish`, which runs only from
`transaction.on_commit` (worklist.services.study_publish_on_commit). clinician connects to it in
ClinicianConfig.ready() to tell a study's referring clinicians; worklist does not import clinician.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# A study's row changed (claimed, released, prioritised, reported, amended...). Keyword argument:
# study_id. Receivers re-read the study; the change is committed.
study_changed = Signal()


def study_changed_send(study_id: int) -> None:
    """Call after commit. A receiver that fails is logged; the saved change stands."""
    from worklist.models import Study  # as in worklist.events: importable before the app registry is ready

    for receiver, result in study_changed.send_robust(sender=Study, study_id=study_id):
        if isinstance(result, Exception):
            logger.warning("study_changed receiver %r failed for study %s", receiver, study_id,
                           exc_info=(type(result), result, result.__traceback__))
