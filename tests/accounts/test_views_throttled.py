"""Sign-up and log-in refuse, for a while, what comes too often from one address or for one
account: with a 429, a message on the form, and what was typed kept."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse

from accounts.throttles import client_ip, login_ip_throttle
from tests.factories import UserFactory

SIGNUP = reverse("signup")
LOGIN = reverse("login")
PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
User = get_user_model()


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.SIGNUPS_PER_IP = 2
    settings.SIGNUP_WINDOW = 3600
    settings.LOGIN_FAILURES_PER_IP = 3
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURE_WINDOW = 300
    settings.TRUSTED_PROXY_COUNT = 0


def sign_up(client, username: str, **extra):
    data = {"username": username, "email": f"{username}@example.org"}
    data |= {"password1": "analytical engine 1843", "password2": "analytical engine 1843"}
    return client.post(SIGNUP, data, **extra)


def fail_login(client, username: str, **extra):
    return client.post(LOGIN, {"username": username, "password": "wrong guess"}, **extra)


# Sign-up ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_signup_is_refused_past_the_limit_with_a_message_and_the_typed_values(client):
    for name in ("ada", "grace"):
        assert sign_up(client, name).status_code == 302
        client.logout()

    response = sign_up(client, "linus")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many accounts were created from your network" in html
    assert 'role="alert"' in html
    assert 'value="linus"' in html and 'value="linus@example.org"' in html
    assert not User.objects.filter(username="linus").exists()
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_only_created_accounts_count_towards_the_signup_limit(client):
    for _ in range(5):
        assert sign_up(client, "").status_code == 200  # invalid: no account made

    assert sign_up(client, "ada").status_code == 302


@pytest.mark.django_db
def test_the_signup_limit_is_per_address(client):
    for name in ("ada", "grace"):
        sign_up(client, name, REMOTE_ADDR="203.0.113.1")
        client.logout()

    assert sign_up(client, "linus", REMOTE_ADDR="203.0.113.1").status_code == 429
    assert sign_up(client, "linus", REMOTE_ADDR="203.0.113.2").status_code == 302


@pytest.mark.django_db
def test_a_spoofed_forwarded_header_does_not_escape_the_limit(client):
    for number, name in enumerate(("ada", "grace")):
        sign_up(client, name, HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
        client.logout()

    response = sign_up(client, "linus", HTTP_X_FORWARDED_FOR="198.51.100.99")

    assert response.status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_limit_follows_the_forwarded_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for name in ("ada", "grace"):
        sign_up(client, name, HTTP_X_FORWARDED_FOR="198.51.100.1")
        client.logout()

    assert sign_up(client, "linus", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    # Another learner behind the same proxy is someone else.
    assert sign_up(client, "linus", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


# Log-in ---------------------------------------------------------------------------------------


def test_login_is_refused_after_too_many_failures_even_with_the_right_password(client, learner):
    for _ in range(3):
        assert fail_login(client, learner.username).status_code == 200

    response = client.post(LOGIN, {"username": learner.username, "password": PASSWORD})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many failed log-ins" in html
    assert f'value="{learner.username}"' in html
    assert SESSION_KEY not in client.session


def test_login_works_again_once_the_window_has_passed(client, learner, monkeypatch):
    for _ in range(3):
        fail_login(client, learner.username)
    real_time = time.time
    monkeypatch.setattr("accounts.throttles.time.time", lambda: real_time() + 2 * 300)

    response = client.post(LOGIN, {"username": learner.username, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(learner.pk)


def test_failures_for_one_username_from_many_addresses_lock_that_username(client, learner):
    for number in range(3):
        fail_login(client, learner.username, REMOTE_ADDR=f"203.0.113.{number}")

    response = client.post(
        LOGIN, {"username": learner.username.upper(), "password": PASSWORD}, REMOTE_ADDR="::1"
    )

    assert response.status_code == 429
    other = UserFactory()
    other_login = {"username": other.username, "password": PASSWORD}
    assert client.post(LOGIN, other_login, REMOTE_ADDR="203.0.113.9").status_code == 302


def test_failures_from_one_address_over_many_usernames_lock_that_address(client, learner):
    for number in range(3):
        fail_login(client, f"someone{number}", REMOTE_ADDR="203.0.113.1")

    login = {"username": learner.username, "password": PASSWORD}

    assert client.post(LOGIN, login, REMOTE_ADDR="203.0.113.1").status_code == 429
    assert client.post(LOGIN, login, REMOTE_ADDR="203.0.113.2").status_code == 302


def test_a_successful_login_clears_the_usernames_failures_but_not_the_addresses(
    client, learner, rf
):
    for _ in range(2):
        fail_login(client, learner.username)
    login = {"username": learner.username, "password": PASSWORD}
    assert client.post(LOGIN, login).status_code == 302
    client.logout()

    # The username starts afresh: two more failures from elsewhere do not lock it.
    for number in range(2):
        fail_login(client, learner.username, REMOTE_ADDR=f"203.0.113.{number}")
    assert fail_login(client, learner.username, REMOTE_ADDR="203.0.113.9").status_code == 200
    # The address still remembers its two failures (the third one trips it).
    address = client_ip(rf.get("/"))
    assert login_ip_throttle().count(address) == 2


def test_a_throttled_login_does_not_check_the_password(client, learner, monkeypatch):
    for _ in range(3):
        fail_login(client, learner.username)
    checked: list[str] = []
    monkeypatch.setattr(
        "django.contrib.auth.forms.authenticate",
        lambda request=None, **credentials: checked.append(credentials["username"]),
    )

    assert fail_login(client, learner.username).status_code == 429
    assert checked == []
