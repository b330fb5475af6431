"""Receivers connected in PriorsConfig.ready(); the work is in services."""

import logging

from django.db import transaction

from priors.services import prior_report_record_signed
from reporting.models import ReportVersion

logger = logging.getLogger(__name__)


def report_version_signed(sender, version_id: int, **kwargs) -> None:
    """Receiver of reporting.signals.report_signed, sent after the signature committed (a first
    version or an amendment). Mining must never undo or block a signature: a failure is logged and
    the report can be mined again later."""
    version = ReportVersion.objects.select_related("report__study").filter(pk=version_id).first()
    if version is None:
        return
    try:
        with transaction.atomic():
            prior_report_record_signed(version=version)
    except Exception:  # noqa: BLE001 - the signed report stands; the prior can be mined again later
        logger.exception("could not mine signed report version %s", version_id)
