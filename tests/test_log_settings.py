"""LOG_FORMAT switches every Django process (web server, manage.py, workers) between text and
JSON log lines; each check runs in a fresh process with only the variables it names."""

from __future__ import annotations

import json
import subprocess
import sys

from django.conf import settings

LOG_A_LINE = "import logging; logging.getLogger('webcourse.check').warning('disk %s full', 'var')"


def manage(*args: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": str(empty), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_log_lines_are_json_objects_with_log_format_json(tmp_path):
    done = manage("shell", "-c", LOG_A_LINE, tmp_path=tmp_path, LOG_FORMAT="json")

    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(text) for text in done.stderr.splitlines()]
    assert line["message"] == "disk var full"
    assert (line["level"], line["logger"]) == ("WARNING", "webcourse.check")


def test_log_lines_are_text_by_default(tmp_path):
    done = manage("shell", "-c", LOG_A_LINE, tmp_path=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["disk var full"]


def test_an_unknown_log_format_stops_the_site_from_starting(tmp_path):
    done = manage("check", tmp_path=tmp_path, LOG_FORMAT="xml")

    assert done.returncode != 0
    assert "LOG_FORMAT must be text or json" in done.stderr
