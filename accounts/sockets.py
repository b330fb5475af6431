"""Open websockets end with the session that opened them: on logout, deactivation or a role change.

Each socket joins its user's group (``user_group``); these signal handlers send that group a
``session.end`` message and the consumers close (code 4401, the client goes to the login page).
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.models import User

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def user_sockets_close(user_id: int, reason: str) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(user_group(user_id), {"type": "session.end", "reason": reason})
    except Exception:  # noqa: BLE001 - the change is made; a socket left open still fails its next REST read
        logger.warning("could not close the websockets of user %s", user_id, exc_info=True)


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        user_sockets_close(user.pk, "logged out")


@receiver(pre_save, sender=User)
def _remember_access(sender, instance: User, **kwargs):
    instance._access_before = (
        User.objects.filter(pk=instance.pk).values("role", "is_active").first() if instance.pk else None
    )


@receiver(post_save, sender=User)
def _on_access_change(sender, instance: User, created: bool, **kwargs):
    before = getattr(instance, "_access_before", None)
    if created or before is None:
        return
    if before["role"] != instance.role or (before["is_active"] and not instance.is_active):
        user_id = instance.pk
        transaction.on_commit(lambda: user_sockets_close(user_id, "access changed"))
