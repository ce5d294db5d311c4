"""The grading harness: `expect`, the app client, and the pytest plugin's report.

The plugin runs for real (``python -m sandbox.harness``) against a small WSGI app served
in this process on a Unix socket, the way the runner uses it against a learner's app.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import httpx
import pytest
from django.conf import settings

from sandbox.harness.grader import (
    AppClient,
    CheckFailed,
    PreconditionFailed,
    check,
    excerpt,
    expect,
    precondition,
)
from sandbox.harness.plugin import EXCHANGES_PER_RUN_BYTES, EXCHANGES_PER_TEST_BYTES

# expect() ----------------------------------------------------------------------------------


def answer(status=200, *, body=b"", content_type="text/plain", method="GET", url="/"):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://localhost") as c:
        return c.request(method, url)


def test_a_wrong_status_names_method_path_expected_actual_and_body():
    response = answer(500, body=b"Internal error: boom", method="POST", url="/notes")
    with pytest.raises(CheckFailed) as failure:
        expect(response, status=201)
    assert str(failure.value) == (
        "POST /notes: expected status 201, got 500. Body: Internal error: boom"
    )


def test_several_accepted_statuses_are_listed():
    with pytest.raises(CheckFailed, match=r"expected status 200 or 201, got 404\."):
        expect(answer(404), status=(200, 201))


def test_the_query_string_is_part_of_the_request_shown():
    with pytest.raises(CheckFailed, match=r"^GET /search\?q=ada: expected status 200"):
        expect(answer(400, url="/search?q=ada"), status=200)


def test_an_html_body_is_shown_as_its_words():
    page = (
        b"<html><head><style>h1{}</style><script>x()</script></head><h1>Tom &amp; Jerry</h1></html>"
    )
    response = answer(404, body=page, content_type="text/html; charset=utf-8")
    assert excerpt(response) == "Tom & Jerry"


def test_an_html_error_page_keeps_its_lines():
    page = (
        b"<!doctype html>\n<html lang=en>\n<title>501 Not Implemented</title>\n"
        b"<h1>Not Implemented</h1>\n<p>The server does not support the action.</p>\n"
    )
    response = answer(501, body=page, content_type="text/html; charset=utf-8", method="POST")
    with pytest.raises(CheckFailed) as failure:
        expect(response, status=201)
    assert str(failure.value) == (
        "POST /: expected status 201, got 501. Body: Not Implemented\n"
        "The server does not support the action."
    )


def test_a_long_body_is_cut():
    response = answer(500, body=b"word " * 200)
    shown = excerpt(response)
    assert shown.endswith("…") and len(shown) <= 301


def test_a_wrong_status_has_a_short_cause():
    with pytest.raises(CheckFailed) as failure:
        expect(answer(501, body=b"x" * 100, method="POST", url="/notes"), status=201)
    assert failure.value.cause == "POST /notes answered 501"


def test_the_cause_of_a_check_is_its_first_line_without_the_body_unless_given():
    with pytest.raises(CheckFailed) as failure:
        check(False, "GET /notes: expected a list. Body: {}\nmore")
    assert failure.value.cause == "GET /notes: expected a list"
    with pytest.raises(CheckFailed) as failure:
        check(False, "x" * 500)
    assert len(failure.value.cause) == 201 and failure.value.cause.endswith("…")
    with pytest.raises(CheckFailed) as failure:
        check(False, "the long story", cause="short")
    assert failure.value.cause == "short"


def test_a_failure_in_a_precondition_says_what_the_test_could_not_do():
    response = answer(501, body=b'{"detail": "Not implemented yet"}', method="POST", url="/notes")
    with pytest.raises(PreconditionFailed) as failure, precondition("create a note to test with"):
        expect(response, status=201)
    assert str(failure.value) == (
        "Could not create a note to test with. POST /notes: expected status 201, got 501. "
        'Body: {"detail": "Not implemented yet"}'
    )
    assert failure.value.cause == "POST /notes answered 501"


@pytest.mark.parametrize(
    ("error", "message", "cause"),
    [
        (AssertionError("no id in the answer"), "no id in the answer", "no id in the answer"),
        (KeyError("id"), "KeyError: 'id'", "KeyError: 'id'"),
        (AssertionError(), "AssertionError", "AssertionError"),
    ],
)
def test_any_error_in_a_precondition_fails_the_test_as_not_run(error, message, cause):
    with pytest.raises(PreconditionFailed) as failure, precondition("log in"):
        raise error
    assert str(failure.value) == f"Could not log in. {message}"
    assert failure.value.cause == cause


def test_nested_preconditions_keep_the_innermost_words():
    with (
        pytest.raises(PreconditionFailed) as failure,
        precondition("update a note"),
        precondition("create a note"),
    ):
        check(False, "POST /notes answered 500")
    assert str(failure.value) == "Could not create a note. POST /notes answered 500"


def test_an_empty_body_says_so():
    with pytest.raises(CheckFailed, match=r"Body: \(empty\)$"):
        expect(answer(204), status=200)


def test_a_json_mismatch_shows_both_values():
    response = answer(body=b'{"message": "Hi"}', content_type="application/json")
    with pytest.raises(CheckFailed) as failure:
        expect(response, status=200, json={"message": "Hello, ada!"})
    assert str(failure.value) == (
        'GET /: expected the JSON {"message": "Hello, ada!"}, got {"message": "Hi"}.'
    )


def test_a_body_that_is_not_json_is_named_with_its_content_type():
    response = answer(body=b"<p>Hello</p>", content_type="text/html")
    with pytest.raises(CheckFailed) as failure:
        expect(response, json={"a": 1})
    assert str(failure.value) == 'GET /: expected the JSON {"a": 1}, got text/html. Body: Hello'


def test_contains_content_type_and_headers_are_checked():
    response = answer(body=b"Hello, world!", content_type="text/plain; charset=utf-8")
    assert expect(response, status=200, contains=["Hello", "world"], content_type="text/plain")
    with pytest.raises(CheckFailed, match="expected the body to contain 'Bye'"):
        expect(response, contains="Bye")
    with pytest.raises(CheckFailed, match="expected content type application/json, got text/plain"):
        expect(response, content_type="application/json")
    with pytest.raises(CheckFailed, match="expected header x-id: 1, got None"):
        expect(response, headers={"x-id": "1"})


# The app client ----------------------------------------------------------------------------


@pytest.fixture
def short_tmp():
    """A folder short enough for Unix socket paths below it."""
    folder = Path(tempfile.mkdtemp(prefix="wc-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def raw_server(path: Path, behaviour) -> threading.Thread:
    """Serve one connection on a Unix socket with `behaviour(connection)`."""
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()

    def serve():
        connection, _ = listener.accept()
        with connection:
            behaviour(connection)
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_no_app_listening_is_a_plain_failure(short_tmp):
    client = AppClient(socket_path=str(short_tmp / "none.sock"), timeout=1)
    with client, pytest.raises(PreconditionFailed, match=r"^GET /: could not connect to the app"):
        client.get("/")


def test_no_app_listening_is_one_cause_whatever_the_request(short_tmp):
    causes = set()
    with AppClient(socket_path=str(short_tmp / "none.sock"), timeout=1) as client:
        for path in ("/", "/notes", "/notes/7"):
            with pytest.raises(PreconditionFailed) as failure:
                client.post(path)
            causes.add(failure.value.cause)
    assert causes == {"your app no longer accepted connections (did it crash?)"}


def test_an_app_that_does_not_answer_in_time_fails_with_the_limit(short_tmp):
    raw_server(short_tmp / "app.sock", lambda c: time.sleep(2))
    client = AppClient(socket_path=str(short_tmp / "app.sock"), timeout=0.5)
    with client, pytest.raises(CheckFailed) as failure:
        client.get("/slow")
    assert str(failure.value) == "GET /slow: no answer within 0.5 s"


def test_an_app_that_drops_the_connection_fails_saying_so(short_tmp):
    raw_server(short_tmp / "app.sock", lambda c: c.recv(65536))
    client = AppClient(socket_path=str(short_tmp / "app.sock"), timeout=2)
    with client, pytest.raises(CheckFailed) as failure:
        client.post("/notes", json={})
    assert str(failure.value) == "POST /notes: the app closed the connection (did it crash?)"


def test_json_of_a_non_json_answer_names_the_request(short_tmp):
    def behaviour(connection):
        connection.recv(65536)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n<b>hi</b>"
        )

    raw_server(short_tmp / "app.sock", behaviour)
    with AppClient(socket_path=str(short_tmp / "app.sock"), timeout=2) as client:
        response = client.get("/hello")
        with pytest.raises(CheckFailed) as failure:
            response.json()
    assert str(failure.value) == "GET /hello: expected a JSON body, got text/html. Body: hi"


# The plugin, through `python -m sandbox.harness` -------------------------------------------


class UnixWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    address_family = socket.AF_UNIX
    daemon_threads = True

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", 80
        self.setup_environ()


class QuietHandler(WSGIRequestHandler):
    def setup(self):
        self.client_address = ("local", 0)  # a Unix socket peer has no address
        super().setup()

    def log_message(self, *args):
        pass


def demo_app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"Hello"]
    if path == "/json":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"a": 1}']
    if path == "/slow":
        time.sleep(3)
    if path == "/big":  # as large as an answer may be shown, and then some
        # Headers of 25 KiB in all: more than an exchange keeps, less than the harness's
        # 32 KiB bound on a head (a larger head fails the request, or not, depending on how
        # the socket splits it).
        headers = [(f"X-Filler-{n}", "v" * 990) for n in range(25)]
        start_response("200 OK", [("Content-Type", "text/html"), *headers])
        return [b"<p>" + b"big " * 100_000 + b"</p>"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"nothing here"]


@contextlib.contextmanager
def serving_demo_app(path: Path) -> Iterator[Path]:
    """Serve demo_app on a Unix socket at `path` while the block runs."""
    server = UnixWSGIServer(str(path), QuietHandler)
    server.set_app(demo_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def app_socket(short_tmp):
    with serving_demo_app(short_tmp / "app.sock") as path:
        yield path


def run_harness(tests: dict[str, str], socket_path: Path, folder: Path, *extra: str, stdin=""):
    tests_dir = folder / "tests"
    tests_dir.mkdir()
    for name, text in tests.items():
        (tests_dir / name).write_text(text)
    report = folder / "report.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "sandbox.harness", str(tests_dir), str(socket_path), str(report),
            "--request-timeout", "1", *extra,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=folder,
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(settings.BASE_DIR),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        },
        timeout=60,
        check=False,
    )  # fmt: skip
    assert report.exists(), done.stdout + done.stderr
    return json.loads(report.read_text())


MIXED_TESTS = '''
import pytest
from grader import expect


def test_index(client):
    """GET / says hello."""
    expect(client.get("/"), status=200, contains="Hello")


@pytest.mark.points(3)
def test_json(client):
    expect(client.get("/json"), json={"a": 2})


@pytest.mark.visibility("hidden")
@pytest.mark.points(2)
def test_plain_assert(client):
    assert client.get("/").text == "Bye"


def test_crash_in_test(client):
    {}["missing"]


def test_slow(client):
    client.get("/slow")


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_setup_error(broken):
    pass


def test_skipped():
    pytest.skip("not today")


@pytest.mark.parametrize("path", ["/", "/json"])
def test_paths(client, path):
    """Paths answer."""
    expect(client.get(path), status=200)


def test_app_url(app_url):
    assert app_url == "http://localhost"
'''


@pytest.fixture
def mixed_report(app_socket, short_tmp):
    report = run_harness({"test_mixed.py": MIXED_TESTS}, app_socket, short_tmp)
    return {t["id"].split("::")[1]: t for t in report["tests"]}, report


def test_the_report_says_the_run_is_done(mixed_report):
    _, report = mixed_report
    assert report["state"] == "done"
    assert report["collect_errors"] == []


def test_points_visibility_and_names_are_read_from_markers_and_docstrings(mixed_report):
    tests, _ = mixed_report
    assert tests["test_index"]["name"] == "GET / says hello."
    assert tests["test_json"]["name"] == "test_json"
    assert tests["test_json"]["points"] == 3
    assert tests["test_index"]["points"] == 1
    assert tests["test_plain_assert"]["hidden"] is True
    assert tests["test_index"]["hidden"] is False
    assert tests["test_paths[/json]"]["name"] == "Paths answer. [/json]"


def test_each_test_has_its_outcome(mixed_report):
    tests, _ = mixed_report
    assert {name: t["status"] for name, t in tests.items()} == {
        "test_index": "passed",
        "test_json": "failed",
        "test_plain_assert": "failed",
        "test_crash_in_test": "failed",
        "test_slow": "failed",
        "test_setup_error": "error",
        "test_skipped": "skipped",
        "test_paths[/]": "passed",
        "test_paths[/json]": "passed",
        "test_app_url": "passed",
    }


def test_messages_say_what_went_wrong(mixed_report):
    tests, _ = mixed_report
    assert tests["test_index"]["message"] == ""
    assert tests["test_json"]["message"] == ('GET /json: expected the JSON {"a": 2}, got {"a": 1}.')
    assert tests["test_plain_assert"]["message"].startswith("assert 'Hello' == 'Bye'")
    assert tests["test_crash_in_test"]["message"] == "KeyError: 'missing'"
    assert tests["test_slow"]["message"] == "GET /slow: no answer within 1 s"
    assert tests["test_setup_error"]["message"] == "RuntimeError: fixture broke"
    assert tests["test_skipped"]["message"] == "not today"


FEEDBACK_TESTS = '''
import pytest
from grader import check, expect, precondition


def make_thing(client):
    with precondition("make a thing to test with"):
        expect(client.post("/things"), status=201)


def test_read(client):
    """A thing can be read."""
    make_thing(client)


@pytest.mark.visibility("hidden")
@pytest.mark.hint("  names with accents  ")
def test_accents(client):
    make_thing(client)


@pytest.mark.visibility("hidden")
@pytest.mark.hint("ids keep growing")
def test_plain_failure(client):
    check(False, "ids were reused")


@pytest.mark.hint("shown only when failing")
def test_passes(client):
    expect(client.get("/"), status=200)


@pytest.fixture
def thing(client):
    make_thing(client)


def test_fixture_precondition(thing):
    pass
'''


def test_the_report_carries_hints_and_the_cause_of_a_precondition(app_socket, short_tmp):
    report = run_harness({"test_feedback.py": FEEDBACK_TESTS}, app_socket, short_tmp)
    assert report["state"] == "done", report
    tests = {t["id"].split("::")[1]: t for t in report["tests"]}
    assert {name: (t["status"], t["cause"], t["hint"]) for name, t in tests.items()} == {
        "test_read": ("failed", "POST /things answered 404", ""),
        "test_accents": ("failed", "POST /things answered 404", "names with accents"),
        "test_plain_failure": ("failed", "", "ids keep growing"),
        "test_passes": ("passed", "", "shown only when failing"),
        "test_fixture_precondition": ("error", "POST /things answered 404", ""),
    }
    assert tests["test_read"]["message"] == (
        "Could not make a thing to test with. POST /things: expected status 201, got 404. "
        "Body: nothing here"
    )


@pytest.mark.parametrize(
    ("hint", "problem"),
    [
        ("", "needs a line of text"),
        ("42", "needs a line of text, not 42"),
        ('"two\\nlines"', "must be one line"),
        ('"x" * 121', "at most 120 characters, not 121"),
        ('"right\\u202eleft"', "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ],
    ids=["none", "not-text", "two-lines", "too-long", "bidi"],
)
def test_a_hint_that_cannot_be_shown_is_a_collection_error(app_socket, short_tmp, hint, problem):
    source = f"import pytest\n\n@pytest.mark.hint({hint})\ndef test_x():\n    pass\n"
    report = run_harness({"test_hint.py": source}, app_socket, short_tmp)
    assert report["state"] == "collect-error"
    (error,) = report["collect_errors"]
    assert "@pytest.mark.hint" in error and problem in error, error


@pytest.mark.parametrize(
    "source",
    [
        "def test_x(client:\n    pass\n",
        "import pytest\n\n@pytest.mark.pionts(2)\ndef test_x():\n    pass\n",
        "import pytest\n\n@pytest.mark.points(-1)\ndef test_x():\n    pass\n",
        "import pytest\n\n@pytest.mark.visibility('secret')\ndef test_x():\n    pass\n",
    ],
    ids=["syntax-error", "unknown-marker", "negative-points", "bad-visibility"],
)
def test_broken_tests_are_a_collection_error(app_socket, short_tmp, source):
    report = run_harness({"test_broken.py": source}, app_socket, short_tmp)
    assert report["state"] == "collect-error"
    assert report["collect_errors"]


def test_nothing_above_the_tests_folder_is_read(app_socket, short_tmp):
    # The run folder and those above it are not the exercise's: no conftest.py of theirs is
    # imported, and none of them is listed (the harness as nobody could not list them).
    (short_tmp / "conftest.py").write_text("raise RuntimeError('imported from above')\n")
    report = run_harness({"test_a.py": "def test_a():\n    pass\n"}, app_socket, short_tmp)
    assert report["state"] == "done", report
    assert [t["status"] for t in report["tests"]] == ["passed"]


def test_with_go_the_tests_wait_for_the_word(app_socket, short_tmp):
    report = run_harness(
        {"test_a.py": "def test_a(client):\n    assert client.get('/').text == 'Hello'\n"},
        app_socket, short_tmp, "--wait-for-go", stdin="go\n",
    )  # fmt: skip
    assert report["state"] == "done"
    assert report["tests"][0]["status"] == "passed"


def test_stop_instead_of_go_collects_without_running(app_socket, short_tmp):
    report = run_harness(
        {"test_a.py": "import pytest\n\n@pytest.mark.points(4)\ndef test_a(client):\n    pass\n"},
        app_socket, short_tmp, "--wait-for-go", stdin="stop\n",
    )  # fmt: skip
    assert report["state"] == "stopped"
    assert [(t["status"], t["points"]) for t in report["tests"]] == [("pending", 4)]


def test_done_is_said_on_the_done_descriptor(app_socket, short_tmp):
    read_end, write_end = os.pipe()
    tests_dir = short_tmp / "tests"
    tests_dir.mkdir()
    (tests_dir / "test_a.py").write_text("def test_a():\n    pass\n")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "sandbox.harness", str(tests_dir), str(app_socket),
            str(short_tmp / "report.json"), "--done-fd", str(write_end),
        ],
        pass_fds=(write_end,),
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(settings.BASE_DIR)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_end)
    with os.fdopen(read_end) as said:
        assert said.readline() == "done\n"
    process.wait(timeout=30)
    assert json.loads((short_tmp / "report.json").read_text())["state"] == "done"


EXCHANGE_TESTS = """
import pytest
from grader import expect


def test_failing(client):
    expect(client.get("/json"), status=200, json={"a": 2})


@pytest.mark.visibility("hidden")
def test_secret(client):
    expect(client.get("/json?secret=1"), status=404)


def test_loops(client):
    for _ in range(10_000):
        client.get("/")


@pytest.mark.parametrize("round", range(6))
def test_big(client, round):
    for _ in range(5):
        client.get("/big")
"""


def json_size(value) -> int:
    return len(json.dumps(value))


@pytest.fixture(scope="module")
def exchange_report():
    """Run EXCHANGE_TESTS once (ten thousand requests take a while): (tests by name, report)."""
    folder = Path(tempfile.mkdtemp(prefix="wc-"))
    try:
        with serving_demo_app(folder / "app.sock") as path:
            report = run_harness({"test_exchanges.py": EXCHANGE_TESTS}, path, folder)
        size = (folder / "report.json").stat().st_size
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {t["id"].split("::")[1]: t for t in report["tests"]}, size


def test_a_visible_test_s_requests_and_answers_are_in_the_report(exchange_report):
    tests, _ = exchange_report
    failing = tests["test_failing"]
    assert failing["status"] == "failed"
    (exchange,) = failing["exchanges"]
    assert (exchange["request"]["method"], exchange["request"]["path"]) == ("GET", "/json")
    assert exchange["response"]["status"] == 200
    assert exchange["response"]["body"]["text"] == '{\n  "a": 1\n}'
    assert failing["more_exchanges"] == 0


def test_a_hidden_test_records_nothing(exchange_report):
    tests, _ = exchange_report
    assert tests["test_secret"]["status"] == "failed"
    assert "exchanges" not in tests["test_secret"]
    assert all("secret=1" not in json.dumps(t.get("exchanges")) for t in tests.values())


def test_ten_thousand_requests_leave_five_exchanges_and_a_count(exchange_report):
    loops = exchange_report[0]["test_loops"]
    assert loops["status"] == "passed"
    assert len(loops["exchanges"]) == 5
    assert loops["more_exchanges"] == 10_000 - 5


def test_the_exchanges_of_a_run_stay_within_their_budgets(exchange_report):
    tests, report_size = exchange_report
    for test in tests.values():
        assert json_size(test.get("exchanges", [])) <= EXCHANGES_PER_TEST_BYTES
    assert sum(json_size(t.get("exchanges", [])) for t in tests.values()) <= (
        EXCHANGES_PER_RUN_BYTES
    )
    big = [tests[f"test_big[{n}]"] for n in range(6)]
    # The first big answers are kept slimmed; once the budget is spent, later ones are counted.
    assert big[0]["exchanges"] and len(big[0]["exchanges"][0]["response"]["headers"]) <= 12
    assert big[-1]["exchanges"] == [] and big[-1]["more_exchanges"] == 5
    assert report_size < EXCHANGES_PER_RUN_BYTES + 16 * 1024
