from __future__ import annotations

import json
from pathlib import Path

from playground.live_examples import MAX_EXAMPLES, Example, visible_examples

HELLO_TESTS = (
    Path(__file__).resolve().parents[2] / "content/python-web/exercises/hello/tests/test_hello.py"
)


def paths(tests: dict[str, str]) -> list[str]:
    return [f"{example.method} {example.path}" for example in visible_examples(tests)]


def test_the_hello_exercise_offers_its_visible_requests_only():
    assert paths({"test_hello.py": HELLO_TESTS.read_text()}) == ["GET /", "GET /hello/ada"]


def test_hidden_tests_classes_and_modules_give_nothing():
    source = """
import pytest

@pytest.mark.visibility("hidden")
def test_a(client):
    client.get("/secret-a")

class TestHidden:
    pytestmark = pytest.mark.visibility("hidden")

    def test_b(self, client):
        client.get("/secret-b")

@pytest.mark.visibility("hidden")
class TestAlsoHidden:
    def test_c(self, client):
        client.get("/secret-c")

    @pytest.mark.visibility("visible")
    def test_d(self, client):
        client.get("/shown-d")

@pytest.mark.points(2)
def test_e(client):
    client.get("/shown-e")
"""
    assert paths({"test_x.py": source}) == ["GET /shown-d", "GET /shown-e"]
    hidden_module = 'import pytest\npytestmark = [pytest.mark.visibility("hidden")]\n' + source
    # Only the test marked visible itself is shown from a hidden module.
    assert paths({"test_x.py": hidden_module}) == ["GET /shown-d"]


def test_a_mark_that_cannot_be_read_without_running_hides_the_test():
    source = """
import pytest
secret = pytest.mark.visibility("hidden")

@secret
def test_a(client):
    client.get("/secret")

@pytest.mark.visibility(KIND)
def test_b(client):
    client.get("/secret-too")
"""
    assert paths({"test_x.py": source}) == []


def test_bodies_headers_and_queries_are_filled_in():
    source = """
def test_a(client):
    client.post("/items", json={"name": "Zoë"}, headers={"X-Key": "1"})
    client.request("put", "/items/1", data={"a": "b"})
    client.get("/search", params={"q": "web"})
    client.get(f"/items/{1}")  # not a plain string: left out
    other.get("/not-a-client")
"""
    examples = visible_examples({"test_x.py": source})
    assert examples[0] == Example(
        method="POST",
        path="/items",
        headers="X-Key: 1\nContent-Type: application/json",
        body=json.dumps({"name": "Zoë"}, indent=2, ensure_ascii=False),
        test="test_a",
    )
    assert examples[1].as_dict() == {
        "method": "PUT",
        "path": "/items/1",
        "headers": "Content-Type: application/x-www-form-urlencoded",
        "body": "a=b",
    }
    assert examples[2].path == "/search?q=web"
    assert len(examples) == 3


def test_broken_or_huge_files_and_too_many_calls_are_bounded():
    many = "def test_a(client):\n" + "".join(f'    client.get("/p{i}")\n' for i in range(100))
    assert len(visible_examples({"test_many.py": many})) == MAX_EXAMPLES
    assert visible_examples({"test_broken.py": "def test_a(:\n"}) == []
    huge = "def test_a(client):\n    client.get('/x')\n" + "#" * 300_000
    assert visible_examples({"test_huge.py": huge}) == []
    assert visible_examples({"data.json": '{"client.get": "/x"}'}) == []
