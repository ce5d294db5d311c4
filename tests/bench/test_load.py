"""bench/load.py's machinery, on a small run: the figures it reports are real ones.

How fast the site is never fails a test; this checks that a short load test starts the whole
site, plays every kind of learner, grades what they submit, counts what it should and leaves
nothing behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from sandbox import engine

LOAD = Path(settings.BASE_DIR) / "bench" / "load.py"

pytestmark = [pytest.mark.sandbox, pytest.mark.celery]


def test_a_short_run_reports_every_request_and_every_verdict(runner_image, tmp_path):
    figures_path = tmp_path / "figures.json"

    run = subprocess.run(
        [sys.executable, str(LOAD), "--users", "5", "--submissions", "3", "--duration", "5",
         "--think", "1-2", "--json", str(figures_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    figures = json.loads(figures_path.read_text())
    assert figures["errors"] == 0
    assert figures["lost"] == 0
    # The third upload is the starter, which fails the tests; a wrong verdict is an error.
    assert figures["verdicts"] == {"passed": 2, "failed": 1}
    # Five readers over 5 s, each waiting 1-2 s between pages: at least one page each.
    assert figures["page_requests"] >= 5
    # Two probes ask for the bare view twice a second each, for as long as the run lasted
    # (past --duration while a submission waits for its verdict); a busy machine may lag.
    elapsed = figures["elapsed"]
    assert elapsed >= 5
    assert 2 * elapsed <= figures["requests_by_name"]["bare view"] <= 4 * elapsed + 4
    assert figures["requests_by_name"]["API submit"] == 3
    assert 0 < figures["page_p50"] <= figures["page_p95"]
    assert figures["submit_p95"] > 0 and figures["floor_at_rest"] > 0
    assert "page latency p95" in run.stdout and "lost submissions: 0 of 3" in run.stdout
    # Nothing left behind: no process of the site, no container, no folder.
    workdir = figures["workdir"]
    assert processes_with(f"VAR_DIR={workdir}/var") == []
    assert [c["Id"] for c in engine.sandbox_containers() if mounts_below(c, workdir)] == []
    assert not Path(workdir).exists()


def processes_with(variable: str) -> list[int]:
    """Return the processes that have `variable` (NAME=value) in their environment."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if variable.encode() in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            pass  # gone, or not ours to read
    return found


def mounts_below(container: dict, folder: str) -> bool:
    return any(
        Path(m.get("Source", "")).is_relative_to(folder) for m in container.get("Mounts") or []
    )
