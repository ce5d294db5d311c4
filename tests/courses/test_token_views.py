"""The API token page: list, create (secret shown once), revoke with confirmation."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from courses import tokens
from courses.models import ApiToken
from tests.factories import ExerciseFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKENS_URL = "/accounts/tokens/"


def revoke_url(token: ApiToken) -> str:
    return reverse("courses:token_revoke", kwargs={"pk": token.pk})


def test_the_page_lives_in_the_account_settings():
    assert reverse("courses:tokens") == TOKENS_URL
    assert reverse("courses:token_revoke", kwargs={"pk": 7}) == "/accounts/tokens/7/revoke/"


def test_the_page_asks_to_log_in_first(client):
    response = client.get(TOKENS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_lists_the_users_own_tokens_without_their_secrets(learner_client, learner):
    mine, my_secret = tokens.token_create(user=learner, name="laptop")
    revoked, _ = tokens.token_create(user=learner, name="old desktop")
    tokens.token_revoke(user=learner, token_id=revoked.pk)
    tokens.token_create(user=UserFactory(), name="borrowed phone")

    response = learner_client.get(TOKENS_URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "laptop" in page
    assert f"{mine.prefix}…" in page
    assert "Active" in page
    assert "old desktop" in page
    assert "Revoked" in page
    assert "Never" in page  # last used
    assert "borrowed phone" not in page
    assert my_secret not in page
    assert mine.key_hash not in page
    assert revoke_url(mine) in page
    assert revoke_url(revoked) not in page  # nothing left to revoke


def test_creating_a_token_shows_its_secret_once(learner_client, learner):
    response = learner_client.post(TOKENS_URL, {"name": "laptop"})

    assert response.status_code == 201
    token = ApiToken.objects.get(user=learner)
    secret = response.context["secret"]
    assert token.name == "laptop"
    assert token.key_hash == tokens.token_hash(secret)
    page = response.content.decode()
    assert secret in page
    assert "shown only this once" in page
    assert "no-store" in response["Cache-Control"]

    again = learner_client.get(TOKENS_URL)
    assert secret not in again.content.decode()
    assert token.prefix in again.content.decode()


def test_the_new_secret_comes_with_a_ready_to_paste_command_for_this_site(learner_client, learner):
    ExerciseFactory(slug="hello", frameworks=["flask", "django", "fastapi"])

    response = learner_client.post(TOKENS_URL, {"name": "laptop"})

    example = response.context["example"]
    secret = response.context["secret"]
    assert "export COURSE_URL=http://testserver\n" in example
    assert f"export COURSE_TOKEN={secret}\n" in example
    assert "python3 -m zipfile -c hello.zip my-hello-app/" in example
    assert '"$COURSE_URL/api/exercises/hello/submissions/?framework=flask&wait=1"' in example
    assert response.context["example_slug"] == "hello"


def test_the_command_names_another_exercise_when_there_is_no_hello(learner_client):
    ExerciseFactory(slug="notes-api", frameworks=["fastapi"])

    response = learner_client.post(TOKENS_URL, {"name": "laptop"})

    assert (
        "/api/exercises/notes-api/submissions/?framework=fastapi&wait=1"
        in (response.context["example"])
    )


def test_a_token_needs_a_name(learner_client, learner):
    response = learner_client.post(TOKENS_URL, {"name": "  "})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.filter(user=learner).exists()


def test_the_limit_on_active_tokens_is_explained_on_the_form(learner_client, learner):
    for i in range(tokens.MAX_ACTIVE_TOKENS):
        tokens.token_create(user=learner, name=f"t{i}")

    response = learner_client.post(TOKENS_URL, {"name": "one more"})

    assert response.status_code == 400
    assert "Revoke one you no longer use" in response.content.decode()
    assert ApiToken.objects.filter(user=learner).count() == tokens.MAX_ACTIVE_TOKENS


def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    token, _ = tokens.token_create(user=learner, name="laptop")

    assert "csrfmiddlewaretoken" in client.get(TOKENS_URL).content.decode()
    assert "csrfmiddlewaretoken" in client.get(revoke_url(token)).content.decode()
    assert client.post(TOKENS_URL, {"name": "sneaky"}).status_code == 403
    assert client.post(revoke_url(token)).status_code == 403

    assert list(ApiToken.objects.values_list("name", flat=True)) == ["laptop"]
    token.refresh_from_db()
    assert token.is_active


def test_revoking_asks_for_confirmation_first(learner_client, learner):
    token, _ = tokens.token_create(user=learner, name="laptop")

    response = learner_client.get(revoke_url(token))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Revoke “laptop”?" in page
    assert f'action="{revoke_url(token)}"' in page
    assert 'method="post"' in page
    token.refresh_from_db()
    assert token.is_active


def test_revoking_stops_the_token_and_says_so(learner_client, learner):
    token, secret = tokens.token_create(user=learner, name="laptop")

    response = learner_client.post(revoke_url(token), follow=True)

    token.refresh_from_db()
    assert not token.is_active
    assert tokens.token_authenticate(secret) is None
    assert response.redirect_chain == [(TOKENS_URL, 302)]
    assert "The token “laptop” is revoked" in response.content.decode()


def test_the_confirmation_page_of_a_revoked_token_says_it_is_revoked(learner_client, learner):
    token, _ = tokens.token_create(user=learner, name="laptop")
    tokens.token_revoke(user=learner, token_id=token.pk)

    page = learner_client.get(revoke_url(token)).content.decode()

    assert "already revoked" in page
    assert "Revoke the token</button>" not in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_users_token_cannot_be_seen_or_revoked(learner_client, method):
    other = UserFactory()
    token, secret = tokens.token_create(user=other, name="theirs")

    response = getattr(learner_client, method)(revoke_url(token))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_active
    assert tokens.token_authenticate(secret) == other


def test_revoking_needs_a_login(client, learner):
    token, _ = tokens.token_create(user=learner, name="laptop")

    response = client.post(revoke_url(token))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.is_active
