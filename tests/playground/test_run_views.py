"""/play/runs/: starting a run of a lesson's block from its page and polling for the result."""

from __future__ import annotations

import json

import pytest
from celery import current_app
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.playground.conftest import APP, BROKEN, SCRIPT

pytestmark = pytest.mark.django_db
START = "/play/runs/"


def post_run(client, lesson, block, **fields):
    return client.post(START, {"lesson": lesson.id, "block": block, **fields})


def test_the_urls_are_under_play():
    assert reverse("playground:run_start") == START
    assert reverse("playground:run_result", kwargs={"run_id": "abc"}) == "/play/runs/abc/"


def test_starting_a_run_answers_202_with_where_its_result_will_be(
    broker, learner_client, run_lesson
):
    response = post_run(learner_client, run_lesson, SCRIPT)
    assert response.status_code == 202
    data = response.json()
    assert data["result_url"] == f"/play/runs/{data['run_id']}/"
    assert [job.run_id for job in broker.sent_runs()] == [data["run_id"]]


def test_the_readers_code_and_requests_are_sent(broker, learner_client, run_lesson):
    requests = [{"method": "GET", "path": "/hello/you", "body": ""}]
    response = post_run(
        learner_client,
        run_lesson,
        APP,
        code="from flask import Flask\napp = Flask(__name__)\n",
        requests=json.dumps(requests),
    )
    assert response.status_code == 202
    (job,) = broker.sent_runs()
    assert job.files == {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}
    assert [(r.method, r.path) for r in job.requests] == [("GET", "/hello/you")]


def test_the_readers_headers_are_sent_with_their_requests(broker, learner_client, run_lesson):
    requests = [
        {
            "method": "POST",
            "path": "/notes",
            "headers": "X-API-Key: let-me-in\nAccept: application/json",
            "body": '{"title": "Hi"}',
        }
    ]
    response = post_run(learner_client, run_lesson, APP, requests=json.dumps(requests))
    assert response.status_code == 202
    (job,) = broker.sent_runs()
    (request,) = job.requests
    assert request.headers == (
        ("X-API-Key", "let-me-in"),
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    )


def test_an_anonymous_reader_is_told_to_sign_in(broker, client, run_lesson):
    response = post_run(client, run_lesson, SCRIPT)
    assert response.status_code == 403
    assert response.content.decode() == "Sign in to run this example."
    assert broker.sent_runs() == []


def test_starting_a_run_needs_the_csrf_token(broker, learner, run_lesson):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    assert post_run(client, run_lesson, SCRIPT).status_code == 403
    assert broker.sent_runs() == []


def test_starting_a_run_takes_post_only(learner_client):
    assert learner_client.get(START).status_code == 405


def test_requests_nested_too_deep_are_refused_before_they_are_parsed(
    broker, learner_client, run_lesson
):
    fields = {"lesson": run_lesson.id, "block": str(APP), "requests": "[" * 100_000}
    response = learner_client.post(START, fields)
    assert response.status_code == 400
    assert response.content.decode() == (
        "The requests cannot be read: it is nested more than 32 levels deep."
    )
    assert broker.sent_runs() == []


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"lesson": "x", "block": "0"}, 400, "Say which lesson and block to run."),
        ({"lesson": "", "block": "0"}, 400, "Say which lesson and block to run."),
        ({"lesson": "999999", "block": "0"}, 404, "There is no such lesson."),
        ({"block": str(BROKEN)}, 404, "This block of the lesson cannot be run."),
        ({"block": str(APP), "requests": "{nope"}, 400, "The requests cannot be read."),
        ({"block": str(APP), "requests": '{"a": 1}'}, 400, "The requests must be a list."),
        (
            {"block": str(APP), "requests": r'[{"method": "GET", "path": "/\ud800"}]'},
            400,
            "The requests cannot be read: it holds a character that is not text (an unpaired "
            "surrogate).",
        ),
        (
            {"block": str(APP), "requests": '[{"path": "/", "headers": "X-API-Key let-me-in"}]'},
            400,
            "Request 1: 'X-API-Key let-me-in' is not a header: write it as Name: value.",
        ),
        (
            {"block": str(APP), "requests": '[{"path": "/", "headers": "Bad Name: 1"}]'},
            400,
            "Request 1: 'Bad Name' cannot be a header name "
            "(use letters, digits and -, as in X-API-Key).",
        ),
    ],
)
def test_bad_starts_are_refused_in_plain_words(
    broker, learner_client, run_lesson, fields, status, message
):
    response = learner_client.post(START, {"lesson": run_lesson.id, **fields})
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == message


def test_the_rate_limit_answers_429_with_retry_after(broker, learner_client, run_lesson):
    for _ in range(30):
        assert post_run(learner_client, run_lesson, SCRIPT).status_code == 202
    response = post_run(learner_client, run_lesson, SCRIPT)
    assert response.status_code == 429
    assert response.content.decode().startswith("You are running code very often")
    assert 0 < int(response["Retry-After"]) <= 60


def test_a_broker_that_is_down_answers_503(learner_client, run_lesson, monkeypatch):
    monkeypatch.setattr(current_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = post_run(learner_client, run_lesson, SCRIPT)
    assert response.status_code == 503
    assert response.content.decode().startswith("Running code is unavailable right now")


def test_the_result_is_202_while_running_then_the_output(broker, learner_client, run_lesson):
    run_id = post_run(learner_client, run_lesson, SCRIPT).json()["run_id"]
    url = f"/play/runs/{run_id}/"
    pending = learner_client.get(url)
    assert (pending.status_code, pending.content) == (202, b"")
    assert "no-cache" in pending["Cache-Control"]

    broker.answer(run_id, status="ok", stdout="<b>hi</b>\n", stderr="oops\n", exit_code=3)
    response = learner_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Exit status 3" in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page  # the reader's output is text, never markup
    assert 'class="run-result__stderr"' in page and "oops" in page


def test_a_timeout_and_an_error_are_said_plainly(broker, learner_client, run_lesson):
    first = post_run(learner_client, run_lesson, SCRIPT).json()["run_id"]
    second = post_run(learner_client, run_lesson, SCRIPT).json()["run_id"]
    broker.answer(first, status="timeout", stdout="partial")
    broker.answer(second, status="error", message="The sandbox could not start your code.")
    timed_out = learner_client.get(f"/play/runs/{first}/").content.decode()
    assert "Timed out:" in timed_out and "partial" in timed_out
    failed = learner_client.get(f"/play/runs/{second}/").content.decode()
    assert "Could not run:" in failed and "The sandbox could not start your code." in failed


def test_an_app_runs_exchanges_are_shown_with_the_exchange_partial(
    broker, learner_client, run_lesson
):
    from sandbox.exchanges import exchange

    run_id = post_run(learner_client, run_lesson, APP).json()["run_id"]
    answered = exchange(
        method="GET",
        path="/hello/ada",
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/plain")],
        response_body=b"Hello, ada!",
        output="127.0.0.1 GET /hello/ada",
    )
    broker.answer(run_id, status="ok", exchanges=[answered])
    page = learner_client.get(f"/play/runs/{run_id}/").content.decode()
    assert 'class="exchange"' in page
    assert "GET /hello/ada" in page and "200 OK" in page and "Hello, ada!" in page


def test_someone_elses_run_is_not_found(broker, learner_client, run_lesson, client):
    run_id = post_run(learner_client, run_lesson, SCRIPT).json()["run_id"]
    broker.answer(run_id, status="ok", stdout="secret", exit_code=0)
    other = Client()
    other.force_login(UserFactory())
    assert other.get(f"/play/runs/{run_id}/").status_code == 404
    assert Client().get(f"/play/runs/{run_id}/").status_code == 404


def test_the_lesson_page_offers_runs_to_signed_in_readers(broker, learner_client, run_lesson):
    page = learner_client.get(run_lesson.get_absolute_url()).content.decode()
    assert 'data-start-url="/play/runs/"' in page
    assert f'data-lesson="{run_lesson.id}"' in page
    assert "js/runnable.js" in page and "editor.bundle.js" in page
    assert 'data-run-block="0"' in page


def test_the_lesson_page_asks_anonymous_readers_to_sign_in(client, run_lesson):
    page = client.get(run_lesson.get_absolute_url()).content.decode()
    assert "data-login-url=" in page
    assert "data-start-url" not in page and "data-csrf" not in page
    assert "js/runnable.js" in page and "editor.bundle.js" not in page


def test_a_lesson_without_runnable_blocks_loads_no_run_script(learner_client, learner):
    from tests.factories import LessonFactory

    lesson = LessonFactory()
    page = learner_client.get(lesson.get_absolute_url()).content.decode()
    assert "runnable.js" not in page and "data-run-config" not in page
