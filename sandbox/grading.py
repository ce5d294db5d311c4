"""Grade a learner's submission of an exercise: the one entry point the rest of the site uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox import runner
from sandbox.results import empty_timings, make_result, timestamp
from sandbox.spec import ExerciseSpec

FRAMEWORK_NAMES = {"flask": "Flask", "django": "Django", "fastapi": "FastAPI"}


def grade(
    *,
    spec: ExerciseSpec,
    archive: bytes,
    framework: str,
    on_phase: Callable[[str], None] | None = None,
    queued_at: datetime | None = None,
) -> dict[str, Any]:
    """Run a submission (zip bytes) against an exercise's hidden tests; return the result dict.

    Never raises for anything the learner did: bad archives, broken apps and time limits all
    end in a result (see sandbox.results). Raises sandbox.engine.EngineUnavailable when the
    Docker engine cannot be reached or the runner image is missing, which is worth retrying.
    `on_phase` is called with "booting" and then "testing" as the run goes on.
    """
    if framework not in spec.frameworks:
        offered = ", ".join(FRAMEWORK_NAMES.get(f, f) for f in spec.frameworks)
        chosen = FRAMEWORK_NAMES.get(framework, framework)
        timings = {**empty_timings(queued_at), "started": timestamp()}
        timings["finished"] = timings["started"]
        return make_result(
            status="error",
            message=f"This exercise is graded with {offered}; {chosen} is not one of them.",
            timings=timings,
        )
    return runner.run_submission(
        archive=archive,
        tests=spec.tests,
        framework=framework,
        policy=spec.policy,
        on_phase=on_phase,
        queued_at=queued_at,
    )
