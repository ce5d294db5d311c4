"""Grading results: building the stored dict and showing it as text."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sandbox.exchanges import MAX_OUTPUT_CHARS, exchange, exchange_from_data
from sandbox.results import (
    MAX_EXCHANGES_BYTES,
    MAX_EXCHANGES_PER_TEST,
    RESULT_KEYS,
    TestOutcome,
    clean_text,
    failure_groups,
    in_order,
    learner_tests,
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
        "hidden": False,
        "hint": "",
        "cause": "",
        "exchanges": [],
        "more_exchanges": 0,
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


# What learners see of the tests ----------------------------------------------------------------

NOT_RUN = "POST /notes answered 501"


def reported(name, status="failed", *, points=1, message="", cause="", hint="", hidden=False):
    """Return a test as the runner reads it from the harness's report."""
    return {
        "name": name, "status": status, "points": points, "max_points": points,
        "message": message or f"{name} went wrong", "output": f"{name} printed",
        "hidden": hidden, "hint": hint, "cause": cause,
    }  # fmt: skip


def by_name(tests):
    return {t.name: t for t in tests}


def test_hidden_tests_lose_name_message_and_output_and_are_numbered():
    tests = learner_tests(
        [
            reported("a", "passed"),
            reported("b", hidden=True),
            reported("c"),
            reported("d", "passed", hidden=True),
        ]
    )
    assert [(t.name, t.message, t.output, t.hidden) for t in tests] == [
        ("a", "a went wrong", "a printed", False),
        ("Hidden test 1", "", "", True),
        ("c", "c went wrong", "c printed", False),
        ("Hidden test 2", "", "", True),
    ]
    assert [(t.points, t.max_points) for t in tests] == [(1, 1), (0, 1), (0, 1), (1, 1)]


def test_tests_sharing_a_cause_keep_it_hidden_ones_included():
    tests = by_name(
        learner_tests(
            [
                reported("create", cause=NOT_RUN),
                reported("read", cause=NOT_RUN),
                reported("never reused", cause=NOT_RUN, hidden=True),
                reported("list", "passed"),
            ]
        )
    )
    assert [tests[n].cause for n in ("create", "read", "Hidden test 1", "list")] == [
        NOT_RUN, NOT_RUN, NOT_RUN, "",
    ]  # fmt: skip


def test_a_cause_of_one_test_alone_is_no_group():
    tests = learner_tests(
        [reported("create", cause=NOT_RUN), reported("read", cause="GET / answered 500")]
    )
    assert [t.cause for t in tests] == ["", ""]


def test_a_cause_only_hidden_tests_share_is_never_shown():
    tests = learner_tests(
        [
            reported("a", cause="POST /secret-admin answered 404", hidden=True),
            reported("b", cause="POST /secret-admin answered 404", hidden=True),
            reported("c", cause=NOT_RUN),
        ]
    )
    assert [(t.name, t.cause, t.message) for t in tests] == [
        ("Hidden test 1", "", ""),
        ("Hidden test 2", "", ""),
        ("c", "", "c went wrong"),
    ]
    assert "secret-admin" not in json.dumps([t.as_dict() for t in tests])


def test_a_cause_counts_only_for_tests_that_did_not_pass():
    tests = learner_tests([reported("a", cause=NOT_RUN), reported("b", "passed", cause=NOT_RUN)])
    assert [t.cause for t in tests] == ["", ""]


def test_a_hint_is_shown_only_when_its_test_did_not_pass_and_could_run():
    tests = learner_tests(
        [
            reported("failed", hint="names with accents", hidden=True),
            reported("error", "error", hint="think of empty titles"),
            reported("passed", "passed", hint="never shown", hidden=True),
            reported("skipped", "skipped", hint="never shown"),
            reported("stopped", cause=NOT_RUN, hint="never shown", hidden=True),
            reported("also stopped", cause=NOT_RUN),
        ]
    )
    assert [(t.name, t.hint) for t in tests] == [
        ("Hidden test 1", "names with accents"),
        ("error", "think of empty titles"),
        ("Hidden test 2", ""),
        ("skipped", ""),
        ("Hidden test 3", ""),
        ("also stopped", ""),
    ]


def test_a_page_quoted_in_a_message_is_shown_as_text():
    page = "Body: <!doctype html><title>500</title><h1>Internal Server Error</h1><p>Oops</p>"
    (shown,) = learner_tests([reported("a", message=f"GET /: expected 200, got 500. {page}")])
    assert shown.message == "GET /: expected 200, got 500. Body:\nInternal Server Error\nOops"


def test_learner_tests_of_a_stored_result_change_nothing_more():
    tests = [
        reported("a", cause=NOT_RUN, hint="h"),
        reported("b", cause=NOT_RUN),
        reported("c", hidden=True, hint="accents"),
        reported("d", "passed", points=3),
    ]
    once = make_result(status="failed", message="", tests=learner_tests(tests))["tests"]
    assert [t.as_dict() for t in learner_tests(once)] == once


def test_hidden_tests_of_a_result_from_an_older_grader_are_hidden_too():
    stored = [
        {"name": "Secret path", "status": "failed", "points": 0, "max_points": 2,
         "message": "GET /secret: 404", "output": "x", "hidden": True},
        {"name": "Hidden test 2", "status": "passed", "points": 1, "max_points": 1,
         "message": "", "output": ""},
        {"name": "Visible", "status": "failed", "points": 0, "max_points": 1,
         "message": "GET /: 500", "output": ""},
    ]  # fmt: skip
    assert [(t.name, t.message, t.output, t.hidden) for t in learner_tests(stored)] == [
        ("Hidden test 1", "", "", True),
        ("Hidden test 2", "", "", True),
        ("Visible", "GET /: 500", "", False),
    ]


def test_failure_groups_put_each_group_where_its_first_test_was():
    tests = [
        t.as_dict()
        for t in learner_tests(
            [
                reported("list", "passed"),
                reported("read", cause=NOT_RUN, hidden=True),
                reported("update", cause=NOT_RUN, points=2, message="Could not create a note."),
                reported("unknown is 404"),
                reported("delete", cause=NOT_RUN),
            ]
        )
    ]
    entries = failure_groups(tests)
    assert [e.get("test", {}).get("name") or e["cause"] for e in entries] == [
        "list", NOT_RUN, "unknown is 404",
    ]  # fmt: skip
    group = entries[1]
    assert [t["name"] for t in group["tests"]] == ["Hidden test 1", "update", "delete"]
    assert group["message"] == "Could not create a note."  # a visible test's, not the hidden one's
    assert group["max_points"] == 4


def test_the_text_shows_a_group_once_with_its_tests_and_a_hint_under_its_test():
    tests = learner_tests(
        [
            reported("read", cause=NOT_RUN, message="Could not create a note. POST /notes: 501"),
            reported("update", cause=NOT_RUN, message="Could not create a note. POST /notes: 501"),
            reported("accents", hidden=True, hint="names with accents"),
        ]
    )
    text = render_text(make_result(status="failed", message="0 of 3 tests passed.", tests=tests))
    assert text.count("Could not create a note") == 1
    assert (
        "✗ 2 tests could not run: POST /notes answered 501\n"
        "    Could not create a note. POST /notes: 501\n"
        "    - read  (0/1)\n"
        "    - update  (0/1)\n"
        "✗ Hidden test 1  (0/1)\n"
        "    Hint: names with accents"
    ) in text


# The requests a visible test sent ----------------------------------------------------------


def sent(path: str = "/hello/ada", status: int | None = 500, **kwargs) -> dict:
    return exchange(method="GET", path=path, status=status, reason="Oops", **kwargs)


def test_a_visible_test_keeps_its_exchanges_read_back_within_bounds():
    hostile = {**sent(), "output": "x" * 100_000, "extra": "dropped"}
    (test,) = learner_tests(
        [
            {
                "name": "a",
                "status": "failed",
                "exchanges": [hostile, "junk", None],
                "more_exchanges": 2,
            }
        ]
    )
    assert test.exchanges == [exchange_from_data(hostile)]
    assert len(test.exchanges[0]["output"]) == MAX_OUTPUT_CHARS
    assert "extra" not in test.exchanges[0]
    assert test.more_exchanges == 2


def test_a_hidden_test_shows_no_exchanges_whatever_was_stored():
    stored = {"name": "secret", "status": "failed", "hidden": True, "more_exchanges": 4}
    (test,) = learner_tests([{**stored, "exchanges": [sent("/admin-secret")]}])
    assert (test.exchanges, test.more_exchanges) == ([], 0)
    assert "admin-secret" not in json.dumps(test.as_dict())


def test_a_result_without_exchanges_reads_as_having_none():
    (test,) = learner_tests([{"name": "a", "status": "passed", "points": 1}])
    assert (test.exchanges, test.more_exchanges) == ([], 0)


@pytest.mark.parametrize("more", [-3, "7", True, None, 1.5])
def test_a_count_of_other_requests_that_is_not_a_count_is_zero(more):
    (test,) = learner_tests([{"name": "a", "status": "failed", "more_exchanges": more}])
    assert test.more_exchanges == 0


def test_too_many_exchanges_are_counted_not_shown():
    (test,) = learner_tests([{"name": "a", "status": "failed", "exchanges": [sent()] * 50}])
    assert len(test.exchanges) == MAX_EXCHANGES_PER_TEST
    assert test.more_exchanges == 50 - MAX_EXCHANGES_PER_TEST


def test_the_exchanges_of_a_result_stay_within_its_budget():
    large = sent(response_body=b"z" * 100_000, response_headers=[("Content-Type", "text/plain")])
    tests = [{"name": f"t{n}", "status": "failed", "exchanges": [large] * 5} for n in range(10)]
    outcomes = learner_tests(tests)
    shown = sum(len(json.dumps(t.exchanges)) for t in outcomes)
    assert 0 < shown <= MAX_EXCHANGES_BYTES
    assert outcomes[-1].exchanges == [] and outcomes[-1].more_exchanges == 5
    # Reading it again changes nothing.
    assert learner_tests(t.as_dict() for t in outcomes) == outcomes


def test_the_text_of_a_failing_test_names_its_last_request_and_the_answer():
    tests = [
        TestOutcome("GET /hello/ada", "failed", 0, 2, "expected 200, got 500",
                    exchanges=[sent("/"), sent("/hello/ada\x1b[2J")]),
        TestOutcome("no answer", "error", 0, 1, "too slow",
                    exchanges=[sent("/slow", status=None, error="no answer within 5 s")]),
        TestOutcome("passes", "passed", 1, 1, exchanges=[sent("/ok", status=200)]),
    ]  # fmt: skip
    text = render_text(make_result(status="failed", message="", tests=tests))
    assert "    Last request: GET /hello/ada → 500 Oops" in text
    assert "\x1b" not in text
    assert "    Last request: GET /slow → no answer (no answer within 5 s)" in text
    assert "/ok" not in text


def test_a_group_shows_the_requests_of_its_first_visible_test():
    post = exchange(method="POST", path="/notes", status=501, reason="NOT IMPLEMENTED")
    secret = exchange(method="POST", path="/secret-notes", status=501)
    tests = learner_tests(
        [
            {**reported("read", cause=NOT_RUN, hidden=True), "exchanges": [secret]},
            {**reported("update", cause=NOT_RUN), "exchanges": [post]},
            {**reported("delete", cause=NOT_RUN), "exchanges": [sent("/other")]},
        ]
    )
    (group,) = failure_groups(t.as_dict() for t in tests)
    assert group["exchanges"] == [exchange_from_data(post)]


def test_a_group_of_tests_without_requests_shows_none():
    tests = learner_tests([reported("a", cause=NOT_RUN), reported("b", cause=NOT_RUN)])
    (group,) = failure_groups(t.as_dict() for t in tests)
    assert group["exchanges"] == []
