from __future__ import annotations

import json
import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from courses.models import Enrolment
from grading.interactive import INTERACTIVE_QUEUE, LIVE_REQUESTS
from playground import live
from tests.factories import CourseFactory, ExerciseFactory, UserFactory
from tests.playground.live_helpers import (
    StandInHost,
    hello_files,
    sent_live_jobs,
    set_host_state,
)

UNKNOWN = "0" * 32


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def page_json(html: str, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1))


def start_url(exercise) -> str:
    return reverse("playground:live_start", kwargs={"exercise": exercise.slug})


def session_url(name: str, session: str) -> str:
    return reverse(f"playground:live_{name}", kwargs={"session": session})


def start(client, exercise, **data):
    body = {"framework": "flask", "files": hello_files(), **data}
    return post_json(client, start_url(exercise), body)


@pytest.fixture
def started(live_redis, learner_client, hello_exercise) -> str:
    response = start(learner_client, hello_exercise)
    assert response.status_code == 200, response.content
    return response.json()["session"]


# Who may ------------------------------------------------------------------------------------


def test_anonymous_visitors_may_not_start_or_follow_an_app(live_redis, client, hello_exercise):
    response = start(client, hello_exercise)
    assert response.status_code == 403
    assert "Sign in again" in response.json()["error"]
    assert live_redis.llen(INTERACTIVE_QUEUE) == 0
    state = client.get(session_url("state", UNKNOWN))
    assert state.status_code == 302 and "/login" in state["Location"]
    for name in ("request", "routes", "stop"):
        assert post_json(client, session_url(name, UNKNOWN), {}).status_code == 403


def test_another_learner_gets_404_for_someone_elses_app(live_redis, started, hello_exercise):
    other = Client()
    other.force_login(UserFactory())
    assert other.get(session_url("state", started)).status_code == 404
    for name in ("request", "routes", "stop"):
        response = post_json(other, session_url(name, started), {"path": "/"})
        assert response.status_code == 404
        assert response.json() == {"error": live.NOT_FOUND}
    assert live_redis.llen(LIVE_REQUESTS.format(session=started)) == 0


def test_staff_get_404_for_a_learners_app(live_redis, started, staff_client):
    assert staff_client.get(session_url("state", started)).status_code == 404
    assert post_json(staff_client, session_url("stop", started), {}).status_code == 404


def test_a_learner_without_access_is_refused(db, live_redis, client):
    exercise = ExerciseFactory(course=CourseFactory(enrolment=Enrolment.INVITE))
    client.force_login(UserFactory())
    response = start(client, exercise)
    assert response.status_code == 400
    assert "by invitation" in response.json()["error"]
    assert live_redis.llen(INTERACTIVE_QUEUE) == 0


def test_an_unknown_exercise_is_404(live_redis, learner_client):
    response = post_json(learner_client, "/play/live/start/no-such-exercise/", {})
    assert response.status_code == 404


def test_changes_need_a_post_with_a_csrf_token(live_redis, learner, hello_exercise):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    assert start(client, hello_exercise).status_code == 403
    assert client.get(start_url(hello_exercise)).status_code == 405
    assert client.get(session_url("stop", UNKNOWN)).status_code == 405
    assert live_redis.llen(INTERACTIVE_QUEUE) == 0


# Starting and following -------------------------------------------------------------------


def test_a_learner_starts_follows_and_stops_their_app(live_redis, learner_client, started):
    (job,) = sent_live_jobs(live_redis)
    assert job["session"] == started and job["files"] == hello_files()

    assert learner_client.get(session_url("state", started)).json()["state"] == "starting"
    set_host_state(live_redis, started, "running", expires=repr(time.time() + 200))
    state = learner_client.get(session_url("state", started)).json()
    assert state["state"] == "running" and 198 <= state["seconds_left"] <= 200

    stopped = post_json(learner_client, session_url("stop", started), {})
    assert stopped.status_code == 200
    assert stopped.json()["state"] == "stopped"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "must be a JSON object"),
        (b"[1, 2]", "must be a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "cannot be read: it is nested more than 32 levels"),
        (b"\xff\xfe", "must be a JSON object"),
        (
            rb'{"framework": "flask", "files": {"app.py": "\udc80"}}',
            "cannot be read: it holds a character that is not text",
        ),
        (json.dumps({"framework": "rails", "files": {"app.py": ""}}).encode(), "frameworks"),
        (
            json.dumps({"framework": "flask", "files": {"/etc/passwd": ""}}).encode(),
            "starts with /",
        ),
        (json.dumps({"framework": "flask"}).encode(), "object of file paths"),
    ],
)
def test_bad_input_to_start_is_a_400_with_a_sentence(
    live_redis, learner_client, hello_exercise, body, message
):
    response = learner_client.post(start_url(hello_exercise), body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert live_redis.llen(INTERACTIVE_QUEUE) == 0


def test_a_body_too_large_is_refused_unread(live_redis, learner_client, hello_exercise):
    files = {"app.py": "x" * (600 * 1024)}
    response = start(learner_client, hello_exercise, files=files)
    assert response.status_code == 400
    assert "larger than 512 KiB" in response.json()["error"]


def test_too_many_starts_are_a_429_with_retry_after(live_redis, learner_client, hello_exercise):
    for _ in range(10):
        assert start(learner_client, hello_exercise).status_code == 200
    response = start(learner_client, hello_exercise)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "started your app many times" in response.json()["error"]
    assert len(sent_live_jobs(live_redis)) == 10


def test_broker_down_is_a_503_with_a_sentence(db, learner_client, hello_exercise, broker_down):
    response = start(learner_client, hello_exercise)
    assert response.status_code == 503
    assert "not answering" in response.json()["error"]
    assert learner_client.get(session_url("state", UNKNOWN)).status_code == 503


# Requests -----------------------------------------------------------------------------------


def test_a_request_answers_the_exchange_rendered(live_redis, learner_client, started):
    with StandInHost(live_redis, started) as host:
        response = post_json(
            learner_client,
            session_url("request", started),
            {"method": "GET", "path": "/hello/ada", "headers": "Accept: application/json\n"},
        )
    assert response.status_code == 200
    data = response.json()
    assert data["exchange"]["response"]["status"] == 200
    assert "Hello, ada!" in data["html"]
    assert "GET /hello/ada handled" in data["html"]
    assert host.seen[0]["headers"] == [["Accept", "application/json"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "GET", "path": "nope"}, "The path must start with /"),
        ({"path": "/", "headers": "Accept"}, "Header line 1 is not"),
        ({"path": "/", "headers": ["x"]}, "one per line"),
        ({"path": "/", "body": 5}, "The body must be text"),
    ],
)
def test_a_bad_request_is_a_400_with_a_sentence(live_redis, learner_client, started, data, message):
    set_host_state(live_redis, started, "running", expires=repr(time.time() + 60))
    response = post_json(learner_client, session_url("request", started), data)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_no_answer_in_time_is_a_504(live_redis, learner_client, started, monkeypatch):
    monkeypatch.setattr(live, "REPLY_TIMEOUT", 1)
    set_host_state(live_redis, started, "running", expires=repr(time.time() + 60))
    response = post_json(learner_client, session_url("request", started), {"path": "/"})
    assert response.status_code == 504
    assert response.json()["error"] == "Your app did not answer within 1 s."


def test_only_a_fastapi_app_lists_routes(live_redis, learner_client, started):
    set_host_state(live_redis, started, "running", expires=repr(time.time() + 60))
    response = post_json(learner_client, session_url("routes", started), {})
    assert response.status_code == 400
    assert response.json()["error"] == "Only FastAPI apps list their routes."


# The exercise page --------------------------------------------------------------------------


def test_anonymous_visitors_are_asked_to_sign_in(client, hello_exercise):
    page = client.get(reverse("exercises:exercise", kwargs={"exercise": hello_exercise.slug}))
    assert "Sign in to try your app live" in page.content.decode()
    assert "data-live-console" not in page.content.decode()


def test_the_console_offers_only_the_visible_tests_requests(
    live_redis, learner_client, hello_exercise
):
    page = learner_client.get(
        reverse("exercises:exercise", kwargs={"exercise": hello_exercise.slug})
    )
    html = page.content.decode()
    assert "Start my app" in html
    assert "GET /hello/ada" in html
    # The hidden tests ask for /hello/Zoë and /no-such-page: neither is offered.
    assert [(e["method"], e["path"]) for e in page_json(html, "live-examples")] == [
        ("GET", "/"),
        ("GET", "/hello/ada"),
    ]
    assert "/no-such-page" not in html


def test_the_page_picks_up_a_running_app_again(live_redis, learner_client, started, hello_exercise):
    set_host_state(live_redis, started, "running", expires=repr(time.time() + 100))
    page = learner_client.get(
        reverse("exercises:exercise", kwargs={"exercise": hello_exercise.slug})
    )
    html = page.content.decode()
    assert page_json(html, "live-config")["current"]["session"] == started
