"""The messages of interactive runs and live apps: what a host accepts, and why it refuses."""

from __future__ import annotations

import json

import pytest

from grading.interactive import (
    LIVE_LIFETIME,
    MAX_FILES,
    MAX_FILES_BYTES,
    MAX_REQUEST_BODY,
    MAX_REQUESTS,
    LiveJob,
    LiveRequest,
    MessageRejected,
    RunJob,
    new_id,
    run_result,
)


def run_message(**changes):
    job = RunJob(
        run_id=new_id(),
        kind="app",
        files={"app.py": "from flask import Flask\napp = Flask(__name__)\n", "lib/util.py": ""},
        entry="app.py",
        framework="flask",
        requests=(LiveRequest(method="POST", path="/notes", headers=(("X-Key", "1"),), body="{}"),),
        queued_at="2026-12-05T06:00:00+00:00",
    )
    return {**job.to_message(), **changes}


def test_a_run_survives_its_trip_through_json():
    message = run_message()
    job = RunJob.from_message(json.loads(json.dumps(message)))
    assert job.to_message() == message
    assert job.requests[0].headers == (("X-Key", "1"),)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"run_id": "not-hex!"}, "bad run_id"),
        ({"run_id": "a" * 65}, "bad run_id"),
        ({"kind": "shell"}, "bad kind"),
        ({"files": {}}, f"between 1 and {MAX_FILES} files"),
        ({"files": {f"f{i}.py": "" for i in range(MAX_FILES + 1)}}, "between 1 and"),
        ({"files": {"app.py": "x" * MAX_FILES_BYTES}}, "more than 256 KiB"),
        ({"files": {"/etc/passwd": ""}}, "bad file path"),
        ({"files": {"../app.py": ""}}, "bad file path"),
        ({"files": {"a/../../app.py": ""}}, "bad file path"),
        ({"files": {"app.py\n": ""}}, "bad file path"),
        ({"files": {"app.py": 3}}, "bad file path"),
        ({"entry": "missing.py"}, "is not one of the files"),
        ({"framework": "rails"}, "bad framework"),
        ({"requests": [{}] * (MAX_REQUESTS + 1)}, f"at most {MAX_REQUESTS} requests"),
    ],
)
def test_a_run_that_is_off_is_refused_with_its_reason(changes, reason):
    with pytest.raises(MessageRejected, match=reason):
        RunJob.from_message(run_message(**changes))


def test_a_script_needs_no_framework():
    job = RunJob.from_message(run_message(kind="script", framework="", requests=[]))
    assert (job.kind, job.framework, job.requests) == ("script", "", ())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("GET /", "a JSON object"),
        ({"method": "TRACE"}, "the method must be one of"),
        ({"path": "hello"}, "start with /"),
        ({"path": "/" + "a" * 2000}, "start with /"),
        ({"path": "/a b"}, "spaces or control characters"),
        ({"path": "/a\r\nX: 1"}, "spaces or control characters"),
        ({"headers": [["X-Key"]]}, "a name and a value"),
        ({"headers": [["X Key", "1"]]}, "is not a header name"),
        ({"headers": [["X-Key\n", "1"]]}, "is not a header name"),
        ({"headers": [["X-Key", "a\r\nSet-Cookie: x"]]}, "line break"),
        ({"headers": [["X-Key", "1"]] * 21}, "at most 20 headers"),
        ({"body": "x" * (MAX_REQUEST_BODY + 1)}, "at most 64 KiB"),
        ({"request_id": "../x"}, "bad request_id"),
    ],
)
def test_a_request_that_is_off_is_refused_in_words_a_reader_understands(data, reason):
    with pytest.raises(MessageRejected, match=reason):
        LiveRequest.from_message(data)


def test_a_request_takes_defaults_and_upper_cases_its_method():
    request = LiveRequest.from_message({"method": "post", "path": "/notes?tag=a%20b"})
    assert (request.method, request.path, request.headers, request.body) == (
        "POST",
        "/notes?tag=a%20b",
        (),
        "",
    )


@pytest.mark.parametrize("lifetime", [0, 0.5, LIVE_LIFETIME + 1, True, "300", float("nan")])
def test_a_live_app_lives_between_one_second_and_its_bound(lifetime):
    message = LiveJob(session=new_id(), files={"app.py": ""}, framework="flask").to_message()
    with pytest.raises(MessageRejected, match="a lifetime is between 1 and 300 seconds"):
        LiveJob.from_message({**message, "lifetime": lifetime})


def test_a_live_job_survives_its_trip_through_json():
    job = LiveJob(session=new_id(), files={"main.py": "x"}, framework="fastapi", lifetime=60)
    assert LiveJob.from_message(json.loads(json.dumps(job.to_message()))) == job


def test_a_result_names_its_run_and_says_what_happened():
    result = json.loads(run_result("abc", status="timeout", stdout="hi", exit_code=None))
    assert result == {
        "run_id": "abc",
        "status": "timeout",
        "message": "",
        "stdout": "hi",
        "stderr": "",
        "exit_code": None,
        "exchanges": [],
        "duration_ms": None,
    }
