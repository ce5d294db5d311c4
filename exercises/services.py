"""Submission workflows: create, grade, regrade, and sweep up what a crash left behind.

The database row is the source of truth. A Celery message only says "look at submission N";
losing one (Redis restarted, a worker died) delays a grading but never loses it, because the
sweep finds rows that sat too long and enqueues them again. Every state change is a
conditional UPDATE, so a duplicate message or a late worker can never grade a row twice
into the record.
"""

from __future__ import annotations

import io
import logging
import math
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.db.models import F, Max
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from exercises.models import Framework, Submission, SubmissionArchive, Verdict
from exercises.ratelimit import (
    SUBMIT_BUCKET,
    SubmissionLimited,
    TokenBucket,
    submission_allowance,
    submission_charge,
)
from sandbox import runner
from sandbox.archive import NOT_A_ZIP, SubmissionRejected
from sandbox.engine import EngineUnavailable
from sandbox.policy import DEFAULT_POLICY, MiB, SandboxPolicy, policy_for
from sandbox.results import TIMING_KEYS, make_result, timestamp

logger = logging.getLogger(__name__)

# The Celery task that grades a submission (exercises.tasks), enqueued by name: the tasks
# module imports this one.
GRADE_TASK = "exercises.tasks.grade_submission"

# A grading that crashed its worker this many times is given up with an "error" verdict,
# so one poisonous submission cannot keep a worker busy forever.
MAX_GRADING_ATTEMPTS = 3
# Time a worker may need beyond the policy's wall timeout: container start and removal,
# copying files, storing the result. The soft limit lets the grader clean up; the hard one
# kills the worker process.
SOFT_LIMIT_MARGIN = 20.0
HARD_LIMIT_MARGIN = 35.0
# A running row older than its hard time limit plus this is abandoned: its worker is gone.
ABANDONED_MARGIN = 30.0
# A queued row whose message has not been picked up for this long is enqueued again.
STUCK_QUEUED_AFTER = timedelta(minutes=2)
# Sandbox containers older than the longest grading any exercise may ask for are orphans.
ORPHAN_AGE = timedelta(
    seconds=DEFAULT_POLICY.OVERRIDABLE["wall_timeout"][3] + HARD_LIMIT_MARGIN + ABANDONED_MARGIN
)

# A zip no submission refers to is deleted only once it has not been stored again for this
# long, so that a submission storing the same bytes at that moment never loses them.
UNUSED_ARCHIVE_GRACE = timedelta(hours=1)
PRUNE_BATCH = 500

UNSAVED_MESSAGE = (
    "The result could not be saved, so this submission has no grade. This is a problem on "
    "the grading server, not in your code: please submit again; your instructor can also "
    "regrade it."
)
GAVE_UP_MESSAGE = (
    "We could not grade this submission: grading it failed {attempts} times because of a "
    "problem on the grading server, most likely not in your code. Please submit again in a "
    "few minutes; your instructor can also regrade it."
)


@dataclass
class SweepReport:
    """What one sweep did, by submission id."""

    requeued: list[int] = field(default_factory=list)  # queued too long: enqueued again
    reset: list[int] = field(default_factory=list)  # running past the deadline: worker gone
    given_up: list[int] = field(default_factory=list)  # too many attempts: error verdict
    orphans_removed: int | None = None  # None when the Docker engine did not answer

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PruneReport:
    """What one pass of `submission_archives_prune` did."""

    files_dropped: int = 0  # submissions whose zip is no longer kept
    archives_deleted: int = 0  # stored zips deleted (shared ones count once)
    bytes_freed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def grading_time_limits(policy: SandboxPolicy) -> tuple[float, float]:
    """Return the (soft, hard) Celery time limits, in seconds, for a grading under `policy`."""
    return policy.wall_timeout + SOFT_LIMIT_MARGIN, policy.wall_timeout + HARD_LIMIT_MARGIN


def grading_deadline(policy: SandboxPolicy) -> timedelta:
    """Return how long a submission may stay running before its worker is presumed dead."""
    return timedelta(seconds=grading_time_limits(policy)[1] + ABANDONED_MARGIN)


def submission_create(
    *,
    learner,
    exercise,
    framework: str,
    archive: bytes,
    bucket: TokenBucket | None = SUBMIT_BUCKET,
    now: float | None = None,
) -> Submission:
    """Save a learner's submission and enqueue its grading once the transaction commits.

    Every way of submitting (the editor, an upload, the API) comes through here. Raise
    SubmissionLimited when the rate limits (exercises.ratelimit, with `bucket`) refuse it,
    or SubmissionRejected (a ValueError) with a message for the learner when the framework
    is not offered or the upload is not a zip within the size limit; neither charges a
    token. `bucket=None` skips the rate limits, for callers that make many submissions at
    once on purpose (benchmarks, tests).
    """
    policy = policy_for(exercise.limits)
    with transaction.atomic():
        if bucket is not None:
            # Lock the learner's row: concurrent submissions of one learner go one by one
            # through the checks below (SQLite's write lock does the same).
            list(
                get_user_model().objects.select_for_update().filter(pk=learner.pk).values_list("pk")
            )
            allowance = submission_allowance(
                learner=learner, exercise=exercise, bucket=bucket, now=now
            )
            if not allowance.allowed:
                raise SubmissionLimited(allowance)
        _check_submission(exercise, framework, archive, policy)
        previous = Submission.objects.filter(learner=learner, exercise=exercise).aggregate(
            last=Max("attempt")
        )["last"]
        submission = Submission.objects.create(
            learner=learner,
            exercise=exercise,
            framework=framework,
            archive=SubmissionArchive.objects.store(archive),
            attempt=(previous or 0) + 1,
        )
        if bucket is not None:
            submission_charge(
                learner=learner, exercise=exercise, submission=submission, bucket=bucket, now=now
            )
        _enqueue_on_commit(submission.pk, policy)
    return submission


def _check_submission(exercise, framework: str, archive: bytes, policy: SandboxPolicy) -> None:
    if not exercise.offers(framework):
        names = _framework_names(list(exercise.frameworks))
        raise SubmissionRejected(
            f"This exercise can be solved with {names}; "
            f"“{_framework_names([framework])}” is not one of them."
        )
    if len(archive) > policy.max_archive_bytes:
        zipped = math.ceil(len(archive) * 10 / MiB) / 10  # rounded up: 2.01 MiB is over 2
        raise SubmissionRejected(
            f"Your files are {zipped:g} MiB once zipped; the limit is "
            f"{policy.max_archive_bytes / MiB:g} MiB. Leave out virtual environments, "
            "databases and other generated files."
        )
    if not zipfile.is_zipfile(io.BytesIO(archive)):
        raise SubmissionRejected(NOT_A_ZIP)


def submission_grade(*, submission_id: int) -> Submission | None:
    """Claim a queued submission, grade it, store the verdict; return None if not claimed.

    A second message for the same submission finds it no longer queued and does nothing,
    so duplicate deliveries are harmless.
    """
    claimed_at = timezone.now()
    claimed = Submission.objects.filter(
        pk=submission_id,
        state=Submission.State.QUEUED,
        grading_attempts__lt=MAX_GRADING_ATTEMPTS,
    ).update(
        state=Submission.State.RUNNING,
        phase="booting",
        started_at=claimed_at,
        finished_at=None,
        grading_attempts=F("grading_attempts") + 1,
    )
    if not claimed:
        _give_up_if_exhausted(submission_id)
        return None

    # This claim, and only this one, may write to the row: a sweep that presumed the worker
    # dead, or a regrade, changes state or started_at and so silently retires it.
    mine = Submission.objects.filter(
        pk=submission_id, state=Submission.State.RUNNING, started_at=claimed_at
    )

    def on_phase(phase: str) -> None:
        mine.update(phase=phase)

    submission = Submission.objects.select_related("exercise").get(pk=submission_id)
    logger.info(
        "Submission %s: grading started (claim %s)",
        submission_id,
        submission.grading_attempts,
        extra={"exercise": submission.exercise.slug},
    )
    try:
        result = runner.grade(
            spec=submission.exercise.spec(),
            archive=bytes(submission.archive),
            framework=submission.framework,
            on_phase=on_phase,
            queued_at=submission.queued_at,
        )
    except EngineUnavailable:
        # The submission never ran, so this claim does not count against it; the task retries.
        mine.update(
            state=Submission.State.QUEUED,
            phase="",
            queued_at=timezone.now(),
            grading_attempts=F("grading_attempts") - 1,
        )
        raise
    except Exception:
        # A fault of the grader itself (or the soft time limit): give the row back for the
        # sweep to retry, up to MAX_GRADING_ATTEMPTS claims.
        mine.update(state=Submission.State.QUEUED, phase="", queued_at=timezone.now())
        raise

    stored = _store_result(mine, submission_id, result)
    if not stored:
        logger.info("Submission %s was reclaimed while grading; result discarded", submission_id)
        return None
    submission.refresh_from_db()
    logger.info(
        "Submission %s graded: %s",
        submission_id,
        submission.verdict,
        extra={"exercise": submission.exercise.slug, "verdict": submission.verdict},
    )
    return submission


def submission_release(*, submission_id: int) -> bool:
    """Put a running submission back in the queue after its worker process was lost."""
    released = Submission.objects.filter(pk=submission_id, state=Submission.State.RUNNING).update(
        state=Submission.State.QUEUED, phase="", queued_at=timezone.now()
    )
    if released:
        logger.warning("Submission %s: its worker was lost; queued again", submission_id)
    return bool(released)


def submission_regrade(*, submissions: Iterable[Submission]) -> int:
    """Reset submissions to queued (clearing their verdicts) and enqueue them; return how many.

    Submissions whose files are no longer kept cannot be graded again: they are left as they
    are, verdict included (`Submission.objects.without_files()` names them).
    """
    ids = [s.pk for s in submissions]
    with transaction.atomic():
        without_files = list(
            Submission.objects.filter(pk__in=ids).without_files().values_list("pk", flat=True)
        )
        if without_files:
            logger.warning(
                "Submissions %s not regraded: their files are no longer kept", without_files
            )
        ids = [pk for pk in ids if pk not in set(without_files)]
        count = Submission.objects.filter(pk__in=ids, archive__isnull=False).update(
            state=Submission.State.QUEUED,
            phase="",
            result=None,
            verdict="",
            score=None,
            max_score=None,
            grading_attempts=0,
            queued_at=timezone.now(),
            started_at=None,
            finished_at=None,
        )
        for pk, limits in Submission.objects.filter(pk__in=ids).values_list(
            "pk", "exercise__limits"
        ):
            _enqueue_on_commit(pk, policy_for(limits))
    return count


def archive_retention() -> timedelta | None:
    """Return how long superseded submissions keep their files (None: for ever)."""
    days = settings.ARCHIVE_RETENTION_DAYS
    return timedelta(days=days) if days > 0 else None


def submission_archives_prune(*, older_than: timedelta | None, now=None) -> PruneReport:
    """Stop keeping the zips of old submissions that a newer or better one supersedes.

    A graded submission created more than `older_than` ago loses its files unless it is its
    learner's latest or best (highest score, then latest) on the exercise; its result and
    score stay. Then stored zips no submission refers to any more are deleted. With
    `older_than` None only that second step runs.
    """
    now = timezone.now() if now is None else now
    report = PruneReport()
    if older_than is not None:
        pairs = Submission.objects.all()
        superseded = list(
            Submission.objects.filter(
                state=Submission.State.DONE,
                created__lt=now - older_than,
                archive__isnull=False,
            )
            .exclude(pk__in=pairs.latest_per_learner().values("pk"))
            .exclude(pk__in=pairs.best_per_learner().values("pk"))
            .values_list("pk", flat=True)
        )
        for start in range(0, len(superseded), PRUNE_BATCH):
            batch = superseded[start : start + PRUNE_BATCH]
            # Still done: a regrade in between needs the files, and keeps them.
            report.files_dropped += Submission.objects.filter(
                pk__in=batch, state=Submission.State.DONE
            ).update(archive=None)
    unused = SubmissionArchive.objects.filter(
        submissions__isnull=True, last_used__lt=now - UNUSED_ARCHIVE_GRACE
    )
    for pk, size in list(unused.values_list("pk", "size")):
        # Conditional again, row by row: a submission may have stored these bytes since.
        if SubmissionArchive.objects.filter(
            pk=pk, submissions__isnull=True, last_used__lt=now - UNUSED_ARCHIVE_GRACE
        ).delete()[0]:
            report.archives_deleted += 1
            report.bytes_freed += size
    return report


def submission_sweep(
    *, stuck_after: timedelta, abandoned_after: timedelta | None = None
) -> SweepReport:
    """Enqueue again what a lost message or a dead worker left behind, and remove orphans.

    Queued rows older than `stuck_after` are enqueued again. Running rows older than
    `abandoned_after` (default: the exercise's hard time limit plus a margin, after which no
    live worker can still hold them) are queued again. Rows that used up their attempts get
    an "error" verdict.
    """
    report = SweepReport()
    now = timezone.now()
    fields = ("pk", "state", "queued_at", "started_at", "grading_attempts", "exercise")
    running = (
        Submission.objects.filter(state=Submission.State.RUNNING)
        .select_related("exercise")
        .only(*fields, "exercise__limits")
    )
    for submission in running:
        policy = policy_for(submission.exercise.limits)
        deadline = abandoned_after if abandoned_after is not None else grading_deadline(policy)
        if submission.started_at is None or submission.started_at > now - deadline:
            continue
        # Conditional on the claim we saw: a worker that is still alive and stores its
        # result first wins, and the sweep then changes nothing.
        same_claim = Submission.objects.filter(
            pk=submission.pk, state=Submission.State.RUNNING, started_at=submission.started_at
        )
        if submission.grading_attempts >= MAX_GRADING_ATTEMPTS:
            if _give_up(same_claim, submission):
                report.given_up.append(submission.pk)
        elif same_claim.update(state=Submission.State.QUEUED, phase="", queued_at=now):
            logger.warning(
                "Submission %s: running since %s; queued again",
                submission.pk,
                submission.started_at,
            )
            _enqueue_on_commit(submission.pk, policy)
            report.reset.append(submission.pk)

    queued = (
        Submission.objects.filter(state=Submission.State.QUEUED, queued_at__lt=now - stuck_after)
        .exclude(pk__in=report.reset)
        .select_related("exercise")
        .only(*fields, "exercise__limits")
    )
    for submission in list(queued):
        same_wait = Submission.objects.filter(
            pk=submission.pk, state=Submission.State.QUEUED, queued_at=submission.queued_at
        )
        if submission.grading_attempts >= MAX_GRADING_ATTEMPTS:
            if _give_up(same_wait, submission):
                report.given_up.append(submission.pk)
        elif same_wait.update(queued_at=now):
            _enqueue_on_commit(submission.pk, policy_for(submission.exercise.limits))
            report.requeued.append(submission.pk)

    try:
        report.orphans_removed = runner.sweep_orphans(max_age=ORPHAN_AGE)
    except EngineUnavailable as exc:
        logger.warning("Sweep: orphan containers not checked: %s", exc)
    return report


# Helpers ------------------------------------------------------------------------------


def _enqueue_on_commit(submission_id: int, policy: SandboxPolicy) -> None:
    transaction.on_commit(lambda: _enqueue(submission_id, policy))


def _enqueue(submission_id: int, policy: SandboxPolicy) -> None:
    """Send the grading message; a broker outage is logged, not raised.

    The row is already committed, so the learner's submission is safe: the sweep enqueues it
    again once the broker is back. Failing the learner's request would only lose their work.
    """
    soft, hard = grading_time_limits(policy)
    try:
        current_app.send_task(
            GRADE_TASK, args=(submission_id,), soft_time_limit=soft, time_limit=hard
        )
    except (BrokerError, OSError) as exc:
        logger.warning(
            "Submission %s saved but not enqueued (broker unreachable: %s); the sweep will "
            "enqueue it",
            submission_id,
            exc,
        )


def _give_up_if_exhausted(submission_id: int) -> None:
    submission = (
        Submission.objects.filter(
            pk=submission_id,
            state=Submission.State.QUEUED,
            grading_attempts__gte=MAX_GRADING_ATTEMPTS,
        )
        .defer("archive", "result")
        .first()
    )
    if submission is not None:
        _give_up(
            Submission.objects.filter(pk=submission_id, state=Submission.State.QUEUED), submission
        )


def _give_up(rows, submission: Submission) -> bool:
    """Store an "error" verdict on `rows` (the submission, as last seen); return True if stored."""
    result = make_result(
        status=Verdict.ERROR,
        message=GAVE_UP_MESSAGE.format(attempts=submission.grading_attempts),
        timings={
            "queued": timestamp(submission.queued_at),
            "started": timestamp(submission.started_at) if submission.started_at else None,
            "finished": timestamp(),
        },
    )
    stored = rows.update(**_verdict_fields(result))
    if stored:
        logger.error(
            "Submission %s: gave up after %s grading attempts; regrade it from the admin",
            submission.pk,
            submission.grading_attempts,
        )
    return bool(stored)


def _store_result(rows, submission_id: int, result: dict[str, Any]) -> bool:
    """Store a finished grading on `rows`; return True if stored.

    A result the database refuses (text PostgreSQL cannot hold, a value JSON cannot encode)
    is replaced by an "error" verdict saying so, so the row never stays running. Each
    attempt is its own savepoint: a refused statement must not spoil a caller's transaction.
    """
    try:
        with transaction.atomic():
            return bool(rows.update(**_verdict_fields(result)))
    except (DatabaseError, TypeError, ValueError):
        logger.exception("Submission %s: the result could not be saved", submission_id)
    timings = result.get("timings") if isinstance(result, dict) else None
    kept = {
        key: value
        for key, value in (timings.items() if isinstance(timings, dict) else ())
        if key in TIMING_KEYS and (value is None or isinstance(value, str))
    }
    fallback = make_result(
        status=Verdict.ERROR, message=UNSAVED_MESSAGE, timings={**kept, "finished": timestamp()}
    )
    with transaction.atomic():
        return bool(rows.update(**_verdict_fields(fallback)))


def _verdict_fields(result: dict[str, Any]) -> dict[str, Any]:
    status = result.get("status")
    return {
        "state": Submission.State.DONE,
        "phase": "",
        "result": result,
        # A status the grader never gives would be a bug there; the row still ends done.
        "verdict": status if status in Verdict.values else Verdict.ERROR,
        "score": result.get("score"),
        "max_score": result.get("max_score"),
        "finished_at": timezone.now(),
    }


def _framework_names(frameworks: list[str]) -> str:
    labels = dict(Framework.choices)
    names = [labels.get(f, f) for f in frameworks]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
