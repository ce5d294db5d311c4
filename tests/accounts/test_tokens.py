"""Personal API tokens: hashed at rest, shown once, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import tokens
from accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_returns_the_secret_and_stores_only_its_sha256_hash(learner):
    token, secret = tokens.token_create(user=learner, name="laptop")

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in stored.values())
    assert stored["name"] == "laptop"
    assert stored["user_id"] == learner.pk


def test_a_secret_is_long_random_and_marked_and_its_prefix_tells_tokens_apart(learner):
    first, first_secret = tokens.token_create(user=learner, name="one")
    second, second_secret = tokens.token_create(user=learner, name="two")

    assert first_secret.startswith("wfc_")
    assert len(first_secret) >= 40
    assert first_secret != second_secret
    assert first.prefix == first_secret[:12]
    assert first.prefix != second.prefix


def test_the_name_is_trimmed_and_required(learner):
    token, _ = tokens.token_create(user=learner, name="  lab computer ")
    assert token.name == "lab computer"

    with pytest.raises(tokens.TokenError, match="Give the token a name"):
        tokens.token_create(user=learner, name="   ")
    with pytest.raises(tokens.TokenError, match="at most 100 characters"):
        tokens.token_create(user=learner, name="x" * 101)


def test_a_user_may_hold_a_bounded_number_of_active_tokens(learner):
    made = [
        tokens.token_create(user=learner, name=f"t{i}")[0] for i in range(tokens.MAX_ACTIVE_TOKENS)
    ]
    with pytest.raises(tokens.TokenError, match="Revoke one you no longer use"):
        tokens.token_create(user=learner, name="one too many")

    tokens.token_revoke(user=learner, token_id=made[0].pk)
    token, _ = tokens.token_create(user=learner, name="replacement")
    assert token.is_active


def test_authenticate_returns_the_owner_of_a_secret(learner):
    tokens.token_create(user=UserFactory(), name="someone else's")
    _, secret = tokens.token_create(user=learner, name="laptop")

    assert tokens.token_authenticate(secret) == learner


@pytest.mark.parametrize(
    "attempt",
    [
        "",
        "wfc_",
        "wfc_not-a-real-token",
        "not-even-marked",
    ],
)
def test_authenticate_refuses_unknown_secrets(learner, attempt):
    tokens.token_create(user=learner, name="laptop")

    assert tokens.token_authenticate(attempt) is None


def test_authenticate_refuses_a_secret_that_differs_by_one_character(learner):
    _, secret = tokens.token_create(user=learner, name="laptop")
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    assert tokens.token_authenticate(changed) is None


def test_authenticate_refuses_the_stored_hash_itself(learner):
    token, _ = tokens.token_create(user=learner, name="laptop")

    assert tokens.token_authenticate(token.key_hash) is None
    assert tokens.token_authenticate(tokens.TOKEN_START + token.key_hash) is None


def test_authenticate_refuses_a_revoked_token(learner):
    token, secret = tokens.token_create(user=learner, name="laptop")

    tokens.token_revoke(user=learner, token_id=token.pk)

    assert tokens.token_authenticate(secret) is None


def test_authenticate_refuses_the_token_of_a_deactivated_account(learner):
    _, secret = tokens.token_create(user=learner, name="laptop")
    learner.is_active = False
    learner.save()

    assert tokens.token_authenticate(secret) is None


def test_authenticate_notes_when_a_token_was_last_used(learner):
    token, secret = tokens.token_create(user=learner, name="laptop")
    assert token.last_used is None

    before = timezone.now()
    tokens.token_authenticate(secret)

    token.refresh_from_db()
    assert token.last_used is not None
    assert token.last_used >= before


def test_last_used_is_written_at_most_once_a_minute(learner):
    token, secret = tokens.token_create(user=learner, name="laptop")
    recent = timezone.now() - timedelta(seconds=10)
    ApiToken.objects.filter(pk=token.pk).update(last_used=recent)

    tokens.token_authenticate(secret)
    token.refresh_from_db()
    assert token.last_used == recent

    stale = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used=stale)
    tokens.token_authenticate(secret)
    token.refresh_from_db()
    assert token.last_used > stale


def test_revoke_marks_the_token_and_keeps_it_listed(learner):
    token, _ = tokens.token_create(user=learner, name="laptop")

    revoked = tokens.token_revoke(user=learner, token_id=token.pk)

    assert revoked.revoked_at is not None
    assert not revoked.is_active
    assert ApiToken.objects.filter(user=learner).count() == 1


def test_revoking_twice_keeps_the_first_moment(learner):
    token, _ = tokens.token_create(user=learner, name="laptop")
    first = tokens.token_revoke(user=learner, token_id=token.pk).revoked_at

    again = tokens.token_revoke(user=learner, token_id=token.pk)

    assert again.revoked_at == first


def test_a_user_cannot_revoke_another_users_token(learner):
    other = UserFactory()
    token, secret = tokens.token_create(user=other, name="theirs")

    with pytest.raises(ApiToken.DoesNotExist):
        tokens.token_revoke(user=learner, token_id=token.pk)

    token.refresh_from_db()
    assert token.is_active
    assert tokens.token_authenticate(secret) == other
