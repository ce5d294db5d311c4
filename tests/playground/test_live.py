from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import pytest

from courses.models import Enrolment, Status
from grading.interactive import INTERACTIVE_QUEUE, LIVE_REQUESTS, LiveJob
from playground import live
from playground.live import (
    LiveLimited,
    LiveNotFound,
    LiveRefused,
    LiveTimeout,
    LiveUnavailable,
    header_lines,
    live_current,
    live_exercise,
    live_request,
    live_start,
    live_state,
    live_stop,
    openapi_routes,
)
from sandbox.exchanges import exchange
from tests.factories import CourseFactory, EnrollmentFactory, ExerciseFactory, UserFactory
from tests.playground.live_helpers import (
    StandInHost,
    hello_files,
    sent_live_jobs,
    set_host_state,
)

IP = "203.0.113.9"


def start(user, exercise, *, framework="flask", files=None, ip=IP):
    return live_start(
        user=user,
        exercise=exercise,
        framework=framework,
        files=hello_files() if files is None else files,
        ip=ip,
    )


# Starting -----------------------------------------------------------------------------------


def test_it_sends_a_live_job_on_the_interactive_queue(live_redis, learner, hello_exercise):
    session = start(learner, hello_exercise)

    assert session.state == "starting"
    (message,) = sent_live_jobs(live_redis)
    job = LiveJob.from_message(message)
    assert job.session == session.session
    assert job.framework == "flask"
    assert job.files == hello_files()
    assert job.lifetime == 300
    assert live_state(user=learner, session=session.session).state == "starting"


def test_a_learner_has_one_live_app_starting_another_stops_the_first(
    live_redis, learner, hello_exercise
):
    first = start(learner, hello_exercise)
    second = start(learner, hello_exercise)

    stop = live_redis.lrange(LIVE_REQUESTS.format(session=first.session), 0, -1)
    assert [json.loads(item) for item in stop] == [{"stop": True}]
    assert live_state(user=learner, session=first.session).state == "stopped"
    assert live_state(user=learner, session=second.session).state == "starting"
    assert live_current(user=learner, exercise=hello_exercise).session == second.session
    assert len(sent_live_jobs(live_redis)) == 2


def test_the_page_of_another_exercise_does_not_pick_up_the_app(live_redis, learner, hello_exercise):
    start(learner, hello_exercise)
    other = ExerciseFactory(frameworks=["flask"])
    assert live_current(user=learner, exercise=other) is None
    assert live_current(user=UserFactory(), exercise=hello_exercise) is None


def test_only_its_owner_may_use_a_live_app(live_redis, learner, staff, hello_exercise):
    session = start(learner, hello_exercise).session
    for other in (UserFactory(), staff):
        with pytest.raises(LiveNotFound):
            live_state(user=other, session=session)
        with pytest.raises(LiveNotFound):
            live_request(user=other, session=session, data={"path": "/"})
        with pytest.raises(LiveNotFound):
            live_stop(user=other, session=session)
    assert live_state(user=learner, session=session).state == "starting"
    assert live_redis.llen(LIVE_REQUESTS.format(session=session)) == 0


def test_an_unknown_session_is_not_found(live_redis, learner):
    with pytest.raises(LiveNotFound):
        live_state(user=learner, session="0" * 32)


def test_a_draft_exercise_is_not_found_for_learners_but_staff_may_try_it(db, learner, staff):
    draft = ExerciseFactory(status=Status.DRAFT)
    with pytest.raises(LiveNotFound):
        live_exercise(user=learner, slug=draft.slug)
    assert live_exercise(user=staff, slug=draft.slug) == draft


def test_an_invitation_only_course_is_for_its_roster(db, learner):
    course = CourseFactory(enrolment=Enrolment.INVITE)
    exercise = ExerciseFactory(course=course)
    with pytest.raises(LiveRefused, match="by invitation"):
        live_exercise(user=learner, slug=exercise.slug)
    EnrollmentFactory(course=course, learner=learner)
    assert live_exercise(user=learner, slug=exercise.slug) == exercise


@pytest.mark.parametrize(
    ("framework", "files", "message"),
    [
        ("rails", None, "Choose one of the exercise's frameworks"),
        ("flask", {}, "no files to start"),
        ("flask", {"../app.py": "x"}, "leaves its folder"),
        ("flask", {"app.py": 3}, "object of file paths to text"),
        ("flask", [], "object of file paths to text"),
        ("flask", {f"f{i}.py": "" for i in range(21)}, "at most 20 files"),
        ("flask", {"app.py": "x" * 300_000}, "at most 256 KiB"),
        ("flask", {"my app.py": ""}, "names may use only the letters"),
    ],
)
def test_bad_files_or_framework_are_refused_with_a_reason_and_send_nothing(
    live_redis, learner, hello_exercise, framework, files, message
):
    with pytest.raises(LiveRefused, match=message):
        start(learner, hello_exercise, framework=framework, files=files)
    assert live_redis.llen(INTERACTIVE_QUEUE) == 0


def test_starts_are_limited_per_learner(live_redis, learner, hello_exercise):
    for _ in range(10):
        start(learner, hello_exercise)
    with pytest.raises(LiveLimited, match="started your app many times") as refused:
        start(learner, hello_exercise)
    assert 1 <= refused.value.retry_after <= 3600
    assert len(sent_live_jobs(live_redis)) == 10
    # Another learner is not held up by it.
    assert start(UserFactory(), hello_exercise).state == "starting"


def test_starts_are_limited_per_address(live_redis, hello_exercise, monkeypatch):
    monkeypatch.setattr(live, "START_IP_THROTTLE", live.Throttle("live-start-ip", 3, 3600))
    for _ in range(3):
        start(UserFactory(), hello_exercise)
    with pytest.raises(LiveLimited, match="from your network"):
        start(UserFactory(), hello_exercise)
    assert start(UserFactory(), hello_exercise, ip="198.51.100.1").state == "starting"
    assert len(sent_live_jobs(live_redis)) == 4


def test_broker_down_is_unavailable_with_a_sentence(db, learner, hello_exercise, broker_down):
    with pytest.raises(LiveUnavailable, match="Your files are safe"):
        start(learner, hello_exercise)
    with pytest.raises(LiveUnavailable):
        live_state(user=learner, session="a" * 32)
    with pytest.raises(LiveUnavailable):
        live_request(user=learner, session="a" * 32, data={"path": "/"})
    assert live_current(user=learner, exercise=hello_exercise) is None


# Its state ----------------------------------------------------------------------------------


def test_the_state_follows_what_the_host_writes(live_redis, learner, hello_exercise):
    session = start(learner, hello_exercise).session
    set_host_state(live_redis, session, "booting")
    assert live_state(user=learner, session=session).state == "booting"

    set_host_state(live_redis, session, "running", expires=repr(time.time() + 120))
    running = live_state(user=learner, session=session)
    assert running.state == "running"
    assert 118 <= running.seconds_left() <= 120

    set_host_state(live_redis, session, "failed", message="SyntaxError: invalid syntax (app.py)")
    failed = live_state(user=learner, session=session)
    assert (failed.state, failed.message) == ("failed", "SyntaxError: invalid syntax (app.py)")
    assert live_current(user=learner, exercise=hello_exercise) is None


def test_an_app_past_its_time_is_stopped(live_redis, learner, hello_exercise):
    session = start(learner, hello_exercise).session
    set_host_state(live_redis, session, "running", expires=repr(time.time() - 1))
    state = live_state(user=learner, session=session)
    assert (state.state, state.message) == (
        "stopped",
        "Your app ran its full time and was stopped.",
    )


def test_an_app_the_host_stopped_at_its_time_says_so(live_redis, learner, hello_exercise):
    session = start(learner, hello_exercise).session
    set_host_state(live_redis, session, "stopped", expires=repr(time.time() - 1))
    assert live_state(user=learner, session=session).message == (
        "Your app ran its full time and was stopped."
    )


def test_an_app_no_host_takes_fails_with_a_reason(live_redis, learner, hello_exercise, monkeypatch):
    session = start(learner, hello_exercise).session
    monkeypatch.setattr(live, "START_TIMEOUT", 0)
    time.sleep(0.01)
    state = live_state(user=learner, session=session)
    assert state.state == "failed"
    assert "No grading server took your app" in state.message


def test_stop_asks_the_host_and_is_idempotent(live_redis, learner, hello_exercise):
    session = start(learner, hello_exercise).session
    assert live_stop(user=learner, session=session).state == "stopped"
    assert live_stop(user=learner, session=session).state == "stopped"
    stops = live_redis.lrange(LIVE_REQUESTS.format(session=session), 0, -1)
    assert [json.loads(item) for item in stops] == [{"stop": True}]
    assert live_current(user=learner, exercise=hello_exercise) is None


# Requests -----------------------------------------------------------------------------------


def test_a_request_comes_back_as_an_exchange(live_redis, learner, hello_exercise):
    session = start(learner, hello_exercise).session
    with StandInHost(live_redis, session) as host:
        answer = live_request(
            user=learner,
            session=session,
            data={"method": "get", "path": "/hello/ada", "headers": [["X-Try", "1"]]},
        )
    assert answer["response"]["status"] == 200
    assert json.loads(answer["response"]["body"]["text"]) == {"message": "Hello, ada!"}
    assert answer["output"] == "GET /hello/ada handled\n"
    (sent,) = host.seen
    assert sent["method"] == "GET"
    assert sent["headers"] == [["X-Try", "1"]]
    assert sent["request_id"].isalnum()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "BREW", "path": "/"}, "The method must be one of GET"),
        ({"path": "hello"}, "The path must start with /"),
        ({"path": "/a b"}, "may not contain spaces"),
        ({"path": "/", "headers": [["Bad Name", "x"]]}, "is not a header name"),
        ({"path": "/", "body": "x" * (64 * 1024 + 1)}, "at most 64 KiB"),
        ("GET /", "must be a JSON object"),
    ],
)
def test_a_bad_request_is_refused_with_a_sentence(
    live_redis, learner, hello_exercise, data, message
):
    session = start(learner, hello_exercise).session
    set_host_state(live_redis, session, "running", expires=repr(time.time() + 60))
    with pytest.raises(LiveRefused, match=message) as refused:
        live_request(user=learner, session=session, data=data)
    assert not str(refused.value)[0].islower() and str(refused.value).endswith(".")
    assert live_redis.llen(LIVE_REQUESTS.format(session=session)) == 0


def test_a_request_to_an_app_still_starting_is_refused(live_redis, learner, hello_exercise):
    session = start(learner, hello_exercise).session
    with pytest.raises(LiveRefused, match="still starting"):
        live_request(user=learner, session=session, data={"path": "/"})


def test_an_app_that_does_not_answer_times_out_with_a_message(
    live_redis, learner, hello_exercise, monkeypatch
):
    monkeypatch.setattr(live, "REPLY_TIMEOUT", 1)
    session = start(learner, hello_exercise).session
    set_host_state(live_redis, session, "running", expires=repr(time.time() + 60))
    began = time.monotonic()
    with pytest.raises(LiveTimeout, match=r"Your app did not answer within 1 s\."):
        live_request(user=learner, session=session, data={"path": "/"})
    assert 0.9 <= time.monotonic() - began < 3
    # The next request is not held up by the one that timed out.
    with StandInHost(live_redis, session):
        answer = live_request(user=learner, session=session, data={"path": "/hello/bo"})
    assert answer["response"]["status"] == 200


def test_requests_are_limited_per_minute(live_redis, learner, hello_exercise, monkeypatch):
    monkeypatch.setattr(live, "REQUEST_THROTTLE", live.Throttle("live-request", 3, 60))
    session = start(learner, hello_exercise).session
    with StandInHost(live_redis, session) as host:
        for _ in range(3):
            live_request(user=learner, session=session, data={"path": "/"})
        with pytest.raises(LiveLimited, match="very fast"):
            live_request(user=learner, session=session, data={"path": "/"})
    assert len(host.seen) == 3


def test_one_request_at_a_time_per_learner(live_redis, learner, hello_exercise):
    session = start(learner, hello_exercise).session
    set_host_state(live_redis, session, "running", expires=repr(time.time() + 60))
    live_redis.set(live.REQUEST_LOCK.format(user_id=learner.pk), "other", ex=5)
    with pytest.raises(LiveLimited, match="Wait for the answer to your last request"):
        live_request(user=learner, session=session, data={"path": "/"})
    assert live_redis.llen(LIVE_REQUESTS.format(session=session)) == 0


def test_the_site_waits_for_a_bounded_number_of_answers_at_once(
    live_redis, learner, hello_exercise, monkeypatch
):
    monkeypatch.setattr(live, "WAIT_SLOTS", 2)
    session = start(learner, hello_exercise).session
    set_host_state(live_redis, session, "running", expires=repr(time.time() + 60))
    for number in range(2):  # two other learners' requests wait for their apps
        live_redis.set(live.WAIT_SLOT.format(number=number), "other", ex=5)
    with pytest.raises(LiveLimited, match="Many apps are being asked right now"):
        live_request(user=learner, session=session, data={"path": "/"})
    assert live_redis.llen(LIVE_REQUESTS.format(session=session)) == 0
    live_redis.delete(live.WAIT_SLOT.format(number=1))
    with StandInHost(live_redis, session):
        answer = live_request(user=learner, session=session, data={"path": "/"})
    assert answer["response"]["status"] == 200
    assert live_redis.get(live.WAIT_SLOT.format(number=1)) is None  # given back


def test_an_unreadable_reply_is_refused(live_redis, learner, hello_exercise, monkeypatch):
    monkeypatch.setattr(live, "REPLY_TIMEOUT", 2)
    session = start(learner, hello_exercise).session
    set_host_state(live_redis, session, "running", expires=repr(time.time() + 60))
    live_redis.delete(LIVE_REQUESTS.format(session=session))

    def reply_garbage(*args, **kwargs):
        raw = live_redis.blpop([LIVE_REQUESTS.format(session=session)], timeout=2)
        request_id = json.loads(raw[1])["request_id"]
        key = live.LIVE_REPLY.format(session=session, request_id=request_id)
        live_redis.rpush(key, b"x" * (live.MAX_REPLY_BYTES + 1))

    thread = threading.Thread(target=reply_garbage)
    thread.start()
    with pytest.raises(LiveRefused, match="could not be read"):
        live_request(user=learner, session=session, data={"path": "/"})
    thread.join()


# Reading what learners type, and routes ---------------------------------------------------


def test_header_lines_are_read_one_per_line():
    assert header_lines("Accept: application/json\n\nX-A:  1 \n") == [
        ["Accept", "application/json"],
        ["X-A", "1"],
    ]
    assert header_lines("") == []
    with pytest.raises(LiveRefused, match="Header line 2 is not"):
        header_lines("Accept: */*\nno colon here")
    with pytest.raises(LiveRefused, match="one per line"):
        header_lines(["Accept", "x"])


def openapi_answer(spec: dict) -> dict:
    """Return the exchange of a FastAPI app answering GET /openapi.json with `spec`."""
    return exchange(
        method="GET",
        path="/openapi.json",
        status=200,
        response_headers=[("content-type", "application/json")],
        response_body=json.dumps(spec).encode(),
    )


def test_openapi_routes_are_read_from_the_apps_answer():
    spec = {
        "openapi": "3.1.0",
        "paths": {
            "/": {"get": {}},
            "/items/{id}": {"put": {}, "delete": {}, "parameters": []},
        },
    }
    answer = openapi_answer(spec)
    assert openapi_routes(answer) == [
        ("GET", "/"),
        ("PUT", "/items/{id}"),
        ("DELETE", "/items/{id}"),
    ]
    not_found = exchange(method="GET", path="/openapi.json", status=404, response_body=b"no")
    assert openapi_routes(not_found) == []


def test_the_route_list_says_whether_it_is_complete(monkeypatch):
    def app_answering(paths):
        answer = openapi_answer({"openapi": "3.1.0", "paths": paths})
        monkeypatch.setattr(live, "live_state", lambda **kw: SimpleNamespace(framework="fastapi"))
        monkeypatch.setattr(live, "live_request", lambda **kw: answer)

    app_answering({"/a": {"get": {}}, "/b": {"post": {}}})
    assert live.live_routes(user=None, session="s") == ([("GET", "/a"), ("POST", "/b")], True)

    app_answering({f"/r{n}": {"get": {}} for n in range(live.MAX_ROUTES + 1)})
    routes, complete = live.live_routes(user=None, session="s")
    assert (len(routes), routes[-1], complete) == (50, ("GET", "/r49"), False)

    long_operation = {"get": {"description": "x" * 2000}}
    app_answering({f"/r{n}": long_operation for n in range(8)})  # cut after a few of them
    routes, complete = live.live_routes(user=None, session="s")
    assert 0 < len(routes) < 8 and not complete


def test_the_routes_of_a_long_openapi_answer_are_read_from_the_part_kept():
    operation = {
        "summary": "An operation with its usual answers",
        "responses": {
            "200": {"description": "Successful Response"},
            "422": {
                "description": "Validation Error",
                "content": {"application/json": {"schema": {"$ref": "#/c/HTTPValidationError"}}},
            },
        },
    }
    paths = {f"/notes/{n}/{{note_id}}": {"get": operation, "delete": operation} for n in range(40)}
    paths['/caf\u00e9 \\ "quoted"'] = {"post": operation}
    paths = {"/": {"get": operation}, **paths}
    spec = {"openapi": "3.1.0", "paths": paths, "components": {"schemas": {"X": "x" * 9000}}}
    answer = openapi_answer(spec)
    assert answer["response"]["body"]["truncated"]

    routes = openapi_routes(answer)

    # Every route the kept part names, in order; none made up from a line cut short.
    assert routes[:3] == [
        ("GET", "/"),
        ("GET", "/notes/0/{note_id}"),
        ("DELETE", "/notes/0/{note_id}"),
    ]
    assert 10 < len(routes) < 81
    named = {(m, f"/notes/{n}/{{note_id}}") for n in range(40) for m in ("GET", "DELETE")}
    assert set(routes) <= {("GET", "/")} | named
    assert openapi_routes(answer, limit=5) == routes[:5]


def test_routes_with_odd_names_survive_a_cut_answer():
    spec = {
        "openapi": "3.1.0",
        "paths": {'/caf\u00e9/"q"': {"get": {}, "parameters": []}, "/b": {"post": {}}},
        "components": {"schemas": {"X": "x" * 9000}},
    }
    answer = openapi_answer(spec)
    assert answer["response"]["body"]["truncated"]
    assert openapi_routes(answer) == [("GET", '/caf\u00e9/"q"'), ("POST", "/b")]


# On a real grading host ----------------------------------------------------------------------


def wait_for_state(user, session: str, wanted: str, timeout: float = 90) -> live.LiveSession:
    deadline = time.monotonic() + timeout
    while True:
        state = live_state(user=user, session=session)
        if state.state == wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def test_a_live_app_on_a_real_host_answers_and_stops(
    live_redis, learner, hello_exercise, start_grading_host
):
    start_grading_host()
    session = start(learner, hello_exercise).session
    running = wait_for_state(learner, session, "running")
    assert running.state == "running", running.message
    assert 250 <= running.seconds_left() <= 300

    answer = live_request(user=learner, session=session, data={"path": "/hello/ada"})
    assert answer["response"]["status"] == 200
    assert json.loads(answer["response"]["body"]["text"]) == {"message": "Hello, ada!"}
    missing = live_request(user=learner, session=session, data={"path": "/no-such-page"})
    assert missing["response"]["status"] == 404

    assert live_stop(user=learner, session=session).state == "stopped"
    # The host hears it and says so in the session's state.
    deadline = time.monotonic() + 30
    while live_redis.hget(live.LIVE_KEY.format(session=session), "state") != b"stopped":
        assert time.monotonic() < deadline, "the host did not stop the app"
        time.sleep(0.2)
