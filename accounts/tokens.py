"""Personal API tokens: create one (the secret is shown once), revoke it, authenticate with it.

Only a SHA-256 hash of each secret is stored. A secret is 32 random bytes, so a fast hash is
the right choice: there is nothing to brute-force, unlike a password. A request's token is
found by its hash through a unique index, so the secret itself is never compared.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken

# The fixed start tells a leaked token apart in logs and secret scanners.
TOKEN_START = "wfc_"  # noqa: S105 (a public marker, not a secret)
PREFIX_LENGTH = 12  # TOKEN_START and 8 random characters, shown to tell tokens apart
MAX_ACTIVE_TOKENS = 20
MAX_NAME_LENGTH = ApiToken._meta.get_field("name").max_length
# Writing last_used on every request would turn each status check into a database write.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be created; the message tells the learner why."""


def token_hash(secret: str) -> str:
    """Return the SHA-256 hex digest stored for a secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for a user; return it and its secret, which is never available again."""
    name = name.strip()
    if not name:
        raise TokenError("Give the token a name, such as the computer you will use it on.")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"Token names can be at most {MAX_NAME_LENGTH} characters long.")
    with transaction.atomic():
        active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise TokenError(
                f"You already have {active} active tokens, the most allowed. "
                "Revoke one you no longer use, then create a new one."
            )
        secret = TOKEN_START + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user, name=name, prefix=secret[:PREFIX_LENGTH], key_hash=token_hash(secret)
        )
    return token, secret


def token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke one of a user's tokens; raise ApiToken.DoesNotExist if it is not theirs."""
    token = ApiToken.objects.get(pk=token_id, user=user)
    if token.revoked_at is None:
        # Conditional, so revoking twice at once keeps the first moment.
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db(fields=["revoked_at"])
    return token


def token_authenticate(secret: str):
    """Return the active user a token secret belongs to, or None; note when it was used."""
    if not secret or not secret.startswith(TOKEN_START):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user
