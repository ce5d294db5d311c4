"""The account pages: sign up, log in, log out, and the API tokens page (list, create with
the secret shown once, revoke with confirmation)."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django.urls import reverse

from accounts import tokens
from accounts.models import ApiToken
from tests.factories import ApiTokenFactory

SIGNUP = reverse("signup")
LOGIN = reverse("login")
LOGOUT = reverse("logout")
CATALOG = reverse("courses:catalog")

User = get_user_model()


def signup_data(**overrides) -> dict[str, str]:
    data = {
        "username": "ada",
        "email": "",
        "password1": "analytical engine 1843",
        "password2": "analytical engine 1843",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_signup_page_renders_the_form(client):
    html = client.get(SIGNUP).content.decode()

    assert 'name="username"' in html
    assert 'name="email"' in html
    assert 'name="password1"' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.django_db
def test_signup_creates_the_user_and_logs_them_in(client):
    response = client.post(SIGNUP, signup_data())

    assert response.status_code == 302
    assert response.url == CATALOG
    user = User.objects.get(username="ada")
    assert client.session[SESSION_KEY] == str(user.pk)
    assert user.check_password("analytical engine 1843")
    assert not user.is_staff


@pytest.mark.django_db
def test_signup_welcomes_the_new_learner(client):
    response = client.post(SIGNUP, signup_data(), follow=True)

    assert "Welcome, ada! Your account is ready." in response.content.decode()


@pytest.mark.django_db
def test_signup_stores_an_optional_email(client):
    client.post(SIGNUP, signup_data(email="ada@example.org"))

    assert User.objects.get(username="ada").email == "ada@example.org"


@pytest.mark.django_db
def test_signup_redirects_to_next(client):
    response = client.post(SIGNUP, {**signup_data(), "next": "/courses/web/"})

    assert response.url == "/courses/web/"


@pytest.mark.django_db
def test_signup_ignores_a_next_on_another_site(client):
    response = client.post(SIGNUP, {**signup_data(), "next": "https://evil.example/"})

    assert response.url == CATALOG


@pytest.mark.django_db
def test_bad_signup_shows_errors_and_keeps_the_username(client):
    response = client.post(SIGNUP, signup_data(password2="something else entirely"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "The two password fields didn\u2019t match." in html
    assert 'value="ada"' in html
    assert not User.objects.filter(username="ada").exists()
    assert SESSION_KEY not in client.session


def test_signup_rejects_a_taken_username(client, learner):
    response = client.post(SIGNUP, signup_data(username=learner.username))

    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()


def test_signup_sends_logged_in_users_on(learner_client):
    response = learner_client.get(SIGNUP)

    assert response.status_code == 302
    assert response.url == CATALOG


def test_login_logs_the_learner_in_and_follows_next(client, learner):
    response = client.post(
        LOGIN,
        {"username": learner.username, "password": "correct horse battery", "next": "/courses/x/"},
    )

    assert response.status_code == 302
    assert response.url == "/courses/x/"
    assert client.session[SESSION_KEY] == str(learner.pk)


def test_login_with_a_wrong_password_explains_and_keeps_the_username(client, learner):
    response = client.post(LOGIN, {"username": learner.username, "password": "wrong"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Please enter a correct username and password." in html
    assert f'value="{learner.username}"' in html


def test_logout_by_post_logs_out(learner_client):
    response = learner_client.post(LOGOUT)

    assert response.status_code == 302
    assert response.url == CATALOG
    assert SESSION_KEY not in learner_client.session


def test_logout_by_get_asks_first_and_keeps_the_session(learner_client, learner):
    response = learner_client.get(LOGOUT)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"You are logged in as <strong>{learner.username}</strong>" in html
    assert '<form method="post" action="/accounts/logout/"' in html
    assert learner_client.session[SESSION_KEY] == str(learner.pk)


# Look-alike and hidden characters in usernames

LOOK_ALIKES = [
    ("teacher", "t\u0435acher"),  # Cyrillic small ie
    ("teacher", "\u0422eacher"),  # Cyrillic capital te, and another case
    ("paypal", "paypa1"),
    ("modern", "rnodern"),
    ("admin", "\u0430dmin"),  # Cyrillic small a
]


@pytest.mark.parametrize(("taken", "username"), LOOK_ALIKES)
@pytest.mark.django_db
def test_signup_refuses_a_username_that_looks_like_a_taken_one(client, taken, username):
    User.objects.create_user(username=taken, password="x")

    response = client.post(SIGNUP, signup_data(username=username))

    assert response.status_code == 200
    assert "looks too much like one that is already taken" in response.content.decode()
    assert list(User.objects.values_list("username", flat=True)) == [taken]
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_signup_accepts_usernames_that_are_told_apart(client):
    User.objects.create_user(username="teacher", password="x")

    for username in ("teachers", "jos\u00e9", "\u0432\u0430\u0441\u044f", "ada_1"):
        client.post(SIGNUP, signup_data(username=username))
        client.logout()

    assert set(User.objects.values_list("username", flat=True)) == {
        "teacher",
        "teachers",
        "jos\u00e9",
        "\u0432\u0430\u0441\u044f",
        "ada_1",
    }


@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("ada\u202e", "U+202E"),
        ("a\u200bda", "U+200B"),
        ("\u2066ada", "U+2066"),
        ("ada\x1b", "U+001B"),
        ("ad\u00ada", "U+00AD"),
    ],
)
@pytest.mark.django_db
def test_signup_refuses_invisible_characters_in_a_username(client, username, code):
    response = client.post(SIGNUP, signup_data(username=username))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"A username cannot contain invisible or control characters (it contains {code})" in html
    assert not User.objects.exists()


@pytest.mark.parametrize("next_url", ["0", "catalog", "courses:catalog", "javascript:alert(1)"])
def test_signup_sends_logged_in_users_to_the_catalog_for_a_next_that_is_not_a_path(
    learner_client, next_url
):
    response = learner_client.post(SIGNUP, {"next": next_url})

    assert response.status_code == 302
    assert response.url == CATALOG


# The API tokens page

TOKENS_URL = "/accounts/tokens/"


def revoke_url(token: ApiToken) -> str:
    return reverse("accounts:token_revoke", kwargs={"pk": token.pk})


def test_the_page_lives_in_the_account_settings():
    assert reverse("accounts:tokens") == TOKENS_URL
    assert reverse("accounts:token_revoke", kwargs={"pk": 7}) == "/accounts/tokens/7/revoke/"


def test_the_page_asks_to_log_in_first(client):
    response = client.get(TOKENS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_lists_the_users_own_tokens_without_their_secrets(learner_client, learner):
    mine, my_secret = tokens.token_create(user=learner, name="laptop")
    revoked, _ = tokens.token_create(user=learner, name="old desktop")
    tokens.token_revoke(user=learner, token_id=revoked.pk)
    ApiTokenFactory(name="borrowed phone")

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


def test_the_new_secret_comes_with_a_ready_to_paste_command_for_this_site(learner_client):
    response = learner_client.post(TOKENS_URL, {"name": "laptop"})

    example = response.context["example"]
    secret = response.context["secret"]
    assert "export COURSE_URL=http://testserver\n" in example
    assert f"export COURSE_TOKEN={secret}\n" in example
    assert "python3 -m zipfile -c hello.zip my-hello-app/" in example
    assert '"$COURSE_URL/api/exercises/hello/submissions/?framework=flask&wait=1"' in example
    assert response.context["example_slug"] == "hello"


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
    token = ApiTokenFactory(secret="wfc_theirs-0123456789")

    response = getattr(learner_client, method)(revoke_url(token))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_active
    assert tokens.token_authenticate("wfc_theirs-0123456789") == token.user


def test_revoking_needs_a_login(client, learner):
    token, _ = tokens.token_create(user=learner, name="laptop")

    response = client.post(revoke_url(token))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.is_active
