"""Log lines carry the grading they belong to; as JSON, one object per line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from grading import logs


@pytest.fixture
def json_log():
    """Return a logger writing JSON through the filter and formatter, and its output."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.json_formatter())
    logger = logging.getLogger("tests.grading.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield logger, lines
    logger.removeHandler(handler)


def test_each_record_is_one_json_object_with_time_level_logger_and_message(json_log):
    logger, lines = json_log

    logger.warning("Submission %s: %s", 7, "two\nlines")

    (line,) = lines()
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.grading.json"
    assert line["message"] == "Submission 7: two\nlines"
    assert line["time"].endswith("+00:00")
    assert set(line) == {"time", "level", "logger", "message"}


def test_bound_fields_reach_every_record_in_the_block_and_no_further(json_log):
    logger, lines = json_log

    with logs.bound(submission_id=7, job_id="job-1"):
        logger.info("outer")
        with logs.bound(exercise="hello", host=None):
            logger.info("inner")
        logging.getLogger("tests.grading.json.child").info("child")
        logger.info("own", extra={"submission_id": 8})
    logger.info("after")

    outer, inner, child, own, after = lines()
    assert (outer["submission_id"], outer["job_id"]) == (7, "job-1")
    assert "exercise" not in outer
    assert (inner["submission_id"], inner["exercise"]) == (7, "hello")
    assert "host" not in inner  # None is not bound
    assert child["submission_id"] == 7
    assert own["submission_id"] == 8  # the call's own extra= wins
    assert "submission_id" not in after
    assert logs.current() == {}


def test_a_traceback_stays_within_its_line(json_log):
    logger, lines = json_log

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("grading failed")

    (line,) = lines()
    assert "RuntimeError: boom" in line["exc_info"]


def test_only_known_fields_can_be_bound():
    with pytest.raises(ValueError, match="learner"), logs.bound(learner="ann"):
        pass
