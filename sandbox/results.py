"""Grading results: the JSON stored on a submission, and a plain-text rendering of it.

A result is a plain dict, so it goes into a JSONField and through Celery as is::

    {"status": "passed" | "failed" | "error" | "timeout",
     "score": int, "max_score": int, "message": str,
     "tests": [{"name", "status": "passed" | "failed" | "error" | "skipped",
                "points", "max_points", "message"}],
     "log": str,
     "timings": {"queued", "started", "booted", "tested", "finished"}}

Timings are ISO-8601 strings in UTC with milliseconds ("2025-03-01T10:00:00.123+00:00"),
or None for a step the run never reached (no "booted" when the app did not start).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

STATUSES = ("passed", "failed", "error", "timeout")
TEST_STATUSES = ("passed", "failed", "error", "skipped")
TIMING_KEYS = ("queued", "started", "booted", "tested", "finished")
RESULT_KEYS = ("status", "score", "max_score", "message", "tests", "log", "timings")


@dataclass(frozen=True)
class TestOutcome:
    """How one test of the exercise went, as shown to the learner."""

    __test__ = False  # not a pytest test class, whatever its name says

    name: str
    status: str
    points: int
    max_points: int
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def timestamp(moment: datetime | None = None) -> str:
    """Return a moment (default: now) as an ISO-8601 UTC string with milliseconds."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def empty_timings(queued_at: datetime | None = None) -> dict[str, str | None]:
    timings: dict[str, str | None] = dict.fromkeys(TIMING_KEYS)
    if queued_at is not None:
        timings["queued"] = timestamp(queued_at)
    return timings


def make_result(
    *,
    status: str,
    message: str,
    tests: Iterable[TestOutcome] = (),
    log: str = "",
    timings: dict[str, str | None] | None = None,
    score: int | None = None,
) -> dict[str, Any]:
    """Build a result dict; the score is the points of the passed tests unless given."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    tests = list(tests)
    return {
        "status": status,
        "score": sum(t.points for t in tests) if score is None else score,
        "max_score": sum(t.max_points for t in tests),
        "message": message,
        "tests": [t.as_dict() for t in tests],
        "log": log,
        "timings": {**empty_timings(), **(timings or {})},
    }


def passed_summary(tests: list[TestOutcome]) -> str:
    """Return "All 4 tests passed." or "3 of 4 tests passed." for a finished run."""
    passed = sum(t.status == "passed" for t in tests)
    noun = "test" if len(tests) == 1 else "tests"
    if passed == len(tests):
        return f"All {len(tests)} {noun} passed." if len(tests) > 1 else "The test passed."
    return f"{passed} of {len(tests)} {noun} passed."


SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}


def render_text(result: dict[str, Any], *, log_lines: int = 20) -> str:
    """Return a result as readable text: verdict, score, each test, the end of the log."""
    lines = [f"{result['status'].upper()}  {result['score']}/{result['max_score']} points"]
    if result["message"]:
        lines += ["", result["message"]]
    if result["tests"]:
        lines.append("")
        for test in result["tests"]:
            symbol = SYMBOLS.get(test["status"], "?")
            lines.append(
                f"{symbol} {test['name']}  ({test['points']}/{test['max_points']})"
                + ("" if test["status"] in ("passed", "failed") else f"  [{test['status']}]")
            )
            if test["message"]:
                lines.extend("    " + line for line in test["message"].splitlines())
    log = result["log"].rstrip()
    if log:
        tail = log.splitlines()[-log_lines:]
        lines += ["", f"App output (last {len(tail)} lines):"]
        lines.extend("  " + line for line in tail)
    return "\n".join(lines)
