"""playground.runs: who may run a lesson's block, what is sent, and how a result is read back.

Runs go to a real Redis (the private broker of the test session); the grading host's side is
played by writing to that Redis what a host writes (grading.interactive.run_result)."""

from __future__ import annotations

import json

import pytest
from celery import current_app

from accounts.throttles import Throttle
from grading.interactive import INTERACTIVE_QUEUE, RESULT_TTL
from playground import runs
from playground.runs import OWNER_TTL, RunRefused, run_result, run_start
from tests.factories import LessonFactory, StaffFactory, UserFactory
from tests.playground.conftest import APP, BROKEN, EXAMPLE, SCRIPT

pytestmark = pytest.mark.django_db


def start(user, lesson, block, **kwargs) -> str:
    return run_start(user=user, ip="10.0.0.1", lesson=lesson.id, block=block, **kwargs)


def refusal(call) -> RunRefused:
    with pytest.raises(RunRefused) as caught:
        call()
    return caught.value


def test_a_script_block_is_sent_with_the_authors_code(broker, learner, run_lesson):
    run_id = start(learner, run_lesson, SCRIPT)

    (job,) = broker.sent_runs()
    assert job.run_id == run_id
    assert (job.kind, job.entry, job.framework, job.requests) == ("script", "main.py", "", ())
    assert job.files == {"main.py": 'print("hello from the lesson")\n'}
    assert job.queued_at
    owner = broker.client.get(runs.OWNER_KEY.format(run_id=run_id))
    assert owner == str(learner.pk).encode()
    assert RESULT_TTL < broker.client.ttl(runs.OWNER_KEY.format(run_id=run_id)) <= OWNER_TTL


def test_the_readers_edit_replaces_the_entry_and_the_example_files_come_along(
    broker, learner, run_lesson
):
    start(learner, run_lesson, EXAMPLE, code="from names import NAMES\nprint(len(NAMES))\n")

    (job,) = broker.sent_runs()
    assert job.files == {
        "names.py": 'NAMES = ["Ada", "Grace"]\n',
        "main.py": "from names import NAMES\nprint(len(NAMES))\n",
    }


def test_an_app_block_sends_the_authors_requests(broker, learner, run_lesson):
    start(learner, run_lesson, APP)

    (job,) = broker.sent_runs()
    assert (job.kind, job.framework, job.entry) == ("app", "flask", "app.py")
    assert [(r.method, r.path, r.body, r.headers) for r in job.requests] == [
        ("GET", "/hello/ada", "", ()),
        ("POST", "/notes", '{"title": "Hi"}', (("Content-Type", "application/json"),)),
    ]


def test_the_readers_requests_replace_the_authors(broker, learner, run_lesson):
    mine = [{"method": "post", "path": "/notes", "body": "title=Mine"}, {"path": "/hello/bo"}]
    start(learner, run_lesson, APP, requests=mine)

    (job,) = broker.sent_runs()
    assert [(r.method, r.path, r.body, r.headers) for r in job.requests] == [
        ("POST", "/notes", "title=Mine", (("Content-Type", "application/x-www-form-urlencoded"),)),
        ("GET", "/hello/bo", "", ()),
    ]


def test_the_authors_headers_are_sent_with_the_bodys_content_type(broker, learner):
    lesson = LessonFactory(
        body=(
            '```{.python .runnable app=fastapi requests=\'POST /notes {"title": "No key"}; '
            'POST /notes -H "X-API-Key: let-me-in" {"title": "Hi"}\'}\n'
            "app = None\n```\n"
        )
    )
    start(learner, lesson, 0)

    (job,) = broker.sent_runs()
    assert [r.headers for r in job.requests] == [
        (("Content-Type", "application/json"),),
        (("X-API-Key", "let-me-in"), ("Content-Type", "application/json")),
    ]


def test_the_readers_headers_are_sent_one_per_line(broker, learner, run_lesson):
    mine = [
        {
            "method": "POST",
            "path": "/notes",
            "body": '{"title": "Mine"}',
            "headers": "X-API-Key:  let-me-in \n\nAccept: application/json\r\n",
        },
        {"path": "/raw", "body": "plain words", "headers": "content-type: text/plain"},
        {"path": "/hello/bo", "headers": ""},
    ]
    start(learner, run_lesson, APP, requests=mine)

    (job,) = broker.sent_runs()
    assert [r.headers for r in job.requests] == [
        (
            ("X-API-Key", "let-me-in"),
            ("Accept", "application/json"),
            ("Content-Type", "application/json"),
        ),
        (("content-type", "text/plain"),),  # the reader's Content-Type, not the body's
        (),
    ]


def test_a_script_block_sends_no_requests_whatever_it_is_given(broker, learner, run_lesson):
    start(learner, run_lesson, SCRIPT, requests=[{"method": "GET", "path": "/"}])
    assert broker.sent_runs()[0].requests == ()


def test_an_anonymous_reader_is_asked_to_sign_in(broker, run_lesson):
    from django.contrib.auth.models import AnonymousUser

    refused = refusal(lambda: start(AnonymousUser(), run_lesson, SCRIPT))
    assert (refused.status, refused.message) == (403, "Sign in to run this example.")
    assert broker.sent_runs() == []


def test_a_draft_lessons_blocks_run_for_staff_only(broker, learner, draft_lesson):
    refused = refusal(lambda: start(learner, draft_lesson, SCRIPT))
    assert (refused.status, refused.message) == (404, "There is no such lesson.")
    start(StaffFactory(), draft_lesson, SCRIPT)
    assert len(broker.sent_runs()) == 1


@pytest.mark.parametrize("block", [BROKEN, 4, 99, -1])
def test_a_block_that_is_not_runnable_is_refused(broker, learner, run_lesson, block):
    refused = refusal(lambda: start(learner, run_lesson, block))
    assert (refused.status, refused.message) == (404, "This block of the lesson cannot be run.")
    assert broker.sent_runs() == []


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([{"method": "FETCH", "path": "/"}], "Request 1: the method must be one of GET"),
        ([{"path": "/ok"}, {"path": "no-slash"}], "Request 2: the path must start with /"),
        ([{"path": "/a b"}], "Request 1: the path may not contain spaces"),
        ([{"path": "/", "body": "x" * (64 * 1024 + 1)}], "the body must be text of at most 64"),
        ([{"path": "/"}] * 11, "Send at most 10 requests at a time."),
        (["GET /"], "Request 1 must have a method and a path."),
        ([{"path": "/\ud800"}], "Request 1 holds characters that cannot be sent."),
        ([{"path": "/", "body": "\udfff"}], "Request 1 holds characters that cannot be sent."),
        (
            [{"path": "/"}, {"path": "/", "headers": "X-API-Key let-me-in"}],
            "Request 2: 'X-API-Key let-me-in' is not a header: write it as Name: value.",
        ),
        (
            [{"path": "/", "headers": "X API Key: let-me-in"}],
            "Request 1: 'X API Key' cannot be a header name (use letters, digits and -",
        ),
        (
            [{"path": "/", "headers": "X-Long: " + "v" * 1001}],
            "Request 1: the value of header X-Long is over 1000 characters.",
        ),
        (
            [{"path": "/", "headers": "X-Nul: a\x00b"}],
            "Request 1: the value of header X-Nul may not hold a line break or a NUL character.",
        ),
        (
            [{"path": "/", "headers": "\n".join(f"X-{n}: {n}" for n in range(21))}],
            "Request 1: at most 20 headers.",
        ),
        (
            [{"path": "/", "body": "a=1", "headers": "\n".join(f"X-{n}: 1" for n in range(20))}],
            "Request 1: at most 20 headers.",
        ),
        (
            [{"path": "/", "headers": [["X-API-Key", "let-me-in"]]}],
            "Request 1: write its headers as text, one per line: Name: value.",
        ),
        (
            [{"path": "/", "headers": "X-Key: " + "v" * 30_000}],
            "Request 1: write its headers as text, one per line: Name: value.",
        ),
        (
            [{"path": "/", "headers": "X-Key: \ud800"}],
            "Request 1 holds characters that cannot be sent.",
        ),
    ],
)
def test_bad_requests_are_refused_with_a_reason(broker, learner, run_lesson, requests, message):
    refused = refusal(lambda: start(learner, run_lesson, APP, requests=requests))
    assert refused.status == 400
    assert message in refused.message
    assert broker.sent_runs() == []


def test_code_over_the_limit_is_refused(broker, learner, run_lesson):
    refused = refusal(lambda: start(learner, run_lesson, SCRIPT, code="x" * (64 * 1024 + 1)))
    assert (refused.status, refused.message) == (400, "The code is too long: at most 64 KiB.")


def test_code_that_cannot_be_encoded_is_refused(broker, learner, run_lesson):
    refused = refusal(lambda: start(learner, run_lesson, SCRIPT, code="print('\udc80')\n"))
    assert (refused.status, refused.message) == (
        400,
        "The code holds characters that cannot be sent.",
    )


def test_a_run_over_the_protocols_bounds_is_refused_before_it_is_sent(
    broker, learner, run_lesson, monkeypatch
):
    monkeypatch.setattr(runs, "MAX_CODE_CHARS", 10**6)
    refused = refusal(lambda: start(learner, run_lesson, SCRIPT, code="x" * 300 * 1024))
    assert refused.status == 400
    assert refused.message == "This example cannot run: the files come to more than 256 KiB."
    assert broker.sent_runs() == []


def test_a_learner_gets_30_runs_a_minute_then_a_plain_429(broker, learner, run_lesson):
    for _ in range(30):
        start(learner, run_lesson, SCRIPT)
    refused = refusal(lambda: start(learner, run_lesson, SCRIPT))
    assert refused.status == 429
    assert refused.message.startswith("You are running code very often: wait ")
    assert 0 < refused.retry_after <= 60
    assert len(broker.sent_runs()) == 30
    # Someone else, from another address, is not held back.
    run_start(user=UserFactory(), ip="10.0.0.2", lesson=run_lesson.id, block=SCRIPT)


def test_an_address_gets_60_runs_a_minute_whoever_signs_in(broker, run_lesson, monkeypatch):
    monkeypatch.setattr(runs, "RUNS_PER_LEARNER", Throttle("run-learner", limit=1000, window=60))
    learners = [UserFactory(), UserFactory(), UserFactory()]
    for n in range(60):
        start(learners[n % 2], run_lesson, SCRIPT)
    refused = refusal(lambda: start(learners[2], run_lesson, SCRIPT))
    assert refused.status == 429
    assert len(broker.sent_runs()) == 60


def test_a_refused_run_costs_no_token(broker, learner, run_lesson):
    for _ in range(40):
        refusal(lambda: start(learner, run_lesson, BROKEN))
    start(learner, run_lesson, SCRIPT)


def test_a_broker_that_cannot_be_reached_gives_a_plain_503(learner, run_lesson, monkeypatch):
    monkeypatch.setattr(current_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    refused = refusal(lambda: start(learner, run_lesson, SCRIPT))
    assert refused.status == 503
    assert refused.message.startswith("Running code is unavailable right now")
    refused = refusal(lambda: run_result(user=learner, run_id="abc123"))
    assert refused.status == 503


def test_a_result_is_none_until_the_host_answers_then_it_stays_readable(
    broker, learner, run_lesson
):
    run_id = start(learner, run_lesson, SCRIPT)
    assert run_result(user=learner, run_id=run_id) is None

    broker.answer(
        run_id, status="ok", stdout="hello\n", stderr="warn\n", exit_code=0, duration_ms=812.34
    )
    result = run_result(user=learner, run_id=run_id)
    assert (result.status, result.stdout, result.stderr, result.exit_code) == (
        "ok",
        "hello\n",
        "warn\n",
        0,
    )
    assert result.duration_ms == 812.3
    assert run_result(user=learner, run_id=run_id) == result  # read again: not consumed
    assert broker.client.llen(f"webcourse:run:{run_id}:result") == 1


def test_only_the_owner_reads_a_result(broker, learner, run_lesson):
    run_id = start(learner, run_lesson, SCRIPT)
    broker.answer(run_id, status="ok", stdout="mine", exit_code=0)
    for someone in (UserFactory(), StaffFactory()):
        refused = refusal(lambda someone=someone: run_result(user=someone, run_id=run_id))
        assert (refused.status, refused.message) == (404, "There is no such run.")


@pytest.mark.parametrize("run_id", ["nope", "", "../../x", "a" * 65, "ab:cd"])
def test_unknown_or_malformed_run_ids_are_not_found(broker, learner, run_id):
    assert refusal(lambda: run_result(user=learner, run_id=run_id)).status == 404


def test_a_hostile_result_is_cut_to_its_bounds(broker, learner, run_lesson):
    run_id = start(learner, run_lesson, APP)
    exchange = {
        "request": {"method": "GET", "path": "/" + "p" * 5000},
        "response": {"status": 200, "body": {"text": "b" * 100_000, "kind": "evil"}},
    }
    broker.push_raw(
        run_id,
        json.dumps(
            {
                "run_id": run_id,
                "status": "exploded",
                "message": "m" * 10_000,
                "stdout": "o" * 1_000_000,
                "stderr": ["not", "text"],
                "exit_code": True,
                "duration_ms": "soon",
                "exchanges": [exchange, "junk", 5] + [exchange] * 20,
            }
        ),
    )
    result = run_result(user=learner, run_id=run_id)
    assert result.status == "error"
    assert len(result.message) == runs.MAX_MESSAGE_CHARS
    assert len(result.stdout) == runs.MAX_OUTPUT_CHARS
    assert (result.stderr, result.exit_code, result.duration_ms) == ("", None, None)
    assert len(result.exchanges) == 8  # of the first ten items, two are not exchanges
    first = result.exchanges[0]
    assert len(first["request"]["path"]) == 2000
    assert first["response"]["body"]["kind"] == "text"
    assert len(first["response"]["body"]["text"]) == 8 * 1024


@pytest.mark.parametrize("raw", ["not json", "[]", '{"run_id": "someone-else", "status": "ok"}'])
def test_a_result_that_cannot_be_read_says_so(broker, learner, run_lesson, raw):
    run_id = start(learner, run_lesson, SCRIPT)
    broker.push_raw(run_id, raw)
    result = run_result(user=learner, run_id=run_id)
    assert (result.status, result.message) == ("error", runs.UNREADABLE)


def test_runs_go_to_the_interactive_queue_only(broker, learner, run_lesson):
    start(learner, run_lesson, SCRIPT)
    assert broker.client.llen(INTERACTIVE_QUEUE) == 1
    assert broker.client.llen("grading") == 0
