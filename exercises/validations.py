"""Validating an exercise version: grade its solutions and starters on the grading queue.

A validation is graded exactly as a learner's submission is: a job (grading.jobs) on the
grading queue, run by a grading host, whose reports come back on the results queue. The host
cannot tell the two apart, and need not: a validation's job id starts with
VALIDATION_JOB_PREFIX (a submission's job id is hex, which never holds a "v"), the job's
`submission` field carries the validation's id, and the site's report tasks (exercises.tasks)
hand such reports here. Validations are rows of their own (ExerciseValidation), so they never
count as submissions: not in progress, attempts, rate limits or gradebooks.

As for submissions, each attempt is a new job id stored on the row, and a report about any
other job, or about a row already done, is ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from exercises.dispatch import job_send
from exercises.models import Exercise, ExerciseValidation, ExerciseVersion, Submission, Verdict
from grading.jobs import GradingJob, new_job_id
from sandbox.archive import SubmissionRejected, pack_files
from sandbox.policy import policy_for
from sandbox.results import make_result, timestamp
from sandbox.spec import FRAMEWORKS

logger = logging.getLogger(__name__)

VALIDATION_JOB_PREFIX = "v"
# A validation whose grading crashed its host this many times ends with an "error" verdict.
MAX_VALIDATION_ATTEMPTS = 3
QUEUED, RUNNING, DONE = Submission.State.QUEUED, Submission.State.RUNNING, Submission.State.DONE
KINDS = (ExerciseValidation.Kind.SOLUTION, ExerciseValidation.Kind.STARTER)
# Failed tests named in a refusal; the rest are counted.
MAX_TESTS_NAMED = 3


def is_validation_job(job_id: str) -> bool:
    """Say whether a job id names a validation's job rather than a submission's."""
    return job_id.startswith(VALIDATION_JOB_PREFIX)


@dataclass(frozen=True)
class FrameworkValidation:
    """The solution's and the starter's grading for one framework, side by side."""

    framework: str
    solution: ExerciseValidation | None
    starter: ExerciseValidation | None

    @property
    def label(self) -> str:
        return FRAMEWORKS.get(self.framework, self.framework)

    @property
    def running(self) -> bool:
        return any(v is not None and not v.done for v in (self.solution, self.starter))


def validation_start(*, version: ExerciseVersion) -> list[ExerciseValidation]:
    """Grade the solution and the starter of every framework the exercise offers, on the queue.

    Earlier validations of the same version are replaced (their late reports are ignored);
    those of other versions stay as they were.
    """
    exercise = version.exercise
    rows = []
    with transaction.atomic():
        version.validations.exclude(framework__in=exercise.frameworks).delete()
        for framework in exercise.frameworks:
            for kind in KINDS:
                row, _ = ExerciseValidation.objects.update_or_create(
                    version=version,
                    framework=framework,
                    kind=kind,
                    defaults={
                        "state": QUEUED,
                        "phase": "",
                        "result": None,
                        "verdict": "",
                        "score": None,
                        "max_score": None,
                        "job_id": VALIDATION_JOB_PREFIX + new_job_id(),
                        "grading_host": "",
                        "grading_attempts": 0,
                        "queued_at": timezone.now(),
                        "started_at": None,
                        "finished_at": None,
                    },
                )
                rows.append(row)
                _send_on_commit(row.pk, row.job_id)
    return rows


def validation_job(*, validation_id: int) -> GradingJob | None:
    """Return the grading job of a queued validation (None: nothing to send).

    Raise SubmissionRejected when the version's files cannot be sent as a submission.
    """
    row = (
        ExerciseValidation.objects.select_related("version__exercise")
        .filter(pk=validation_id, state=QUEUED)
        .first()
    )
    if row is None:
        return None
    exercise = row.version.exercise
    return GradingJob(
        job_id=row.job_id,
        submission=row.pk,
        exercise=exercise.slug,
        framework=row.framework,
        frameworks=tuple(exercise.frameworks),
        limits=dict(exercise.limits or {}),
        tests=_under(row.version.files, "tests"),
        archive=version_archive(row.version, kind=row.kind, framework=row.framework),
        queued_at=row.queued_at.isoformat(),
    )


def version_archive(version: ExerciseVersion, *, kind: str, framework: str) -> bytes:
    """Return a version's solution or starter for a framework, zipped as a learner would send it.

    Raise SubmissionRejected when it is more than a submission may hold.
    """
    files = _under(version.files, f"{kind}/{framework}")
    return pack_files(files, policy=policy_for(version.exercise.limits))


def validation_record(
    *, version: ExerciseVersion, framework: str, kind: str, result: dict[str, Any]
) -> ExerciseValidation:
    """Store a validation graded outside the queue (manage.py validate_exercises)."""
    row, _ = ExerciseValidation.objects.update_or_create(
        version=version,
        framework=framework,
        kind=kind,
        defaults={"state": DONE, "job_id": "", "queued_at": timezone.now()},
    )
    _store(ExerciseValidation.objects.filter(pk=row.pk), result)
    row.refresh_from_db()
    return row


def validation_started(*, job_id: str, validation_id: int, host: str, phase: str) -> bool:
    """Record that a grading host started a validation's job, or reached a later phase."""
    rows = ExerciseValidation.objects.filter(pk=validation_id, job_id=job_id)
    if phase != "booting":
        return bool(rows.filter(state=RUNNING).update(phase=phase[:20]))
    claimed = rows.filter(
        state__in=[QUEUED, RUNNING], grading_attempts__lt=MAX_VALIDATION_ATTEMPTS
    ).update(
        state=RUNNING,
        phase="booting",
        started_at=timezone.now(),
        grading_host=host[:200],
        grading_attempts=F("grading_attempts") + 1,
    )
    if not claimed:
        exhausted = rows.filter(state__in=[QUEUED, RUNNING])
        if exhausted.exists():
            _store(exhausted, _error("Grading this failed too many times on the grading server."))
    return bool(claimed)


def validation_finished(*, job_id: str, validation_id: int, host: str, result: Any) -> bool:
    """Store the result of a validation's job; True if stored, False if ignored."""
    rows = ExerciseValidation.objects.filter(
        pk=validation_id, job_id=job_id, state__in=[QUEUED, RUNNING]
    )
    if not isinstance(result, dict):
        result = _error("The grading host sent no result.")
    stored = _store(rows, result, host=host)
    if not stored:
        logger.info("Validation %s: result of job %s ignored", validation_id, job_id)
    return stored


def validation_lost(*, job_id: str, validation_id: int, host: str, reason: str) -> bool:
    """Put a validation back in the queue after its host could not finish its job.

    As for submissions: "engine" means the host retries the same job later; otherwise the
    validation is sent again as a new job.
    """
    rows = ExerciseValidation.objects.filter(
        pk=validation_id, job_id=job_id, state__in=[QUEUED, RUNNING]
    )
    if reason == "engine":
        return bool(
            rows.filter(state=RUNNING, grading_attempts__gt=0).update(
                state=QUEUED, phase="", grading_attempts=F("grading_attempts") - 1
            )
        )
    with transaction.atomic():
        job = VALIDATION_JOB_PREFIX + new_job_id()
        changed = rows.update(state=QUEUED, phase="", queued_at=timezone.now(), job_id=job)
        if changed:
            _send_on_commit(validation_id, job)
    logger.warning("Validation %s: job %s lost on %s (%s)", validation_id, job_id, host, reason)
    return bool(changed)


def validation_sweep(
    *,
    now,
    stuck_after,
    host_lost_after,
    alive: set[str] | None,
    deadline_for,
) -> list[int]:
    """Send again the validations a lost message or a dead grading host left behind.

    The same rules as for submissions (services.submission_sweep): a running validation whose
    host has not said it is alive for `host_lost_after` (`alive`: the hosts heard from; None
    when unknown), or that ran past `deadline_for(policy)`, is sent again as a new job; one
    queued for longer than `stuck_after` is sent again as the same job. The attempts are
    bounded where a host claims a job (validation_started). Return the ids sent again.
    """
    resent: list[int] = []
    running = ExerciseValidation.objects.filter(state=RUNNING, started_at__isnull=False)
    for row in running.select_related("version__exercise").only(
        "pk", "job_id", "grading_host", "started_at", "version__exercise__limits"
    ):
        past_deadline = row.started_at <= now - deadline_for(
            policy_for(row.version.exercise.limits)
        )
        host_lost = (
            alive is not None
            and row.grading_host not in alive
            and row.started_at <= now - host_lost_after
        )
        if not (past_deadline or host_lost):
            continue
        job = VALIDATION_JOB_PREFIX + new_job_id()
        same_job = ExerciseValidation.objects.filter(pk=row.pk, state=RUNNING, job_id=row.job_id)
        if same_job.update(state=QUEUED, phase="", queued_at=now, job_id=job):
            logger.warning(
                "Validation %s: running on %s (%s); sent again as job %s",
                row.pk,
                row.grading_host or "an unknown host",
                "its host stopped answering" if host_lost else "past its deadline",
                job,
            )
            _send_on_commit(row.pk, job)
            resent.append(row.pk)
    stuck = ExerciseValidation.objects.filter(state=QUEUED, queued_at__lt=now - stuck_after)
    for row in stuck.exclude(pk__in=resent).only("pk", "job_id", "queued_at"):
        same_wait = ExerciseValidation.objects.filter(
            pk=row.pk, state=QUEUED, queued_at=row.queued_at
        )
        if same_wait.update(queued_at=now):
            _send_on_commit(row.pk, row.job_id)
            resent.append(row.pk)
    return resent


def version_validations(version: ExerciseVersion | None) -> list[FrameworkValidation]:
    """Return the validations of a version, one pair per framework the exercise offers."""
    if version is None:
        return []
    found = {(v.framework, v.kind): v for v in version.validations.all()}
    return [
        FrameworkValidation(
            framework=framework,
            solution=found.get((framework, ExerciseValidation.Kind.SOLUTION)),
            starter=found.get((framework, ExerciseValidation.Kind.STARTER)),
        )
        for framework in version.exercise.frameworks
    ]


def publish_refusal(exercise: Exercise) -> str | None:
    """Return why `exercise` may not be published now, or None if it may.

    It may once its current version is validated: for every framework it offers, the
    solution scores full marks and the starter does not.
    """
    version = exercise.current_version()
    if version is None:
        return "This exercise has no files yet: add its tests, starters and solutions."
    pairs = version_validations(version)
    if any(pair.solution is None or pair.starter is None for pair in pairs):
        return f"Validate this version first: version {version.number} has not been validated."
    if any(pair.running for pair in pairs):
        return f"The validation of version {version.number} is still running; wait for it."
    problems = []
    for pair in pairs:
        solution, starter = pair.solution, pair.starter
        if not solution.full_marks:
            problems.append(f"the {pair.label} solution {_shortfall(solution)}")
        if starter.full_marks:
            problems.append(
                f"the {pair.label} starter already scores full marks "
                f"({starter.score}/{starter.max_score}): the tests cannot tell it from a solution"
            )
    if problems:
        return f"Version {version.number} did not pass validation: " + "; ".join(problems) + "."
    return None


def _shortfall(row: ExerciseValidation) -> str:
    """Say in words how a solution fell short, e.g. "scores 4/6: test_x failed"."""
    result = row.result or {}
    if row.verdict in (Verdict.ERROR, Verdict.TIMEOUT) or row.max_score is None:
        verdict = "timed out" if row.verdict == Verdict.TIMEOUT else "could not be graded"
        message = str(result.get("message") or "").strip().splitlines()
        return verdict + (f": {message[0][:200]}" if message else "")
    failed = [
        f"{test.get('name')} {'failed' if test.get('status') == 'failed' else 'did not run'}"
        for test in result.get("tests") or []
        if isinstance(test, dict) and test.get("status") != "passed"
    ]
    named = ", ".join(failed[:MAX_TESTS_NAMED])
    more = f" and {len(failed) - MAX_TESTS_NAMED} more" if len(failed) > MAX_TESTS_NAMED else ""
    return f"scores {row.score}/{row.max_score}" + (f": {named}{more}" if failed else "")


def _under(files: dict[str, str], folder: str) -> dict[str, str]:
    prefix = folder + "/"
    return {p[len(prefix) :]: t for p, t in files.items() if p.startswith(prefix)}


def _error(message: str) -> dict[str, Any]:
    now = timestamp()
    return make_result(
        status=Verdict.ERROR,
        message=message,
        timings={"queued": None, "started": now, "finished": now},
    )


def _store(rows, result: dict[str, Any], *, host: str = "") -> bool:
    status = result.get("status")
    fields = {
        "state": DONE,
        "phase": "",
        "result": result,
        "verdict": status if status in Verdict.values else Verdict.ERROR,
        "score": result.get("score"),
        "max_score": result.get("max_score"),
        "finished_at": timezone.now(),
    }
    if host:
        fields["grading_host"] = host[:200]
    return bool(rows.update(**fields))


def _send_on_commit(validation_id: int, job_id: str) -> None:
    transaction.on_commit(lambda: _send(validation_id, job_id))


def _send(validation_id: int, job_id: str) -> None:
    """Send a validation's job; files that cannot be sent, or a broker outage, end it in error."""
    rows = ExerciseValidation.objects.filter(pk=validation_id, job_id=job_id, state=QUEUED)
    try:
        job = validation_job(validation_id=validation_id)
    except SubmissionRejected as exc:
        _store(rows, _error(str(exc)))
        return
    if job is None or job.job_id != job_id:
        return
    try:
        job_send(job)
    except (BrokerError, OSError) as exc:
        logger.warning("Validation %s not sent (broker unreachable: %s)", validation_id, exc)
        _store(rows, _error("The grading queue could not be reached; validate again later."))
