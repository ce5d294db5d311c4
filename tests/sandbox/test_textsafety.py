from __future__ import annotations

import json
import sys
import time

import pytest

from sandbox.textsafety import (
    MAX_JSON_DEPTH,
    JSONNotText,
    JSONRefused,
    JSONTooDeep,
    hidden_character,
    html_to_text,
    json_depth,
    parse_json,
    readable_message,
    text_problem,
    visible_controls,
)


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


# Reading JSON from requests


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"app.py": "x = [[[[[[[[[[[[{{{{"}', 1),  # brackets in a string do not count
        (r'["a \"[[[[ still a string", ["b"]]', 2),
        ('"[[[[ never closed', 0),
        (nested(500), 500),
    ],
)
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_parse_json_reads_json_up_to_the_bound():
    assert parse_json(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))
    assert parse_json(b'{"files": {"app.py": "x"}}') == {"files": {"app.py": "x"}}


def test_parse_json_refuses_deeper_nesting_with_a_message():
    with pytest.raises(JSONTooDeep) as caught:
        parse_json(nested(MAX_JSON_DEPTH + 1))

    assert str(caught.value) == f"it is nested more than {MAX_JSON_DEPTH} levels deep"


@pytest.mark.parametrize(
    "text",
    [
        r'{"\ud800": "print(1)"}',  # a key
        r'{"app.py": "x = 1  # \udfff"}',  # a value
        r'["ok", ["\uDBFF"]]',  # in a list, upper case
        r'"\ude00\ud83d"',  # a pair in the wrong order is two lone ones
    ],
)
def test_parse_json_refuses_a_lone_surrogate_with_a_message(text):
    with pytest.raises(JSONNotText) as caught:
        parse_json(text)

    assert isinstance(caught.value, JSONRefused) and isinstance(caught.value, ValueError)
    assert str(caught.value) == "it holds a character that is not text (an unpaired surrogate)"


def test_parse_json_leaves_lone_surrogates_to_a_caller_that_asks():
    assert parse_json(r'{"app.py": "\ud800"}', allow_surrogates=True) == {"app.py": "\ud800"}


def test_parse_json_reads_surrogate_pairs_and_escaped_backslashes():
    assert parse_json(r'{"smile": "\ud83d\ude00"}') == {"smile": "\U0001f600"}
    assert parse_json(r'"\\ud800 is how Python writes it"') == "\\ud800 is how Python writes it"


def test_parse_json_refuses_deep_nesting_before_parsing_whatever_the_stack(monkeypatch):
    # Near the end of the stack, Python's parser would fail on a few hundred levels.
    depth = 400
    with pytest.raises(RecursionError):
        call_near_the_recursion_limit(json.loads, nested(depth))

    with pytest.raises(JSONTooDeep):
        call_near_the_recursion_limit(parse_json, nested(depth))


def call_near_the_recursion_limit(function, argument):
    limit = sys.getrecursionlimit()
    frames = 0
    frame = sys._getframe()
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    sys.setrecursionlimit(frames + 100)
    try:
        return function(argument)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe\x00garbage", b"{", "1" * 5000, b'{"a": 1,}', "[" * 33 + '"'],
)
def test_parse_json_raises_only_value_errors(data):
    with pytest.raises(ValueError):
        parse_json(data)


def test_the_depth_scan_stays_fast_on_hostile_input():
    hostile = [
        "[]" * 1_000_000,
        '"\\"' * 700_000,  # an unterminated string full of escaped quotes
        "[" * 2_000_000,
    ]
    started = time.monotonic()
    for text in hostile:
        with pytest.raises(ValueError):
            parse_json(text, max_depth=0)
    assert time.monotonic() - started < 3


# Characters that are not what they seem


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("app.py", None),
        ("caf\u00e9 \U0001f469\u200d\U0001f4bb", None),  # accents and emoji with a joiner
        ("\u0645\u0631\u062d\u0628\u0627.py", None),  # right-to-left letters are letters
        ("a\u202eb", "\u202e"),
        ("a\u2069", "\u2069"),
        ("a\u200bb", "\u200b"),
        ("a\x85", "\x85"),
        ("a\ud800", "\ud800"),
        ("a\u2029", "\u2029"),
        ("a\tb", "\t"),
    ],
)
def test_hidden_character_finds_what_would_hide_or_reorder_text(text, found):
    assert hidden_character(text) == found


def test_text_problem_names_nul_and_lone_surrogates():
    assert text_problem("print('\x1b[1mbold')\r\n") is None
    assert "NUL character (U+0000)" in text_problem("a\x00b")
    assert "U+DC80" in text_problem("caf\udc80")


# Showing output

WRITING = "\U0001f469\u200d\U0001f4bb caf\u00e9 \u00a0"  # emoji with a joiner, no-break space


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain\n\tindented", "plain\n\tindented"),
        ("\x1b[31mred\x1b[0m", "\u241b[31mred\u241b[0m"),
        ("evil\u202etxt.exe", "evil<U+202E>txt.exe"),
        ("\u2066isolate\u2069 \u200e\u200f", "<U+2066>isolate<U+2069> <U+200E><U+200F>"),
        ("zero\u200bwidth\ufeff", "zero<U+200B>width<U+FEFF>"),
        ("nul\x00 bell\x07 del\x7f", "nul\u2400 bell\u2407 del\u2421"),
        ("line\r\nnext\rover", "line\nnext\u240dover"),
        ("c1\x9b31m", "c1<U+009B>31m"),
        ("half\ud800", "half<U+D800>"),
        (WRITING, WRITING),
    ],
)
def test_visible_controls_shows_controls_instead_of_acting_on_them(raw, shown):
    assert visible_controls(raw) == shown


# HTML quoted in messages

FLASK_501 = """<!doctype html>
<html lang=en>
<title>501 Not Implemented</title>
<h1>Not Implemented</h1>
<p>The server does not support the action requested by the browser.</p>
"""


def test_a_page_reads_as_its_lines_without_tags_or_the_repeated_title():
    assert html_to_text(FLASK_501) == (
        "Not Implemented\nThe server does not support the action requested by the browser."
    )


def test_scripts_styles_and_entities_are_handled_and_inline_tags_join_their_words():
    page = (
        "<head><style>h1 { color: red }</style><script>alert('x')</script></head>"
        "<body><h1>Tom &amp; <b>Jer</b>ry</h1><table><tr><td>a</td><td>b</td></tr></table>"
        "<ul><li>one</li><li>two<br>three</li></ul></body>"
    )
    assert html_to_text(page) == "Tom & Jerry\na b\none\ntwo\nthree"


def test_a_page_with_only_a_title_shows_the_title():
    assert html_to_text("<html><head><title>Server Error (500)</title></head></html>") == (
        "Server Error (500)"
    )


def test_a_tag_cut_off_at_the_end_is_dropped():
    assert html_to_text("<h1>Oops</h1><p class=") == "Oops"


def test_the_text_of_a_page_is_bounded():
    text = html_to_text("<p>" + "word " * 10_000 + "</p>", limit=100)
    assert len(text) == 100 and text.endswith("…")


def test_a_hostile_page_is_read_quickly():
    pages = [
        "<script" * 150_000 + "<" * 1_000_000,
        "<" + "a" * 1_000_000,
        ("<a" + "b" * 100) * 20_000,
        "<title>" * 200_000,
    ]
    started = time.monotonic()
    for page in pages:
        html_to_text(page)
        readable_message("Body: " + page)
    assert time.monotonic() - started < 1


def test_a_message_quoting_a_page_shows_the_page_as_text():
    message = "POST /notes: expected status 201, got 501. Body: " + FLASK_501[:150]
    assert readable_message(message) == (
        "POST /notes: expected status 201, got 501. Body:\n"
        "Not Implemented\nThe server does not support the action requested by the"
    )


@pytest.mark.parametrize(
    "message",
    [
        "GET /: expected the body to contain '<li>Ada</li>'. Body: <p>Bob</p>",
        "GET /books: expected <title>Bookshelf</title>, got 'Books'",
        "GET /books: no <title>",
        "GET /: expected <html lang=en>, got <html>",
        "GET /notes/<id>: expected status 404, got 200",
        "assert 1 < 2 > 0",
    ],
)
def test_a_message_that_quotes_no_page_is_left_as_it_is(message):
    assert readable_message(message) == message


def test_a_message_quoting_an_empty_page_says_so():
    assert readable_message("Body: <!DOCTYPE html><html><body></body></html>") == (
        "Body: (an HTML page without text)"
    )
