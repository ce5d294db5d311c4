"""Hostile answers: whatever the learner's app sends, the grading host stays small and quick.

Each app answers GET / with something built to exhaust the process that reads it. Each run
must end in a clear verdict within its limits, leave nothing behind, and keep the resident
memory of the grading process tree (this process, the fork server, the harness) within
MAX_GROWTH of what it was before the run.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from sandbox.policy import DEFAULT_POLICY, MiB
from tests.sandbox.conftest import grade_files, leftovers
from tests.sandbox.harness.bombs import gzip_twice, gzip_zeros
from tests.sandbox.memory import tree_memory

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]

MAX_GROWTH = 300 * MiB
POLICY = DEFAULT_POLICY.with_overrides({"wall_timeout": 30, "request_timeout": 5})
NAME = "GET / answers 200."
TESTS = {
    "test_app.py": (
        "from grader import expect\n\n\n"
        "def test_index(client):\n"
        f'    """{NAME}"""\n'
        "    expect(client.get('/'), status=200)\n"
    )
}


def hostile_app(answer: str) -> str:
    """Return an app.py: a Flask app whose every request is answered by the WSGI `answer`."""
    return (
        "import os\nimport time\n\nfrom flask import Flask\n\n"
        "HERE = os.path.dirname(os.path.abspath(__file__))\n"
        "app = Flask(__name__)\n\n\n"
        f"{answer}\n\n"
        "app.wsgi_app = answer\n"
    )


def grade_hostile(answer: str, **files: bytes):
    """Grade a hostile app; check it ended cleanly and within the bounds; return the test."""
    with tree_memory() as memory:
        graded = grade_files({"app.py": hostile_app(answer), **files}, tests=TESTS, policy=POLICY)
    timings = graded.result["timings"]
    took = datetime.fromisoformat(timings["finished"]) - datetime.fromisoformat(timings["started"])
    print(
        f"\n{graded.result['message']!r}: {took.total_seconds():.1f} s, "
        f"{memory.above_idle / MiB:.1f} MiB above idle\n{memory.describe()}"
    )
    assert graded.result["status"] == "failed", graded.result
    assert took.total_seconds() < POLICY.wall_timeout
    assert leftovers(graded) == []
    assert memory.above_idle <= MAX_GROWTH, memory.describe()
    test = graded.tests[NAME]
    assert test["status"] == "failed"
    return test, took.total_seconds()


def test_a_gzip_bomb_fails_once_decoding_passes_the_limit():
    answer = (
        "BOMB = open(os.path.join(HERE, 'bomb.gz'), 'rb').read()  # 512 MiB of zeros\n\n\n"
        "def answer(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Encoding', 'gzip'), "
        "('Content-Length', str(len(BOMB)))])\n"
        "    return [BOMB]\n"
    )
    test, _ = grade_hostile(answer, **{"bomb.gz": gzip_zeros(512 * MiB)})
    assert test["message"] == (
        "GET /: the response was larger than 1 MiB once decoded (Content-Encoding: gzip)."
    )


def test_stacked_encodings_fail_once_decoding_passes_the_limit():
    answer = (
        "BOMB = open(os.path.join(HERE, 'bomb.gz.gz'), 'rb').read()  # 2 GiB, 5 KB sent\n\n\n"
        "def answer(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Encoding', 'gzip, gzip'), "
        "('Content-Length', str(len(BOMB)))])\n"
        "    return [BOMB]\n"
    )
    test, _ = grade_hostile(answer, **{"bomb.gz.gz": gzip_twice(2048 * MiB)})
    assert test["message"] == (
        "GET /: the response was larger than 1 MiB once decoded (Content-Encoding: gzip, gzip)."
    )


def test_an_endless_body_fails_past_the_size_limit():
    answer = (
        "def answer(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    chunk = b'x' * 65536\n"
        "    while True:\n"
        "        yield chunk\n"
    )
    test, _ = grade_hostile(answer)
    assert test["message"] == "GET /: the response was larger than 1 MiB"


def test_a_body_dripped_a_byte_a_second_fails_at_the_request_timeout():
    answer = (
        "def answer(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    while True:\n"
        "        yield b'x'\n"
        "        time.sleep(1)\n"
    )
    test, _ = grade_hostile(answer)
    assert test["message"] == "GET /: the answer took longer than 5 s in all"


def test_a_flood_of_informational_answers_fails():
    answer = (
        "def answer(environ, start_response):\n"
        "    connection = environ['gunicorn.socket']  # past the server, straight to the wire\n"
        "    while True:\n"
        "        connection.sendall(b'HTTP/1.1 100 Continue\\r\\n\\r\\n' * 64)\n"
    )
    test, _ = grade_hostile(answer)
    assert test["message"] == (
        "GET /: the app sent more than 16 informational (1xx) answers without a real one."
    )


def test_a_mebibyte_of_headers_fails():
    answer = (
        "HEADERS = [(f'X-Filler-{n}', 'x' * 1000) for n in range(1024)]  # 1 MiB\n\n\n"
        "def answer(environ, start_response):\n"
        "    start_response('200 OK', HEADERS)\n"
        "    return [b'ok']\n"
    )
    test, _ = grade_hostile(answer)
    assert test["message"] == "GET /: the answer's status line and headers were larger than 32 KiB."
