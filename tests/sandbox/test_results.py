"""Grading results: building the stored dict and showing it as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sandbox.results import (
    RESULT_KEYS,
    TestOutcome,
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
