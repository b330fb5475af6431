"""Receivers connected in PriorsConfig.ready(); the work is in services."""

import logging

from django.db import transaction

from priors.services import prior_report_record_signed

logger = logging.getLogger(__name__)


def report_version_signed(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A ReportVersion is created only when it is signed; mining must never stop a signature."""
    if not created or raw:
        return
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the signing transaction intact
            prior_report_record_signed(version=instance)
    except Exception:  # noqa: BLE001 - the signed report stands; the prior can be mined again later
        logger.exception("could not mine signed report version %s", instance.pk)
