"""A live app in a real container: requests and their output, bounds, isolation, stopping."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from grading.host import ORPHAN_AGE, sweep_own_orphans
from grading.interactive import LIVE_LIFETIME
from sandbox import engine, exchanges
from sandbox.live import MAX_REQUESTS, MAX_RESPONSE_BYTES, LiveApp, LiveAppFailed, app_files
from sandbox.policy import DEFAULT_POLICY
from sandbox.runner import CONTAINER_GRACE
from tests.sandbox.memory import tree_memory

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]


@dataclass(frozen=True)
class Request:
    method: str = "GET"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""


HELLO_FLASK = """
import os
import socket

from flask import Flask, jsonify, request

app = Flask(__name__)
print("starting up")


@app.get("/hello/<name>")
def hello(name):
    print(f"greeting {name}")
    return jsonify(greeting=f"Hello, {name}!")


@app.post("/echo")
def echo():
    return jsonify(body=request.get_data(as_text=True), kind=request.headers.get("X-Kind"))


@app.get("/chatty")
def chatty():
    for number in range(200_000):
        print(f"line {number} " + "y" * 40)
    return "done"


@app.get("/huge")
def huge():
    return "x" * (50 * 1024 * 1024)


@app.get("/connect")
def connect():
    host, port = request.args["host"], int(request.args["port"])
    try:
        with socket.create_connection((host, port), timeout=2):
            return "connected"
    except OSError as exc:
        return f"refused: {exc.strerror or exc}"


@app.get("/unix")
def unix():
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(request.args["path"])
            return "connected"
    except OSError as exc:
        return f"refused: {exc.strerror or exc}"


@app.get("/ls")
def ls():
    return jsonify(sorted(os.listdir(request.args["path"])))
"""

FASTAPI_APP = """
from fastapi import FastAPI

app = FastAPI(title="Notes")


@app.get("/notes/{note_id}")
def read_note(note_id: int):
    print("reading", note_id)
    return {"id": note_id}
"""


def gone(app: LiveApp) -> bool:
    return not engine.sandbox_containers(**{engine.RUN_LABEL: app.run_id}) and not (
        app.run_folder is not None and app.run_folder.exists()
    )


@pytest.fixture
def hello_app() -> Iterator[LiveApp]:
    app = LiveApp(files={"app.py": HELLO_FLASK}, framework="flask", lifetime=60)
    app.start()
    yield app
    app.stop()
    assert gone(app)


def test_a_flask_app_answers_with_json_and_shows_what_it_printed_then(hello_app):
    first = hello_app.request(Request(path="/hello/ada"))
    second = hello_app.request(Request(path="/hello/grace"))
    assert first["response"]["status"] == 200
    assert first["response"]["body"]["kind"] == "json"
    assert json.loads(first["response"]["body"]["text"]) == {"greeting": "Hello, ada!"}
    assert first["output"] == "greeting ada"
    assert second["output"] == "greeting grace"
    assert first["error"] == "" and first["duration_ms"] is not None
    assert "starting up" in hello_app.log() and "greeting" not in hello_app.log()
    assert exchanges.exchange_from_data(json.loads(json.dumps(first))) == first


def test_a_request_carries_its_method_headers_and_body(hello_app):
    sent = hello_app.request(
        Request(method="POST", path="/echo", headers=(("X-Kind", "note"),), body="hi there")
    )
    assert json.loads(sent["response"]["body"]["text"]) == {"body": "hi there", "kind": "note"}
    assert sent["request"]["headers"] == [["X-Kind", "note"]]
    assert sent["request"]["body"]["text"] == "hi there"


def test_a_huge_answer_is_cut_and_never_read_whole(hello_app):
    with tree_memory() as memory:
        started = time.monotonic()
        huge = hello_app.request(Request(path="/huge"))
        seconds = time.monotonic() - started
    body = huge["response"]["body"]
    assert body["truncated"] is True
    assert body["bytes"] == 50 * 1024 * 1024  # as the app declared it
    assert len(body["text"]) <= exchanges.MAX_BODY_CHARS
    assert memory.above_idle < 20 * MAX_RESPONSE_BYTES + 30 * 1024 * 1024, memory.describe()
    assert seconds < 5
    # The connection was dropped, and the app still answers.
    assert hello_app.request(Request(path="/hello/ada"))["response"]["status"] == 200


def test_an_app_answers_a_bounded_number_of_requests_and_keeps_little_of_old_output(hello_app):
    for name in ("ada", "bo", "cy"):
        assert hello_app.request(Request(path=f"/hello/{name}"))["output"] == f"greeting {name}"
    capture = hello_app._run.capture
    assert all(segment.total == 0 for segment in capture.segments[1:-1])  # freed once shown
    hello_app.answered = MAX_REQUESTS
    refused = hello_app.request(Request(path="/hello/ada"))
    assert refused["response"] is None
    assert refused["error"] == f"This app has answered its {MAX_REQUESTS} requests; start it again."


def test_what_an_app_prints_during_a_request_is_kept_within_bounds(hello_app):
    with tree_memory() as memory:
        chatty = hello_app.request(Request(path="/chatty"))
    assert chatty["response"]["body"]["text"] == "done"
    assert len(chatty["output"]) <= exchanges.MAX_OUTPUT_CHARS
    assert chatty["output"].startswith("line 0 ")
    assert memory.above_idle < 30 * 1024 * 1024, memory.describe()
    assert hello_app.request(Request(path="/hello/ada"))["output"] == "greeting ada"


def test_a_fastapi_app_lists_its_routes_in_openapi_json():
    with LiveApp(files={"main.py": FASTAPI_APP}, framework="fastapi", lifetime=60) as app:
        schema = app.request(Request(path="/openapi.json"))
        note = app.request(Request(path="/notes/7"))
    assert schema["response"]["status"] == 200
    assert "/notes/{note_id}" in json.loads(schema["response"]["body"]["text"])["paths"]
    assert json.loads(note["response"]["body"]["text"]) == {"id": 7}
    assert "reading 7" in note["output"]
    assert gone(app)


@pytest.mark.parametrize("framework", ["django", "wsgi", "asgi"])
def test_the_hello_solution_of_each_other_framework_answers_live(hello_spec, framework):
    with LiveApp(files=hello_spec.solution(framework), framework=framework, lifetime=60) as app:
        ada = app.request(Request(path="/hello/ada"))
    assert ada["response"]["status"] == 200, ada
    assert json.loads(ada["response"]["body"]["text"]) == {"message": "Hello, ada!"}
    assert gone(app)


def test_an_app_that_does_not_start_fails_with_the_words_of_grading():
    app = LiveApp(
        files={"app.py": "import flask\nraise RuntimeError('no config')\n"},
        framework="flask",
        lifetime=60,
    )
    with pytest.raises(LiveAppFailed) as failed:
        app.start()
    assert failed.value.message.startswith("Your app stopped while starting.")
    assert "RuntimeError: no config" in failed.value.message
    assert gone(app)


def test_files_that_cannot_be_accepted_fail_before_any_container_starts():
    app = LiveApp(files={"app.py": "x = '\x00'\n"}, framework="flask", lifetime=60)
    with pytest.raises(LiveAppFailed, match="cannot be accepted"):
        app.start()
    assert app.container_id is None
    assert gone(app)


def test_stop_removes_the_container_and_the_run_folder(hello_app):
    container, folder = hello_app.container_id, hello_app.run_folder
    assert engine.container_state(container).running and folder.is_dir()
    hello_app.stop()
    assert not engine.container_state(container).running
    assert gone(hello_app)
    after = hello_app.request(Request(path="/hello/ada"))
    assert after["response"] is None and after["error"] == "The app is not running."


def test_the_container_ends_by_itself_after_its_lifetime_and_grace():
    app = LiveApp(files={"app.py": HELLO_FLASK}, framework="flask", lifetime=1)
    app.start()
    try:
        deadline = DEFAULT_POLICY.boot_timeout + 1 + CONTAINER_GRACE
        env = dict(
            v.split("=", 1) for v in engine.container_attrs(app.container_id)["Config"]["Env"]
        )
        assert deadline - 1 <= float(env["WEBCOURSE_DEADLINE"]) <= deadline
        started = time.monotonic()
        while not app.ended() and time.monotonic() - started < deadline + 5:
            time.sleep(0.2)
        assert app.ended()
        assert engine.container_state(app.container_id).exit_code == 124
        assert app.end_message() == "Your app's time was up, so it was stopped."
    finally:
        app.stop()
    assert gone(app)


def test_a_live_app_reaches_neither_the_network_nor_the_hosts_services(hello_app):
    # A server on every address of this host, as Redis or a web server may be.
    listener = socket.create_server(("0.0.0.0", 0))  # noqa: S104
    port = listener.getsockname()[1]
    threading.Thread(target=_accept_all, args=(listener,), daemon=True).start()
    try:
        gateways = _docker_gateways()
        for gateway in gateways:
            with socket.create_connection((gateway, port), timeout=2):
                pass  # from the host, it answers there
        for host in (*gateways, _main_address(), "1.1.1.1", "127.0.0.1"):
            probe = hello_app.request(Request(path=f"/connect?host={host}&port={port}"))
            assert probe["response"]["body"]["text"].startswith("refused"), (host, probe)
        assert hello_app.request(Request(path="/ls?path=/sys/class/net"))["response"]["body"][
            "text"
        ] == json.dumps(["lo"], indent=2)
    finally:
        listener.close()


def test_one_live_app_cannot_reach_another(hello_app):
    with LiveApp(files={"app.py": HELLO_FLASK}, framework="flask", lifetime=60) as other:
        theirs = str(other.run_folder / "sockets" / "app.sock")
        own = hello_app.request(Request(path="/unix?path=/run/app/app.sock"))
        across = hello_app.request(Request(path=f"/unix?path={theirs}"))
        listing = hello_app.request(Request(path="/ls?path=/run/app"))
        assert own["response"]["body"]["text"] == "connected"  # the probe works
        assert across["response"]["body"]["text"].startswith("refused"), across
        assert json.loads(listing["response"]["body"]["text"]) == ["app.sock", "control.sock"]
        mounts = {m["Source"] for m in engine.container_attrs(hello_app.container_id)["Mounts"]}
        assert not any(str(other.run_folder) in source for source in mounts)
        assert other.request(Request(path="/hello/bo"))["response"]["status"] == 200


def test_the_hosts_periodic_sweep_leaves_a_live_app_within_its_lifetime(hello_app):
    # A live app's container lives at most start-up + lifetime + grace: younger than an orphan.
    assert DEFAULT_POLICY.boot_timeout + LIVE_LIFETIME + CONTAINER_GRACE < ORPHAN_AGE
    sweep_own_orphans()
    assert engine.container_state(hello_app.container_id).running
    assert hello_app.run_folder.is_dir()
    assert hello_app.request(Request(path="/hello/ada"))["response"]["status"] == 200


def test_an_entry_module_of_another_name_is_found_through_a_module_boot_looks_for():
    files = app_files({"hello.py": HELLO_FLASK}, "flask", "hello.py")
    assert files["app.py"].startswith("from hello import *")
    assert app_files({"main.py": FASTAPI_APP}, "fastapi", "main.py") == {"main.py": FASTAPI_APP}
    with LiveApp(files=files, framework="flask", lifetime=60) as app:
        hello = app.request(Request(path="/hello/ada"))
    assert hello["output"] == "greeting ada"


def _accept_all(listener: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while True:
            listener.accept()[0].close()


def _docker_gateways() -> list[str]:
    """Return the gateway addresses of the engine's networks (docker0's, at least)."""
    found = []
    for network in engine.client().networks.list():
        for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
            if config.get("Gateway"):
                found.append(config["Gateway"])
    assert found, "the engine has no network with a gateway"
    return found


def _main_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
