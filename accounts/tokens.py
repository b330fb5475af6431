"""API tokens: random keys stored as SHA-256 digests, expiring after API_TOKEN_DAYS, revoked when
the user's password changes. They replace DRF's plain-text, never-expiring authtoken (issue 17).

A SHA-256 of a 256-bit random key needs no salt or slow hash: it cannot be guessed or looked up.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken, User


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(user) -> tuple[str, ApiToken]:
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, digest=token_digest(key),
                                    expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS))
    return key, token


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, as with DRF's tokens, so clients keep working."""

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        if token is None or token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token


@receiver(pre_save, sender=User)
def _revoke_on_password_change(sender, instance: User, **kwargs):
    if instance.pk is None:
        return
    before = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if before is not None and before != instance.password:
        ApiToken.objects.filter(user_id=instance.pk).delete()
