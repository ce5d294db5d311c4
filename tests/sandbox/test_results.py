"""Grading results: building the stored dict and showing it as text."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sandbox.results import (
    RESULT_KEYS,
    TestOutcome,
    clean_text,
    in_order,
    make_result,
    passed_summary,
    render_text,
    timestamp,
)

TESTS = [
    TestOutcome("GET / answers 200", "passed", 1, 1),
    TestOutcome("GET /hello/ada answers JSON", "failed", 0, 2, "GET /hello/ada: expected 200"),
    TestOutcome("Hidden test 1", "skipped", 0, 3),
]


def test_the_score_is_the_points_of_passed_tests_out_of_all():
    result = make_result(status="failed", message="1 of 3 tests passed.", tests=TESTS)
    assert tuple(result) == RESULT_KEYS
    assert (result["score"], result["max_score"]) == (1, 6)
    assert result["tests"][1] == {
        "name": "GET /hello/ada answers JSON",
        "status": "failed",
        "points": 0,
        "max_points": 2,
        "message": "GET /hello/ada: expected 200",
        "output": "",
    }
    assert result["timings"] == dict.fromkeys(("queued", "started", "booted", "tested", "finished"))


def test_an_error_result_can_score_zero_whatever_the_tests_say():
    assert make_result(status="error", message="x", tests=TESTS, score=0)["score"] == 0


def test_an_unknown_status_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown status"):
        make_result(status="ok", message="")


def test_timestamps_are_utc_iso_with_milliseconds():
    moment = datetime(2025, 3, 1, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert timestamp(moment) == "2025-03-01T09:00:00.123+00:00"
    assert timestamp(datetime(2025, 3, 1, 9, 0)) == "2025-03-01T09:00:00.000+00:00"
    assert datetime.fromisoformat(timestamp()).tzinfo == UTC


@pytest.mark.parametrize(
    ("statuses", "summary"),
    [
        (["passed", "passed"], "All 2 tests passed."),
        (["passed"], "The test passed."),
        (["passed", "failed", "error"], "1 of 3 tests passed."),
        (["failed"], "0 of 1 test passed."),
    ],
)
def test_the_summary_counts_passed_tests(statuses, summary):
    tests = [TestOutcome(f"t{n}", s, 0, 1) for n, s in enumerate(statuses)]
    assert passed_summary(tests) == summary


def test_the_text_shows_verdict_each_test_and_the_end_of_the_log():
    result = make_result(
        status="failed",
        message="1 of 3 tests passed.",
        tests=TESTS,
        log="\n".join(f"line {n}" for n in range(30)),
    )
    text = render_text(result, log_lines=3)
    assert text.splitlines()[:3] == ["FAILED  1/6 points", "", "1 of 3 tests passed."]
    assert "✓ GET / answers 200  (1/1)" in text
    assert "✗ GET /hello/ada answers JSON  (0/2)\n    GET /hello/ada: expected 200" in text
    assert "- Hidden test 1  (0/3)  [skipped]" in text
    assert text.endswith("App output (last 3 lines):\n  line 27\n  line 28\n  line 29")


def test_the_text_of_a_result_without_tests_or_log_is_short():
    assert (
        render_text(make_result(status="error", message="Bad zip."))
        == "ERROR  0/0 points\n\nBad zip."
    )


# Cleaning what the app controls ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("plain text, ünïcödé and 😀\n\tindented", "plain text, ünïcödé and 😀\n\tindented"),
        ("a\x00b", "a\u2400b"),  # NUL shows as "␀"
        ("bell\x07 backspace\x08 form feed\x0c", "bell\u2407 backspace\u2408 form feed\u240c"),
        ("delete\x7f", "delete\u2421"),
        ("c1\x85\x9b", "c1\ufffd\ufffd"),
        ("half\ud800 pair\udfff", "half\ufffd pair\ufffd"),
        ("windows\r\nline\rends", "windows\nline\nends"),
    ],
)
def test_controls_and_lone_surrogates_are_made_visible(text, cleaned):
    assert clean_text(text) == cleaned


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("\x1b[1;31mERROR\x1b[0m in app", "ERROR in app"),  # colours
        ("\x1b[2K\x1b[1Gprogress", "progress"),  # erase line, move cursor
        ("\x1b]0;window title\x07after", "after"),  # OSC ended by BEL
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC ended by ESC \
        ("\x1b7saved\x1b8 \x1b(Bascii", "saved ascii"),  # short forms
        ("stray escape\x1b", "stray escape\u241b"),  # "␛"
        ("\x1b]never ended\nnext line", "never ended\nnext line"),  # keeps the text
    ],
)
def test_ansi_escape_sequences_are_dropped(text, cleaned):
    assert clean_text(text) == cleaned


def test_cleaning_is_idempotent_and_leaves_no_control_or_surrogate():
    every_code_point_below_256 = "".join(map(chr, range(256))) + "\ud800\udbff\udc00\udfff"
    once = clean_text(every_code_point_below_256)
    assert clean_text(once) == once
    assert {unicodedata.category(c) for c in once if c not in "\n\t"}.isdisjoint({"Cc", "Cs"})
    once.encode("utf-8")  # no lone surrogate left: it would raise


def test_every_string_the_app_controls_is_cleaned_in_the_result():
    dirty = "\x1b[31mred\x1b[0m\x00\ud83d"
    result = make_result(
        status="failed",
        message=f"Your app stopped while starting:\n{dirty}",
        tests=[TestOutcome(f"GET /{dirty}", "failed", 0, 1, f"expected 200, got {dirty}")],
        log=f"line\r\n{dirty}",
    )
    expected = "red\u2400\ufffd"
    assert result["message"] == f"Your app stopped while starting:\n{expected}"
    assert result["tests"][0]["name"] == f"GET /{expected}"
    assert result["tests"][0]["message"] == f"expected 200, got {expected}"
    assert result["log"] == f"line\n{expected}"
    stored = json.dumps(result, ensure_ascii=False)
    assert "\\u0000" not in stored and "\\ud83d" not in stored
    assert not any("\ud800" <= c <= "\udfff" or c in "\x00\x1b" for c in stored)


def test_a_result_read_back_in_another_key_order_is_put_in_order_again():
    result = make_result(
        status="failed",
        message="1 of 2 tests passed.",
        tests=[TestOutcome(name="a", status="passed", points=1, max_points=1)],
    )
    # As PostgreSQL's jsonb returns it: shorter keys first, then alphabetical.
    shuffled = {key: result[key] for key in sorted(result, key=lambda k: (len(k), k))}
    shuffled["tests"] = [dict(sorted(t.items())) for t in result["tests"]]
    shuffled["timings"] = dict(sorted(result["timings"].items()))
    shuffled["extra"] = "kept"

    ordered = in_order(shuffled)

    assert list(ordered) == [*result, "extra"]
    assert list(ordered["tests"][0]) == list(result["tests"][0])
    assert list(ordered["timings"]) == list(result["timings"])
    assert ordered == {**result, "extra": "kept"}
