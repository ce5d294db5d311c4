"""Fixtures and helpers for grading real submissions in real containers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from sandbox import engine
from sandbox.archive import pack_files
from sandbox.policy import DEFAULT_POLICY, MiB, SandboxPolicy
from sandbox.runner import GradingRun
from sandbox.spec import ExerciseSpec
from tests.sandbox.memory import tree_memory

HELLO_DIR = Path(settings.COURSE_CONTENT_DIR) / "python-web" / "exercises" / "hello"
# The runner_image and hello_spec fixtures are in tests/celery_fixtures.py.


@dataclass
class Graded:
    """A finished grading run: its result, and what it used (to check it left nothing)."""

    result: dict[str, Any]
    run: GradingRun

    @property
    def tests(self) -> dict[str, dict[str, Any]]:
        return {t["name"]: t for t in self.result["tests"]}


def grade_files(
    files: Mapping[str, str | bytes] | None = None,
    *,
    framework: str = "flask",
    tests: Mapping[str, str],
    policy: SandboxPolicy = DEFAULT_POLICY,
    archive: bytes | None = None,
    watch: Callable[[GradingRun, str], None] | None = None,
    queued_at: datetime | None = None,
) -> Graded:
    """Grade files (or a ready archive) with the given test files, in a real container.

    `watch(run, phase)` is called at each phase ("booting", "testing") of the run.
    """
    run = GradingRun(
        archive=archive if archive is not None else pack_files(files or {}),
        tests=tests,
        framework=framework,
        policy=policy,
        on_phase=(lambda phase: watch(run, phase)) if watch else None,
        queued_at=queued_at,
        image=None,
    )
    return Graded(result=run.run(), run=run)


def leftovers(graded: Graded) -> list[str]:
    """Return what a run left behind: containers with its label, its folder."""
    found = [
        f"container {c['Id'][:12]}"
        for c in engine.sandbox_containers(**{engine.RUN_LABEL: graded.run.run_id})
    ]
    if graded.run.dirs is not None and graded.run.dirs.root.exists():
        found.append(f"folder {graded.run.dirs.root}")
    return found


# Test files used by several modules -----------------------------------------------------------

SIMPLE_TESTS = {
    "test_app.py": """
import pytest
from grader import expect


def test_index(client):
    \"\"\"GET / answers 200.\"\"\"
    expect(client.get("/"), status=200)
""",
}


def flask_app(body: str = "", *, top: str = "") -> str:
    """Return an app.py: a Flask app with GET / answering "ok", plus `body` (routes) and `top`."""
    return (
        "from flask import Flask, jsonify, request\n"
        f"{top}\n"
        "app = Flask(__name__)\n\n"
        "@app.get('/')\n"
        "def index():\n"
        "    return 'ok'\n\n"
        f"{body}\n"
    )


# Hostile runs ------------------------------------------------------------------------------------

HOST_MEMORY_BOUND = 300 * MiB  # what the grading process tree may grow above its idle


def grade_bounded(files, **kwargs):
    """Grade files, asserting the grading process tree stayed within its memory bound."""
    with tree_memory() as memory:
        graded = grade_files(files, **kwargs)
    assert memory.above_idle <= HOST_MEMORY_BOUND, memory.describe()
    return graded


def hello_with(framework: str, replace: tuple[str, str], add: str = "") -> dict[str, str]:
    spec = ExerciseSpec.from_dir(HELLO_DIR)
    files = dict(spec.solution(framework))
    target = {"flask": "app.py", "fastapi": "main.py", "django": "greetings/views.py"}[framework]
    old, new = replace
    assert old in files[target]
    files[target] = files[target].replace(old, new) + add
    return files
