"""Output a learner's app controls is shown with its control characters visible."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.template import Context, Template
from django.template.loader import render_to_string

from exercises.admin import SubmissionAdmin
from exercises.models import Submission
from sandbox.results import failure_groups, learner_tests

HOSTILE = "\x1b[2J\x1b[31mred\x1b[0m evil\u202etxt.exe \u2066x\u2069 nul\x00 bell\x07 <b>"
SHOWN = (
    "\u241b[2J\u241b[31mred\u241b[0m evil&lt;U+202E&gt;txt.exe &lt;U+2066&gt;x&lt;U+2069&gt; "
    "nul\u2400 bell\u2407 &lt;b&gt;"
)
RAW = ("\x1b", "\u202e", "\u2066", "\u2069", "\x00", "\x07")


def test_the_filter_shows_controls_and_still_escapes_html():
    html = Template("{% load visible_text %}<pre>{{ log|visible_controls }}</pre>").render(
        Context({"log": HOSTILE})
    )

    assert html == f"<pre>{SHOWN}</pre>"


def test_the_filter_leaves_safe_input_escaped_once_its_markers_are_added():
    html = Template("{% load visible_text %}{{ log|safe|visible_controls }}").render(
        Context({"log": "<i>\u202e</i>"})
    )

    assert html == "&lt;i&gt;&lt;U+202E&gt;&lt;/i&gt;"


def result_html(result: dict) -> str:
    submission = SimpleNamespace(
        pk=7,
        get_framework_display="Flask",
        created=datetime(2025, 1, 1, tzinfo=UTC),
    )
    status = {
        "submission": submission,
        "result": result,
        "verdict": result["status"],
        "tests": failure_groups(t.as_dict() for t in learner_tests(result["tests"])),
        "where": "page",
    }
    return render_to_string("exercises/_result.html", {"status": status})


@pytest.mark.parametrize("verdict", ["failed", "error"])
def test_the_result_shows_the_apps_output_and_messages_with_controls_visible(verdict):
    test = {
        "name": f"greets {HOSTILE}",
        "status": "failed",
        "points": 0,
        "max_points": 1,
        "message": f"expected 200 {HOSTILE}",
    }
    skipped = {**test, "status": "skipped", "message": f"skipped {HOSTILE}"}
    html = result_html(
        {
            "status": verdict,
            "score": 0,
            "max_score": 1,
            "message": f"summary {HOSTILE}",
            "tests": [test, skipped],
            "log": f"booting {HOSTILE}",
        }
    )

    for shown in ("summary", "greets", "expected 200", "Skipped", "booting"):
        assert f"{shown} {SHOWN}" in html
    assert not any(char in html for char in RAW)


def test_the_admin_shows_output_tests_and_file_names_with_controls_visible():
    model_admin = SubmissionAdmin(Submission, admin.site)
    submission = Submission(
        result={
            "message": HOSTILE,
            "log": HOSTILE,
            "tests": [{"name": HOSTILE, "status": "failed", "message": HOSTILE}],
        }
    )

    shown = [
        str(model_admin.result_message(submission)),
        str(model_admin.result_log(submission)),
        str(model_admin.result_tests(submission)),
    ]

    for html in shown:
        assert "evil<U+202E>txt.exe" in html or "evil&lt;U+202E&gt;txt.exe" in html
        assert not any(char in html for char in RAW)
