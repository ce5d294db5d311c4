"""A grading job: everything a grading host needs to grade one submission, as plain data.

The site sends a job on the ``grading`` queue (task GRADE_TASK) and a host sends back what
happened on the ``results`` queue (STARTED_TASK, FINISHED_TASK, LOST_TASK), each message
naming the job. A job id is new for each attempt at grading a submission, so a message about
an attempt the site has given up on (a host presumed dead, a regrade) names a job that is no
longer the submission's and is ignored there.

A job carries the exercise's tests (file path → text), the frameworks it offers, its
[limits], and the learner's zip in base64. It carries no sandbox settings of its own: a host
applies the limits to its own SandboxPolicy, within the bounds the policy allows, so whoever
can write to the broker still cannot turn off a container's isolation.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.policy import DEFAULT_POLICY, SandboxPolicy
from sandbox.spec import FRAMEWORKS, ExerciseSpec

GRADING_QUEUE = "grading"
RESULTS_QUEUE = "results"
# Task names: the host's (grading.worker) and the site's (exercises.tasks), sent by name so
# that neither side imports the other.
GRADE_TASK = "grading.grade"
STARTED_TASK = "exercises.tasks.grading_started"
FINISHED_TASK = "exercises.tasks.grading_finished"
LOST_TASK = "exercises.tasks.grading_lost"
RESULT_TASKS = (STARTED_TASK, FINISHED_TASK, LOST_TASK)

# Time a grading may need beyond the policy's wall timeout: container start and removal,
# copying files, sending the result. The soft limit lets the grader clean up; the hard one
# kills the pool process.
SOFT_LIMIT_MARGIN = 20.0
HARD_LIMIT_MARGIN = 35.0

# Bounds on what a host accepts, beyond the policy's archive limit.
MAX_TEST_FILES = 200
MAX_TEST_BYTES = 4 * 1024 * 1024  # all test files together


class JobRejected(ValueError):
    """A message on the grading queue is not a job this host can run."""


def grading_time_limits(policy: SandboxPolicy) -> tuple[float, float]:
    """Return the (soft, hard) Celery time limits, in seconds, for a grading under `policy`."""
    return policy.wall_timeout + SOFT_LIMIT_MARGIN, policy.wall_timeout + HARD_LIMIT_MARGIN


def new_job_id() -> str:
    """Return a fresh job id (128 random bits, hex)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class GradingJob:
    job_id: str
    submission: int  # the site's id for the submission, sent back with every message
    framework: str
    frameworks: tuple[str, ...]  # those the exercise offers
    tests: dict[str, str]  # path below tests/ → text
    archive: bytes
    limits: dict[str, Any] = field(default_factory=dict)  # the exercise's [limits]
    exercise: str = ""  # the exercise's slug, for logs
    queued_at: str | None = None  # ISO 8601, for the result's timings

    @property
    def policy(self) -> SandboxPolicy:
        return DEFAULT_POLICY.with_overrides(self.limits)

    def spec(self) -> ExerciseSpec:
        """Return an exercise spec holding what grading needs: tests, frameworks, limits."""
        return ExerciseSpec(
            slug=self.exercise or "exercise",
            title=self.exercise or "exercise",
            frameworks=self.frameworks,
            limits=dict(self.limits),
            files={f"tests/{path}": text for path, text in self.tests.items()},
        )

    def queued_datetime(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.queued_at) if self.queued_at else None
        except ValueError:
            return None

    def to_message(self) -> dict[str, Any]:
        """Return the job as JSON-ready data (the zip in base64)."""
        return {
            "job_id": self.job_id,
            "submission": self.submission,
            "exercise": self.exercise,
            "framework": self.framework,
            "frameworks": list(self.frameworks),
            "limits": dict(self.limits),
            "tests": dict(self.tests),
            "archive": base64.b64encode(self.archive).decode("ascii"),
            "queued_at": self.queued_at,
        }

    @classmethod
    def from_message(cls, data: Any) -> GradingJob:
        """Read a job sent by `to_message`; raise JobRejected when anything is off."""
        if not isinstance(data, dict):
            raise JobRejected("a job must be a JSON object")
        job_id, submission = data.get("job_id"), data.get("submission")
        if not isinstance(job_id, str) or not (0 < len(job_id) <= 64) or not job_id.isalnum():
            raise JobRejected("bad job_id")
        if not isinstance(submission, int) or isinstance(submission, bool):
            raise JobRejected("bad submission id")
        framework = data.get("framework")
        frameworks = data.get("frameworks")
        if framework not in FRAMEWORKS or not isinstance(frameworks, list):
            raise JobRejected("bad framework")
        if not frameworks or any(f not in FRAMEWORKS for f in frameworks):
            raise JobRejected("bad frameworks")
        limits = data.get("limits") or {}
        if not isinstance(limits, dict):
            raise JobRejected("bad limits")
        try:
            policy = DEFAULT_POLICY.with_overrides(limits)
        except ValueError as exc:
            raise JobRejected(f"bad limits: {exc}") from exc
        tests = data.get("tests")
        if (
            not isinstance(tests, dict)
            or len(tests) > MAX_TEST_FILES
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in tests.items())
            or sum(len(k) + len(v) for k, v in tests.items()) > MAX_TEST_BYTES
        ):
            raise JobRejected("bad tests")
        encoded = data.get("archive")
        # Checked before decoding: base64 is 4 bytes for every 3.
        if not isinstance(encoded, str) or len(encoded) > (policy.max_archive_bytes + 2) // 3 * 4:
            raise JobRejected(f"the archive is not base64 within {policy.max_archive_bytes} bytes")
        try:
            archive = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise JobRejected("the archive is not base64") from exc
        queued_at = data.get("queued_at")
        exercise = data.get("exercise") or ""
        return cls(
            job_id=job_id,
            submission=submission,
            exercise=str(exercise)[:100],
            framework=framework,
            frameworks=tuple(frameworks),
            limits=dict(limits),
            tests=dict(tests),
            archive=archive,
            queued_at=queued_at if isinstance(queued_at, str) else None,
        )
