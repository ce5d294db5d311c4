"""Hostile submissions: each ends in a clear verdict within the limits and leaves nothing behind."""

from __future__ import annotations

import http.server
import io
import os
import socket
import stat
import threading
import zipfile

import pytest

from sandbox.policy import DEFAULT_POLICY, MiB
from tests.sandbox.conftest import SIMPLE_TESTS, flask_app, grade_files, leftovers

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]

# Most cases only need a quicker clock; memory, processes and output stay on the defaults.
QUICK = DEFAULT_POLICY.with_overrides({"boot_timeout": 3, "wall_timeout": 20, "request_timeout": 2})


def assert_finished_cleanly(graded, *, within: float) -> None:
    """The run ended within its limit, removed its container and its folders."""
    assert leftovers(graded) == []
    timings = graded.result["timings"]
    assert timings["started"] and timings["finished"]
    from datetime import datetime

    took = datetime.fromisoformat(timings["finished"]) - datetime.fromisoformat(timings["started"])
    # Not a speed test: a run must simply not outlive its whole-run limit (plus clean-up).
    assert took.total_seconds() < within + 10


# Resources ------------------------------------------------------------------------------------


def test_a_fork_bomb_that_fails_is_an_error_naming_the_limit_it_hit():
    app = "import os\nwhile True:\n    os.fork()\n"
    graded = grade_files({"app.py": app}, tests=SIMPLE_TESTS)
    result = graded.result
    assert result["status"] == "error"
    # 128 forked interpreters may fill 256 MiB before the 129th fork fails: either limit
    # may be the one that stops it, and the message must name that one.
    message = result["message"]
    hit_pids = (
        "Your app stopped while starting" in message
        and f"at most {DEFAULT_POLICY.pids_limit} processes" in message
    )
    hit_memory = "ran out of memory (256 MiB)" in message
    assert hit_pids or hit_memory, message
    assert result["max_score"] == 1 and result["score"] == 0
    assert_finished_cleanly(graded, within=DEFAULT_POLICY.wall_timeout)


def test_a_fork_bomb_that_keeps_going_hits_the_start_up_limit():
    app = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    graded = grade_files({"app.py": app}, tests=SIMPLE_TESTS)
    result = graded.result
    assert result["status"] == "timeout"
    assert "start-up time limit (15 s)" in result["message"]
    assert_finished_cleanly(graded, within=DEFAULT_POLICY.wall_timeout)


def test_a_memory_bomb_at_import_is_an_out_of_memory_error():
    app = "hog = []\nwhile True:\n    hog.append(bytearray(10_000_000))\n"
    graded = grade_files({"app.py": app}, tests=SIMPLE_TESTS)
    result = graded.result
    assert result["status"] == "error"
    assert "ran out of memory (256 MiB)" in result["message"]
    assert_finished_cleanly(graded, within=DEFAULT_POLICY.wall_timeout)


def test_a_memory_bomb_in_a_handler_fails_that_test_and_says_why():
    app = flask_app(
        "@app.get('/hog')\n"
        "def hog():\n"
        "    hog = []\n"
        "    while True:\n"
        "        hog.append(bytearray(10_000_000))\n"
    )
    tests = {
        "test_app.py": (
            "def test_hog(client):\n"
            "    assert client.get('/hog').status_code == 200\n\n"
            "def test_index_after(client):\n"
            "    assert client.get('/').text == 'ok'\n"
        )
    }
    graded = grade_files({"app.py": app}, tests=tests)
    result = graded.result
    assert result["status"] == "failed"
    hog = graded.tests["test_hog"]
    assert hog["status"] == "failed"
    assert "GET /hog: the app closed the connection (did it crash?)" in hog["message"]
    assert "256 MiB" in result["message"]
    # gunicorn starts a fresh worker: the app goes on answering.
    assert graded.tests["test_index_after"]["status"] == "passed"
    assert_finished_cleanly(graded, within=DEFAULT_POLICY.wall_timeout)


def test_a_cpu_spin_at_import_hits_the_start_up_limit():
    graded = grade_files({"app.py": "while True:\n    pass\n"}, tests=SIMPLE_TESTS, policy=QUICK)
    result = graded.result
    assert result["status"] == "timeout"
    assert "start-up time limit (3 s)" in result["message"]
    assert [t["status"] for t in result["tests"]] == ["skipped"]
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_an_infinite_loop_in_a_handler_fails_only_that_test():
    app = flask_app("@app.get('/spin')\ndef spin():\n    while True:\n        pass\n")
    tests = {
        "test_app.py": (
            "from grader import expect\n\n"
            "def test_spin(client):\n"
            "    expect(client.get('/spin'), status=200)\n\n"
            "def test_index(client):\n"
            "    expect(client.get('/'), status=200)\n"
        )
    }
    graded = grade_files({"app.py": app}, tests=tests, policy=QUICK)
    result = graded.result
    assert result["status"] == "failed"
    assert graded.tests["test_spin"]["message"] == "GET /spin: no answer within 2 s"
    assert graded.tests["test_index"]["status"] == "passed"
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_tests_that_outlast_the_whole_run_limit_end_in_a_timeout():
    app = flask_app("@app.get('/slow')\ndef slow():\n    import time\n    time.sleep(30)\n")
    tests = {
        "test_app.py": (
            "def test_one(client):\n    assert client.get('/').status_code == 200\n\n"
            + "".join(f"def test_slow_{n}(client):\n    client.get('/slow')\n\n" for n in range(5))
        )
    }
    policy = DEFAULT_POLICY.with_overrides({"wall_timeout": 6, "request_timeout": 4})
    graded = grade_files({"app.py": app}, tests=tests, policy=policy)
    result = graded.result
    assert result["status"] == "timeout"
    assert "whole-run time limit (6 s)" in result["message"]
    statuses = [t["status"] for t in result["tests"]]
    assert statuses[0] == "passed"
    assert "error" in statuses and statuses[-1] == "skipped"
    assert result["score"] == 1 and result["max_score"] == 6
    assert_finished_cleanly(graded, within=policy.wall_timeout)


def test_a_hundred_megabytes_of_output_is_cut_keeping_head_and_tail():
    app = flask_app(
        top=(
            "import sys\n"
            "print('FIRST LINE')\n"
            "for _ in range(100):\n"
            "    sys.stdout.write('x' * (1024 * 1024) + '\\n')\n"
            "print('LAST LINE')\n"
        )
    )
    graded = grade_files({"app.py": app}, tests=SIMPLE_TESTS)
    result = graded.result
    assert result["status"] == "passed"
    log = result["log"]
    assert log.startswith("FIRST LINE")
    assert "LAST LINE" in log
    assert "[output truncated: " in log and " bytes not shown]" in log
    assert len(log.encode()) < DEFAULT_POLICY.log_limit_bytes + 200
    assert_finished_cleanly(graded, within=DEFAULT_POLICY.wall_timeout)


# Disk -------------------------------------------------------------------------------------------


def test_filling_the_scratch_disk_stops_at_its_size_and_the_app_goes_on():
    app = flask_app(
        "@app.get('/fill')\n"
        "def fill():\n"
        "    n = 0\n"
        "    try:\n"
        "        while True:\n"
        "            with open(f'/scratch/fill-{n}', 'wb') as f:\n"
        "                for _ in range(16):\n"
        "                    f.write(b'x' * 1024 * 1024)\n"
        "            n += 1\n"
        "    except OSError as exc:\n"
        "        return jsonify(error=exc.strerror, files=n)\n"
    )
    tests = {
        "test_app.py": (
            "def test_fill(client):\n"
            "    answer = client.get('/fill').json()\n"
            "    assert answer['error'] in ('No space left on device', 'File too large')\n"
            "    assert answer['files'] <= 4\n\n"
            "def test_still_up(client):\n"
            "    assert client.get('/').text == 'ok'\n"
        )
    }
    graded = grade_files({"app.py": app}, tests=tests, policy=QUICK)
    assert graded.result["status"] == "passed", graded.result
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_the_socket_folder_is_sealed_before_any_code_of_the_app_runs():
    # Importing app.py is the first code of the learner's to run: the folder is sealed by then.
    app = flask_app(
        top=(
            "n = 0\n"
            "while True:\n"
            "    with open(f'/run/app/fill-{n}', 'wb') as f:\n"
            "        f.write(b'x' * 4 * 1024 * 1024)\n"
            "    n += 1\n"
        )
    )
    graded = grade_files({"app.py": app}, tests=SIMPLE_TESTS, policy=QUICK)
    result = graded.result
    assert result["status"] == "error"
    assert "PermissionError: [Errno 13] Permission denied: '/run/app/fill-0'" in result["message"]
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_the_socket_folder_is_sealed_once_the_app_is_up():
    app = flask_app(
        "@app.get('/write')\n"
        "def write():\n"
        "    try:\n"
        "        open('/run/app/late', 'wb').write(b'x')\n"
        "    except OSError as exc:\n"
        "        return exc.strerror\n"
        "    return 'written'\n"
    )
    tests = {
        "test_app.py": (
            "def test_write(client):\n    assert client.get('/write').text == 'Permission denied'\n"
        )
    }
    graded = grade_files({"app.py": app}, tests=tests, policy=QUICK)
    assert graded.result["status"] == "passed", graded.result
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


# Network and secrets ---------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"reached")

    def log_message(self, *args):
        pass


@pytest.fixture
def host_servers():
    """Web servers on this host (0.0.0.0 and 127.0.0.1) that record any request reaching them."""
    _Recorder.hits = []
    servers = [
        http.server.ThreadingHTTPServer((address, 0), _Recorder)
        for address in ("0.0.0.0", "127.0.0.1")  # noqa: S104 - the point is to listen everywhere
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield [s.server_address[1] for s in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def host_addresses() -> list[str]:
    """Return this host's addresses a container might use to reach it: gateways, main IP."""
    found = {"172.17.0.1"}
    with open("/proc/net/route") as routes:
        for line in routes.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000" and fields[2] != "00000000":
                found.add(socket.inet_ntoa(bytes.fromhex(fields[2])[::-1]))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; this only picks a source address
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(found)


def test_the_app_reaches_neither_the_internet_nor_the_host(host_servers):
    wide, local = host_servers
    targets = [("1.1.1.1", 80), ("8.8.8.8", 53), ("127.0.0.1", local), ("127.0.0.1", wide)]
    targets += [(address, wide) for address in host_addresses()]
    app = flask_app(
        "@app.get('/reach')\n"
        "def reach():\n"
        "    import socket, urllib.request\n"
        "    reached = []\n"
        f"    for host, port in {targets!r}:\n"
        "        try:\n"
        "            socket.create_connection((host, port), timeout=1).close()\n"
        "            reached.append(f'{host}:{port}')\n"
        "        except OSError:\n"
        "            pass\n"
        "    try:\n"
        "        urllib.request.urlopen('http://example.com', timeout=1)\n"
        "        reached.append('example.com')\n"
        "    except OSError:\n"
        "        pass\n"
        "    return jsonify(reached)\n"
    )
    tests = {
        "test_app.py": "def test_reach(client):\n    assert client.get('/reach').json() == []\n"
    }
    policy = DEFAULT_POLICY.with_overrides({"request_timeout": 20, "wall_timeout": 40})
    graded = grade_files({"app.py": app}, tests=tests, policy=policy)
    assert graded.result["status"] == "passed", graded.result["tests"]
    assert _Recorder.hits == []
    assert_finished_cleanly(graded, within=policy.wall_timeout)


def test_the_app_cannot_find_the_tests_anywhere_on_its_disk():
    token = "hidden-test-token-" + os.urandom(8).hex()
    app = flask_app(
        "@app.get('/search')\n"
        "def search():\n"
        "    import os\n"
        "    found = []\n"
        f"    needle = {token[:10]!r} + {token[10:]!r}\n"
        "    for root, dirs, files in os.walk('/'):\n"
        "        if root in ('/proc', '/sys', '/dev'):\n"
        "            dirs[:] = []\n"
        "            continue\n"
        "        for name in files:\n"
        "            path = os.path.join(root, name)\n"
        "            try:\n"
        "                if os.path.getsize(path) < 1_000_000:\n"
        "                    with open(path, 'rb') as f:\n"
        "                        if needle.encode() in f.read():\n"
        "                            found.append(path)\n"
        "            except OSError:\n"
        "                pass\n"
        "    return jsonify(found)\n"
    )
    tests = {
        "test_app.py": (
            f"# {token}\ndef test_search(client):\n    assert client.get('/search').json() == []\n"
        )
    }
    policy = DEFAULT_POLICY.with_overrides({"request_timeout": 30, "wall_timeout": 60})
    graded = grade_files({"app.py": app}, tests=tests, policy=policy)
    assert graded.result["status"] == "passed", graded.result["tests"]
    assert_finished_cleanly(graded, within=policy.wall_timeout)


# Archives ----------------------------------------------------------------------------------------


def zip_of(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buffer.getvalue()


def rejected(archive: bytes):
    graded = grade_files(archive=archive, tests=SIMPLE_TESTS, policy=QUICK)
    assert graded.result["status"] == "error"
    assert graded.result["max_score"] == 1  # the tests were still counted
    assert graded.run.container is None  # nothing was started
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)
    return graded.result["message"]


def test_a_zip_slip_is_refused():
    message = rejected(zip_of(("app.py", b"app = 1"), ("../../evil.py", b"boom")))
    assert "evil.py" in message


def test_a_symlink_to_etc_is_refused():
    link = zipfile.ZipInfo("etc")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    message = rejected(zip_of(("app.py", flask_app().encode()), (link, b"/etc")))
    assert "link" in message.lower()


def test_a_zip_bomb_is_refused():
    message = rejected(zip_of(("app.py", flask_app().encode()), ("bomb.txt", bytes(200 * MiB))))
    assert "MiB" in message


def test_ten_thousand_files_are_refused():
    members = [(f"static/f{n}.txt", b"x") for n in range(10_000)]
    message = rejected(zip_of(("app.py", flask_app().encode()), *members))
    assert "files" in message


def test_binary_junk_is_refused_as_not_a_zip():
    message = rejected(os.urandom(4096))
    assert "not a zip" in message


def test_non_utf8_file_names_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", flask_app())
        info = zipfile.ZipInfo("cafe.py")
        archive.writestr(info, "x = 1")
    # "café.py" as an old Windows tool writes it: cp1252 bytes, no UTF-8 flag (same length).
    data = buffer.getvalue().replace(b"cafe.py", b"caf\xe9.py")
    message = rejected(data)
    assert "name" in message.lower()


# Broken apps ------------------------------------------------------------------------------------


def test_a_syntax_error_names_the_file_and_line_with_short_paths():
    graded = grade_files(
        {"app.py": "from flask import Flask\napp = Flask(__name__\n"},
        tests=SIMPLE_TESTS,
        policy=QUICK,
    )
    result = graded.result
    assert result["status"] == "error"
    assert "SyntaxError" in result["message"]
    assert 'File "app.py", line 2' in result["message"]
    assert "/scratch/app" not in result["message"] + result["log"]
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_a_missing_entry_point_says_what_was_found():
    graded = grade_files(
        {"server.py": flask_app(), "README.md": "hi"}, tests=SIMPLE_TESTS, policy=QUICK
    )
    message = graded.result["message"]
    assert graded.result["status"] == "error"
    assert message.startswith(
        "app.py not found at the top of your submission; found: README.md, server.py"
    )
    assert "rename it to app.py" in message
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_a_package_missing_from_the_sandbox_is_not_gradable():
    files = {"app.py": flask_app(), "requirements.txt": "flask>=3\nleftpad-ng==1.0\nnumpy\n"}
    graded = grade_files(files, tests=SIMPLE_TESTS, policy=QUICK)
    message = graded.result["message"]
    assert graded.result["status"] == "error"
    assert "not available in the sandbox: leftpad-ng, numpy" in message
    assert "no network" in message
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_an_exception_at_import_shows_the_learners_traceback():
    files = {
        "app.py": flask_app(top="import helpers\n"),
        "helpers.py": "x = {}\nvalue = x['missing']\n",
    }
    graded = grade_files(files, tests=SIMPLE_TESTS, policy=QUICK)
    message = graded.result["message"]
    assert graded.result["status"] == "error"
    assert message.startswith("Your app stopped while starting.")
    assert 'File "helpers.py", line 2' in message
    assert "KeyError: 'missing'" in message
    assert "boot.py" not in message
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_an_app_that_exits_while_starting_shows_its_last_output():
    files = {"app.py": "import os\nprint('giving up now')\nos._exit(7)\n"}
    graded = grade_files(files, tests=SIMPLE_TESTS, policy=QUICK)
    message = graded.result["message"]
    assert graded.result["status"] == "error"
    assert "Your app stopped while starting (exit code 7)" in message
    assert "giving up now" in message
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)


def test_a_planted_link_in_place_of_the_socket_is_not_followed():
    # The app tries to plant app.sock -> a host path and to claim it is ready (without the
    # run's nonce): the socket is boot.py's already, and the folder is sealed.
    app = (
        "import os\n"
        "os.symlink('/var/run/docker.sock', '/run/app/app.sock')\n"
        "print('\\n@@webcourse:ready', flush=True)\n"
        "import time\n"
        "time.sleep(60)\n"
    )
    graded = grade_files({"app.py": app}, tests=SIMPLE_TESTS, policy=QUICK)
    assert graded.result["status"] == "error"
    assert "File exists: '/var/run/docker.sock' -> '/run/app/app.sock'" in graded.result["message"]
    assert_finished_cleanly(graded, within=QUICK.wall_timeout)
