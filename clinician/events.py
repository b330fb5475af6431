"""Live updates of the clinician side, sent after commit over the Channels layer.

Clinicians get only a notice that one of their studies changed (`study.changed` with its id) and
re-read it over HTTP, where `clinician_studies` decides again; the department (radiologists and
managers) gets critical-result acknowledgements and escalations.
"""

from __future__ import annotations

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from rest_framework.utils.encoders import JSONEncoder

DEPARTMENT_GROUP = "clinician.department"
WORKLIST_GROUP = "worklist"
logger = logging.getLogger(__name__)


def clinician_group(user_id: int) -> str:
    return f"clinician.user.{user_id}"


def _send(group: str, message: dict) -> None:
    plain = json.loads(json.dumps(message, cls=JSONEncoder))
    try:
        async_to_sync(get_channel_layer().group_send)(group, plain)
    except Exception:  # noqa: BLE001 - the change is saved; pages re-read over HTTP when they reconnect
        logger.warning("could not send %s to %s", message.get("type"), group, exc_info=True)


def study_changed_forward(sender, study_id: int, **kwargs) -> None:
    """Receiver of worklist.signals.study_changed (connected in ClinicianConfig.ready())."""
    study_forward(study_id)


def study_forward(study_id: int) -> None:
    """A study changed (after commit): tell the study's clinicians (and no one else)."""
    from clinician.selectors import clinicians_of_study
    from worklist.models import Study

    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return
    for user_id in clinicians_of_study(study):
        _send(clinician_group(user_id), {"type": "study.changed", "study_id": study_id})
    if study.critical_results.exists():
        # A critical result was just flagged (or its report amended): the department's list re-reads.
        _send(DEPARTMENT_GROUP, {"type": "study.changed", "study_id": study_id})


def _worklist_consumer_handles(handler: str) -> bool:
    # A message type the worklist consumer has no handler for would close every radiologist's
    # socket (Channels raises in dispatch), so it is sent there only once the handler exists.
    from worklist.consumers import WorklistConsumer

    return hasattr(WorklistConsumer, handler)


def critical_publish(critical_id: int, kind: str) -> None:
    """`kind` is "acknowledged" or "escalated"; goes to the department and to the study's clinicians."""
    from clinician.selectors import clinicians_of_study, critical_result_view
    from reporting.models import CriticalResult

    critical = (CriticalResult.objects.select_related("study", "report_version", "flagged_by", "acknowledged_by")
                .filter(pk=critical_id).first())
    if critical is None:
        return
    message = {"type": f"critical.{kind}", "critical": critical_result_view(critical)}
    _send(DEPARTMENT_GROUP, message)
    if _worklist_consumer_handles(f"critical_{kind}"):
        _send(WORKLIST_GROUP, message)
    for user_id in clinicians_of_study(critical.study):
        _send(clinician_group(user_id), {"type": "study.changed", "study_id": critical.study_id})
