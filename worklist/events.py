"""Push study changes to connected browsers over the Channels layer.

The websocket is a notification channel (Channels' layer is at-most-once): a client that
reconnects re-reads the worklist over REST, so a lost message costs a refresh, not a study.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from worklist.signals import study_changed_send

WORKLIST_GROUP = "worklist"
logger = logging.getLogger(__name__)


def study_publish(study_id: int) -> None:
    from worklist.models import Study
    from worklist.page_cache import worklist_version_bump
    from worklist.rows import study_row

    # Committed already; bumped again so that a browser re-reading on this push never gets a page
    # cached before the change (worklist.page_cache), whatever order the commit's callbacks ran in.
    worklist_version_bump()
    study = Study.objects.select_related("claimed_by").filter(pk=study_id).first()
    if study is None:
        return
    # The same row, from the same serialiser, as the REST worklist lists (worklist.rows).
    message = {"type": "study.updated", "study": study_row(study)}
    try:
        async_to_sync(get_channel_layer().group_send)(WORKLIST_GROUP, message)
    except Exception:  # noqa: BLE001 - a dead channel layer must not fail the change that was saved
        logger.warning("could not publish update of study %s", study_id, exc_info=True)
    # The apps above worklist (clinician: the study's referring clinicians) subscribe to this.
    study_changed_send(study_id)


def alert_publish(alert_id: int) -> None:
    from worklist.models import Alert
    from worklist.serializers import AlertSerializer

    alert = Alert.objects.select_related("study").filter(pk=alert_id).first()
    if alert is None:
        return
    try:
        async_to_sync(get_channel_layer().group_send)(
            WORKLIST_GROUP, _jsonable({"type": "alert.raised", "alert": AlertSerializer(alert).data})
        )
    except Exception:  # noqa: BLE001 - the alert is stored; the page also lists open alerts over REST
        logger.warning("could not publish alert %s", alert_id, exc_info=True)


def _jsonable(message: dict) -> dict:
    # DRF data holds OrderedDicts and ReturnDicts; msgpack in channels_redis wants plain types.
    import json

    from rest_framework.utils.encoders import JSONEncoder

    return json.loads(json.dumps(message, cls=JSONEncoder))
