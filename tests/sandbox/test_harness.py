"""The grading harness: `expect`, the app client, and the pytest plugin's report.

The plugin runs for real (``python -m sandbox.harness``) against a small WSGI app served
in this process on a Unix socket, the way the runner uses it against a learner's app.
"""

from __future__ import annotations

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
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import httpx
import pytest
from django.conf import settings

from sandbox.harness.grader import AppClient, CheckFailed, excerpt, expect

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


def test_a_long_body_is_cut():
    response = answer(500, body=b"word " * 200)
    shown = excerpt(response)
    assert shown.endswith("…") and len(shown) <= 301


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
    with client, pytest.raises(CheckFailed, match=r"^GET /: could not connect to the app"):
        client.get("/")


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
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"nothing here"]


@pytest.fixture
def app_socket(short_tmp):
    path = short_tmp / "app.sock"
    server = UnixWSGIServer(str(path), QuietHandler)
    server.set_app(demo_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield path
    server.shutdown()
    server.server_close()


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
