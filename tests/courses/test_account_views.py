from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse

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
