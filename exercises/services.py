"""Submission workflows: create, apply what grading hosts report, regrade, and sweep up.

The database row is the source of truth. A submission is graded as a job (grading.jobs): the
site sends it, with the tests and the learner's files, to the grading queue, and a grading
host (grading.worker), which has no database, sends back that it started and then the
result. Each attempt is a new job id, stored on the row; a report about any other job, or
about a row already done, is ignored. Losing a message (Redis restarted, a host died) delays
a grading but never loses it: the sweep finds rows that sat too long, or whose host stopped
saying it is alive, and sends them again. Every state change is a conditional UPDATE, so a
duplicate message or a late host can never grade a row twice into the record.
"""

from __future__ import annotations

import io
import logging
import math
import time
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import redis as redis_lib
from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.db.models import F, Max
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from courses.services import NotOnRoster, enrollment_for_submission
from exercises.dispatch import job_send
from exercises.history import grading_apply
from exercises.models import (
    ExerciseValidation,
    ExerciseVersion,
    Framework,
    Submission,
    SubmissionArchive,
    Verdict,
)
from exercises.ratelimit import (
    SUBMIT_BUCKET,
    SubmissionLimited,
    TokenBucket,
    submission_allowance,
    submission_charge,
)
from exercises.validations import validation_sweep
from grading import hosts
from grading.jobs import (
    GradingJob,
    grading_time_limits,
    new_job_id,
)
from sandbox.archive import NOT_A_ZIP, SubmissionRejected
from sandbox.policy import MiB, SandboxPolicy, policy_for
from sandbox.results import TIMING_KEYS, make_result, timestamp

logger = logging.getLogger(__name__)

# A grading that crashed its host this many times is given up with an "error" verdict,
# so one poisonous submission cannot keep the hosts busy forever.
MAX_GRADING_ATTEMPTS = 3
# A running row older than its hard time limit plus this is abandoned: its host is gone.
ABANDONED_MARGIN = 30.0
# A queued row whose job has not been started for this long is sent again.
STUCK_QUEUED_AFTER = timedelta(minutes=2)
# A running row whose host has not said it is alive for this long is sent to another host.
HOST_LOST_AFTER = timedelta(seconds=hosts.LOST_AFTER_SECONDS)

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

    requeued: list[int] = field(default_factory=list)  # queued too long: sent again
    reset: list[int] = field(default_factory=list)  # running past the deadline: host gone
    host_lost: list[int] = field(default_factory=list)  # its host stopped saying it is alive
    given_up: list[int] = field(default_factory=list)  # too many attempts: error verdict
    validations: list[int] = field(default_factory=list)  # exercise validations sent again

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


def grading_deadline(policy: SandboxPolicy) -> timedelta:
    """Return how long a submission may stay running before its host is presumed dead."""
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
    """Save a learner's submission and send its grading job once the transaction commits.

    Every way of submitting (the editor, an upload, the API) comes through here. Raise
    SubmissionLimited when the rate limits (exercises.ratelimit, with `bucket`) refuse it,
    or SubmissionRejected (a ValueError) with a message for the learner when the framework
    is not offered, the upload is not a zip within the size limit, or the course is by
    invitation and they are not on its roster; neither charges a token. A first
    submission to an open course puts the learner on its roster. `bucket=None` skips the
    rate limits, for callers that make many submissions at once on purpose (benchmarks,
    tests).
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
        try:  # joins an open course; refuses outsiders of an invitation-only one
            enrollment_for_submission(course=exercise.course, learner=learner)
        except NotOnRoster as exc:
            raise SubmissionRejected(str(exc)) from None
        previous = Submission.objects.filter(learner=learner, exercise=exercise).aggregate(
            last=Max("attempt")
        )["last"]
        deadline = exercise.deadline_for(learner)
        submission = Submission.objects.create(
            learner=learner,
            exercise=exercise,
            framework=framework,
            archive=SubmissionArchive.objects.store(archive),
            attempt=(previous or 0) + 1,
            version=exercise.current_version(),
            late=deadline is not None and timezone.now() > deadline,
            job_id=new_job_id(),
        )
        if bucket is not None:
            submission_charge(
                learner=learner, exercise=exercise, submission=submission, bucket=bucket, now=now
            )
        _send_on_commit(submission.pk, submission.job_id)
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


def submission_job(*, submission_id: int) -> GradingJob | None:
    """Return the grading job of a queued submission as it stands now (None: nothing to send).

    The job holds everything a grading host needs: the exercise's tests, frameworks and
    limits, and the learner's zip.
    """
    submission = (
        Submission.objects.select_related("exercise", "archive")
        .filter(pk=submission_id, state=Submission.State.QUEUED)
        .first()
    )
    if submission is None or submission.archive is None:
        return None
    exercise = submission.exercise
    spec = exercise.spec()
    return GradingJob(
        job_id=submission.job_id,
        submission=submission.pk,
        exercise=exercise.slug,
        framework=submission.framework,
        frameworks=tuple(spec.frameworks),
        limits=dict(spec.limits),
        tests=spec.tests,
        archive=bytes(submission.archive),
        queued_at=submission.queued_at.isoformat(),
    )


def submission_grading_started(*, job_id: str, submission_id: int, host: str, phase: str) -> bool:
    """Record that `host` started a job ("booting") or reached a later phase; True if recorded.

    Starting claims the row for the job: it becomes running on that host, and the attempt
    counts. A report about a job that is no longer the row's is ignored.
    """
    rows = Submission.objects.filter(pk=submission_id, job_id=job_id)
    if phase != "booting":
        return bool(rows.filter(state=Submission.State.RUNNING).update(phase=phase[:20]))
    claimed = rows.filter(
        state__in=[Submission.State.QUEUED, Submission.State.RUNNING],
        grading_attempts__lt=MAX_GRADING_ATTEMPTS,
    ).update(
        state=Submission.State.RUNNING,
        phase="booting",
        started_at=timezone.now(),
        finished_at=None,
        grading_host=host[:200],
        grading_attempts=F("grading_attempts") + 1,
    )
    if not claimed:
        exhausted = rows.filter(
            state__in=[Submission.State.QUEUED, Submission.State.RUNNING],
            grading_attempts__gte=MAX_GRADING_ATTEMPTS,
        )
        submission = exhausted.defer("result").first()
        if submission is not None:
            _give_up(exhausted, submission)
        else:
            logger.info(
                "Submission %s: job %s started on %s is not its current job; ignored",
                submission_id,
                job_id,
                host,
            )
    return bool(claimed)


def submission_grading_finished(*, job_id: str, submission_id: int, host: str, result: Any) -> bool:
    """Store the result of a job on its submission; True if stored, False if ignored.

    Ignored (and logged) when the job is no longer the row's (a sweep sent it again, or it
    was regraded) or the row is done already: results are applied once.
    """
    rows = Submission.objects.filter(pk=submission_id, job_id=job_id)
    if not isinstance(result, dict):
        result = {"status": Verdict.ERROR, "message": "The grading host sent no result."}
    running = rows.filter(state=Submission.State.RUNNING)
    stored = _store_result(running, submission_id, result)
    if not stored:
        # A result may overtake its "started" report (two site workers): count the attempt
        # here, then store it. Tried second, so that a result in order costs one write; a
        # start that lands in between counts the attempt itself.
        rows.filter(state=Submission.State.QUEUED).update(
            state=Submission.State.RUNNING,
            started_at=timezone.now(),
            grading_host=host[:200],
            grading_attempts=F("grading_attempts") + 1,
        )
        stored = _store_result(running, submission_id, result)
    if stored:
        logger.info(
            "Submission %s: result of job %s from %s applied (%s)",
            submission_id,
            job_id,
            host,
            result.get("status"),
        )
    else:
        logger.warning(
            "Submission %s: result of job %s from %s ignored (not its current job, or done)",
            submission_id,
            job_id,
            host,
        )
    return stored


def submission_grading_lost(*, job_id: str, submission_id: int, host: str, reason: str) -> bool:
    """Put a running submission back in the queue after its host could not finish its job.

    reason "engine": the host's Docker engine stopped answering; the host retries the same
    job later, and this attempt does not count. Otherwise (the grader failed, a time limit
    killed it) the submission is sent again at once as a new job. True if the row changed.
    """
    rows = Submission.objects.filter(
        pk=submission_id,
        job_id=job_id,
        state__in=[Submission.State.QUEUED, Submission.State.RUNNING],
    )
    if reason == "engine":
        changed = rows.filter(state=Submission.State.RUNNING, grading_attempts__gt=0).update(
            state=Submission.State.QUEUED,
            phase="",
            queued_at=timezone.now(),
            grading_attempts=F("grading_attempts") - 1,
        )
    else:
        with transaction.atomic():
            job = new_job_id()
            changed = rows.update(
                state=Submission.State.QUEUED, phase="", queued_at=timezone.now(), job_id=job
            )
            if changed:
                _send_on_commit(submission_id, job)
    if changed:
        logger.warning(
            "Submission %s: job %s lost on %s (%s); queued again",
            submission_id,
            job_id,
            host,
            reason,
        )
    return bool(changed)


def submission_regrade(*, submissions: Iterable[Submission], regrade=None) -> int:
    """Send submissions to be graded again, each as a new job; return how many were sent.

    Each is graded against its exercise's current version (recorded on the row), as part of
    `regrade` when given (exercises.regrades starts regrades). Its previous result stays on
    the row until the new one is applied (exercises.history), so no learner's best drops
    while it waits. Submissions whose files are no longer kept cannot be graded again: they
    are left as they are (`Submission.objects.without_files()` names them).
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
        kept = Submission.objects.filter(pk__in=ids, archive__isnull=False)
        count = kept.update(
            state=Submission.State.QUEUED,
            phase="",
            grading_attempts=0,
            queued_at=timezone.now(),
            started_at=None,
            finished_at=None,
            regrade=regrade,
        )
        for exercise_id in set(kept.values_list("exercise_id", flat=True)):
            version = ExerciseVersion.objects.filter(exercise_id=exercise_id).first()
            kept.filter(exercise_id=exercise_id).update(version=version)
        for pk in kept.values_list("pk", flat=True):
            job = new_job_id()
            Submission.objects.filter(pk=pk).update(job_id=job, grading_host="")
            _send_on_commit(pk, job)
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
    *,
    stuck_after: timedelta,
    abandoned_after: timedelta | None = None,
    host_lost_after: timedelta = HOST_LOST_AFTER,
) -> SweepReport:
    """Send again what a lost message, a dead host or a lost job left behind.

    Queued rows older than `stuck_after` are sent again (the same job: a host that has it
    already skips it). Running rows are sent again as a new job when their host has not said
    it is alive (grading.hosts) for `host_lost_after`, or when they are older than
    `abandoned_after` (default: the exercise's hard time limit plus a margin, after which no
    live host can still hold them). Rows that used up their attempts get an "error" verdict.
    """
    report = SweepReport()
    now = timezone.now()
    fields = (
        "pk", "state", "queued_at", "started_at", "grading_attempts", "grading_host", "job_id",
        "exercise",
    )  # fmt: skip
    running = list(
        Submission.objects.filter(state=Submission.State.RUNNING)
        .select_related("exercise")
        .only(*fields, "exercise__limits")
    )
    alive = _live_hosts(within=host_lost_after) if running else set()
    for submission in running:
        policy = policy_for(submission.exercise.limits)
        deadline = abandoned_after if abandoned_after is not None else grading_deadline(policy)
        if submission.started_at is None:
            continue
        past_deadline = submission.started_at <= now - deadline
        host_lost = (
            alive is not None
            and submission.grading_host not in alive
            and submission.started_at <= now - host_lost_after
        )
        if not (past_deadline or host_lost):
            continue
        # Conditional on the job we saw: a host that is still alive and stores its result
        # first wins, and the sweep then changes nothing.
        same_job = Submission.objects.filter(
            pk=submission.pk, state=Submission.State.RUNNING, job_id=submission.job_id
        )
        if submission.grading_attempts >= MAX_GRADING_ATTEMPTS:
            if _give_up(same_job, submission):
                report.given_up.append(submission.pk)
            continue
        job = new_job_id()
        if same_job.update(state=Submission.State.QUEUED, phase="", queued_at=now, job_id=job):
            logger.warning(
                "Submission %s: running since %s on %s (%s); sent again as job %s",
                submission.pk,
                submission.started_at,
                submission.grading_host or "an unknown host",
                "its host stopped answering" if host_lost else "past its deadline",
                job,
            )
            _send_on_commit(submission.pk, job)
            (report.host_lost if host_lost else report.reset).append(submission.pk)

    queued = (
        Submission.objects.filter(state=Submission.State.QUEUED, queued_at__lt=now - stuck_after)
        .exclude(pk__in=report.reset + report.host_lost)
        .only(*fields)
    )
    for submission in list(queued):
        same_wait = Submission.objects.filter(
            pk=submission.pk, state=Submission.State.QUEUED, queued_at=submission.queued_at
        )
        if submission.grading_attempts >= MAX_GRADING_ATTEMPTS:
            if _give_up(same_wait, submission):
                report.given_up.append(submission.pk)
            continue
        job = submission.job_id or new_job_id()  # rows queued before jobs had ids
        if same_wait.update(queued_at=now, job_id=job):
            _send_on_commit(submission.pk, job)
            report.requeued.append(submission.pk)

    if ExerciseValidation.objects.filter(state__in=("queued", "running")).exists():
        if not running:
            alive = _live_hosts(within=host_lost_after)
        report.validations = validation_sweep(
            now=now,
            stuck_after=stuck_after,
            host_lost_after=host_lost_after,
            alive=alive,
            deadline_for=lambda policy: (
                abandoned_after if abandoned_after is not None else grading_deadline(policy)
            ),
        )
    return report


# Helpers ------------------------------------------------------------------------------


def _live_hosts(*, within: timedelta) -> set[str] | None:
    """Return the ids of the grading hosts heard from within `within`; None if unknown.

    Unknown when the broker does not answer: then no host is presumed dead.
    """
    try:
        statuses = hosts.read_all(_broker())
    except (redis_lib.RedisError, OSError) as exc:
        logger.warning("Sweep: the grading hosts' statuses could not be read: %s", exc)
        return None
    now = time.time()
    # A host whose Docker engine fails is alive: it finishes or gives back its jobs itself.
    return {s.host for s in statuses if s.age(now) <= within.total_seconds()}


_brokers: dict[str, redis_lib.Redis] = {}


def _broker() -> redis_lib.Redis:
    """Return a Redis client on the Celery broker, where grading hosts publish their status."""
    url = current_app.conf.broker_url
    if url not in _brokers:
        _brokers[url] = redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return _brokers[url]


def _send_on_commit(submission_id: int, job_id: str) -> None:
    transaction.on_commit(lambda: _send(submission_id, job_id))


def _send(submission_id: int, job_id: str) -> None:
    """Send a submission's grading job; a broker outage is logged, not raised.

    The row is already committed, so the learner's submission is safe: the sweep sends it
    again once the broker is back. Failing the learner's request would only lose their work.
    """
    job = submission_job(submission_id=submission_id)
    if job is None or job.job_id != job_id:
        return  # graded, regraded or sent again since: that send carries the current job
    try:
        job_send(job)
    except (BrokerError, OSError) as exc:
        logger.warning(
            "Submission %s saved but not sent (broker unreachable: %s); the sweep will send it",
            submission_id,
            exc,
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
    with transaction.atomic():
        stored = grading_apply(rows=rows, fields=_verdict_fields(result))
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
            return grading_apply(rows=rows, fields=_verdict_fields(result))
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
        return grading_apply(rows=rows, fields=_verdict_fields(fallback))


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
