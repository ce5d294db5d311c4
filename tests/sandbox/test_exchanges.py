"""One HTTP exchange as pages show it: shapes, kinds and bounds, whatever the app answered."""

from __future__ import annotations

import json

import pytest

from sandbox import exchanges
from sandbox.exchanges import MAX_BODY_CHARS, MAX_HEADERS, exchange, exchange_from_data


def test_a_json_answer_is_pretty_printed_and_survives_its_trip_through_json():
    recorded = exchange(
        method="GET",
        path="/hello/ada",
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "application/json; charset=utf-8")],
        response_body=b'{"message":"Hello, Ada!"}',
        output="GET /hello/ada\n",
        duration_ms=12.345,
    )
    assert recorded["response"]["body"] == {
        "text": '{\n  "message": "Hello, Ada!"\n}',
        "kind": "json",
        "bytes": 25,
        "truncated": False,
    }
    assert recorded["duration_ms"] == 12.3
    assert exchange_from_data(json.loads(json.dumps(recorded))) == recorded


@pytest.mark.parametrize(
    ("content_type", "data", "kind", "text"),
    [
        ("text/html; charset=utf-8", b"<h1>Hi</h1>", "html", "<h1>Hi</h1>"),
        ("application/problem+json", b'{"a":1}', "json", '{\n  "a": 1\n}'),
        ("application/json", b"{not json", "text", "{not json"),
        ("application/octet-stream", b"\x89PNG\x00\x00", "binary", ""),
        ("text/plain", b"caf\xe9", "text", "caf\ufffd"),
        ("", b"", "empty", ""),
    ],
)
def test_a_body_is_shown_by_its_kind(content_type, data, kind, text):
    shown = exchanges.body(data, content_type)
    assert (shown["kind"], shown["text"], shown["bytes"]) == (kind, text, len(data))


def test_a_huge_body_is_cut_and_says_its_real_size():
    shown = exchanges.body(b"x" * 10_000_000, "text/plain")
    assert len(shown["text"]) == MAX_BODY_CHARS
    assert shown["truncated"] is True
    assert shown["bytes"] == 10_000_000


def test_headers_are_bounded_in_number_and_length():
    kept = exchanges.headers([(f"X-{i}", "v" * 5000) for i in range(100)])
    assert len(kept) == MAX_HEADERS
    assert all(len(name) + len(value) == exchanges.MAX_HEADER_CHARS for name, value in kept)


def test_no_answer_is_recorded_with_its_reason():
    recorded = exchange(method="GET", path="/slow", error="The app did not answer within 10 s.")
    assert recorded["response"] is None
    assert recorded["error"] == "The app did not answer within 10 s."


@pytest.mark.parametrize(
    "data",
    [None, "GET /", [], {"request": "GET /"}, {"response": {"status": 200}}],
)
def test_what_is_not_an_exchange_reads_back_as_none(data):
    assert exchange_from_data(data) is None


def test_a_forged_exchange_is_brought_back_within_bounds():
    forged = {
        "request": {"method": "G" * 500, "path": "/" * 50_000, "headers": [["a", "b", "c"], 7]},
        "response": {
            "status": True,  # not a status
            "body": {"text": "x" * 10**6, "kind": "script"},
        },
        "output": "o" * 10**6,
        "error": ["not", "text"],
        "duration_ms": float("inf"),
    }
    read = exchange_from_data(forged)
    assert len(read["request"]["method"]) == 20
    assert len(read["request"]["path"]) == exchanges.MAX_PATH_CHARS
    assert read["request"]["headers"] == []
    assert read["response"] is None
    assert len(read["output"]) == exchanges.MAX_OUTPUT_CHARS
    assert read["error"] == "['not', 'text']"
    assert read["duration_ms"] is None


def test_a_forged_body_kind_becomes_text_and_its_size_a_count():
    forged = {
        "request": {"method": "GET", "path": "/"},
        "response": {"status": 200, "body": {"text": "x" * 10**6, "kind": "script", "bytes": -5}},
    }
    body = exchange_from_data(forged)["response"]["body"]
    assert (body["kind"], len(body["text"]), body["bytes"]) == ("text", MAX_BODY_CHARS, 0)
