from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis as redis_lib
from django.db import DataError, connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from exercises import services
from exercises.models import ExerciseValidation, Submission
from grading import hosts
from grading.jobs import SOFT_LIMIT_MARGIN, grading_time_limits
from sandbox.archive import SubmissionRejected, pack_files
from sandbox.results import TestOutcome, make_result
from tests.factories import ExerciseFactory, UserFactory
from tests.postgres import postgres_server, run_on_postgresql  # noqa: F401 - a fixture

ZIP = pack_files({"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
PASSED = {
    "status": "passed",
    "score": 3,
    "max_score": 3,
    "message": "All tests passed.",
    "tests": [{"name": "home", "status": "passed", "points": 3, "max_points": 3, "message": ""}],
    "log": "",
    "timings": {},
}


@pytest.fixture
def exercise(db):
    return ExerciseFactory(frameworks=["flask", "fastapi"], points=3, limits={"wall_timeout": 30})


@pytest.fixture
def live_hosts(celery_broker):
    """Return a function that makes grading hosts look alive: their status in the broker."""
    client = redis_lib.Redis.from_url(celery_broker.url)
    client.flushdb()

    def publish(*names: str) -> None:
        for name in names:
            hosts.publish(
                client,
                hosts.HostStatus(host=name, capacity=2, running=1, docker="ok", seen=time.time()),
            )

    yield publish
    client.flushdb()
    client.close()


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run a sweep and the enqueues it schedules for after its commit."""

    def run(**options) -> services.SweepReport:
        options.setdefault("stuck_after", timedelta(minutes=2))
        with django_capture_on_commit_callbacks(execute=True):
            return services.submission_sweep(**options)

    return run


def make_submission(exercise, **fields) -> Submission:
    submission = Submission.objects.create(
        learner=UserFactory(), exercise=exercise, framework="flask", archive=ZIP
    )
    if fields:
        Submission.objects.filter(pk=submission.pk).update(**fields)
        submission.refresh_from_db()
    return submission


# submission_create ----------------------------------------------------------------------


def test_create_numbers_attempts_per_learner_and_exercise(exercise, sent_gradings, learner):
    other = ExerciseFactory(frameworks=["flask"])

    def create(exercise, framework):
        return services.submission_create(
            learner=learner, exercise=exercise, framework=framework, archive=ZIP, bucket=None
        )

    first = create(exercise, "flask")
    second = create(exercise, "fastapi")
    elsewhere = create(other, "flask")
    assert (first.attempt, second.attempt, elsewhere.attempt) == (1, 2, 1)
    assert first.state == Submission.State.QUEUED


def test_create_enqueues_after_commit_with_the_exercise_time_limits(
    exercise, sent_gradings, learner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submission = services.submission_create(
            learner=learner, exercise=exercise, framework="flask", archive=ZIP
        )
        assert sent_gradings == []  # nothing is sent before the row is committed
    assert len(callbacks) == 1
    soft, hard = grading_time_limits(exercise.spec().policy)
    assert soft == 30 + SOFT_LIMIT_MARGIN
    (((sent_id,), options),) = sent_gradings
    job = options.pop("job")
    assert sent_id == submission.pk
    assert options == {"queue": "grading", "soft_time_limit": soft, "time_limit": hard}
    assert (job.job_id, job.submission, job.archive) == (submission.job_id, submission.pk, ZIP)
    assert len(submission.job_id) == 32


def test_create_rejects_a_framework_the_exercise_does_not_offer(exercise, sent_gradings, learner):
    with pytest.raises(SubmissionRejected) as raised:
        services.submission_create(
            learner=learner, exercise=exercise, framework="django", archive=ZIP
        )
    assert str(raised.value) == (
        "This exercise can be solved with Flask or FastAPI; “Django” is not one of them."
    )
    assert not Submission.objects.exists()


def test_create_rejects_an_archive_over_the_size_limit(exercise, sent_gradings, learner):
    too_big = b"PK" + b"\0" * exercise.spec().policy.max_archive_bytes
    with pytest.raises(SubmissionRejected, match=r"limit is 2 MiB"):
        services.submission_create(
            learner=learner, exercise=exercise, framework="flask", archive=too_big
        )
    assert not Submission.objects.exists()


def test_create_rejects_bytes_that_are_not_a_zip(exercise, sent_gradings, learner):
    with pytest.raises(SubmissionRejected, match="not a zip archive"):
        services.submission_create(
            learner=learner, exercise=exercise, framework="flask", archive=b"print('hello')\n"
        )


def test_create_keeps_the_submission_when_the_broker_is_down(
    exercise, learner, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(celery_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submission_create(
            learner=learner, exercise=exercise, framework="flask", archive=ZIP
        )
    # Saved and queued: the sweep sends its message once the broker is back.
    assert Submission.objects.get(pk=submission.pk).state == Submission.State.QUEUED


# What grading hosts report --------------------------------------------------------------


def start(submission: Submission, host: str = "grader-a", phase: str = "booting") -> bool:
    return services.submission_grading_started(
        job_id=submission.job_id, submission_id=submission.pk, host=host, phase=phase
    )


def finish(submission: Submission, result=PASSED, host: str = "grader-a", job_id=None) -> bool:
    return services.submission_grading_finished(
        job_id=job_id or submission.job_id, submission_id=submission.pk, host=host, result=result
    )


def test_a_started_job_claims_the_row_for_its_host_and_counts_an_attempt(exercise):
    submission = make_submission(exercise, job_id="job1")

    assert start(submission) is True
    assert start(submission, phase="testing") is True

    submission.refresh_from_db()
    assert (submission.state, submission.phase) == ("running", "testing")
    assert (submission.grading_host, submission.grading_attempts) == ("grader-a", 1)
    assert submission.started_at is not None


def test_a_result_is_applied_once_and_only_for_the_current_job(exercise, caplog):
    submission = make_submission(exercise, job_id="job1")
    start(submission)

    assert finish(submission, job_id="job0") is False  # an attempt given up on
    assert finish(submission) is True
    assert finish(submission) is False  # a duplicate: the row is done

    graded = Submission.objects.get(pk=submission.pk)
    assert (graded.state, graded.result, graded.score, graded.max_score) == ("done", PASSED, 3, 3)
    assert graded.grading_attempts == 1
    assert graded.finished_at >= graded.started_at
    assert caplog.text.count(f"Submission {submission.pk}: result of job") == 3
    assert caplog.text.count("ignored (not its current job, or done)") == 2
    assert start(graded) is False  # a late "started" changes nothing either
    assert Submission.objects.get(pk=submission.pk).state == "done"


def test_a_result_that_overtakes_its_start_still_counts_the_attempt(exercise):
    submission = make_submission(exercise, job_id="job1")
    assert finish(submission) is True
    graded = Submission.objects.get(pk=submission.pk)
    assert (graded.state, graded.grading_attempts, graded.grading_host) == ("done", 1, "grader-a")


def test_a_result_after_its_start_is_stored_in_one_write(exercise):
    submission = make_submission(exercise, job_id="job1")
    start(submission)

    with CaptureQueriesContext(connection) as queries:
        assert finish(submission) is True

    # Read the row (is this a regrade that must not lower the score?), update it once, and
    # append the result to its history.
    statements = [
        q["sql"].split()[0] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert statements == ["SELECT", "UPDATE", "INSERT"]
    assert submission.results.count() == 1


def test_a_job_lost_to_the_engine_is_retried_by_the_host_without_counting(exercise):
    submission = make_submission(exercise, job_id="job1")
    start(submission)
    assert services.submission_grading_lost(
        job_id="job1", submission_id=submission.pk, host="grader-a", reason="engine"
    )
    submission.refresh_from_db()
    assert (submission.state, submission.grading_attempts, submission.job_id) == (
        "queued",
        0,
        "job1",
    )


def test_a_job_lost_to_a_time_limit_is_sent_again_as_a_new_job(
    exercise, sent_gradings, django_capture_on_commit_callbacks
):
    submission = make_submission(exercise, job_id="job1")
    start(submission)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.submission_grading_lost(
            job_id="job1", submission_id=submission.pk, host="grader-a", reason="time limit"
        )
    submission.refresh_from_db()
    assert (submission.state, submission.grading_attempts) == ("queued", 1)
    assert submission.job_id not in ("", "job1")
    assert [options["job"].job_id for _, options in sent_gradings] == [submission.job_id]
    assert finish(submission, job_id="job1") is False  # the old job's result, if it came


def test_a_start_after_the_last_attempt_gives_up(exercise):
    submission = make_submission(
        exercise, job_id="job1", grading_attempts=services.MAX_GRADING_ATTEMPTS
    )
    assert start(submission) is False
    submission.refresh_from_db()
    assert submission.state == Submission.State.DONE
    assert submission.verdict == "error"
    assert "failed 3 times" in submission.result["message"]
    assert (submission.score, submission.max_score) == (0, 0)


def test_reports_about_a_missing_submission_do_nothing(db):
    assert (
        services.submission_grading_started(
            job_id="x", submission_id=123456, host="h", phase="booting"
        )
        is False
    )
    assert (
        services.submission_grading_finished(
            job_id="x", submission_id=123456, host="h", result=PASSED
        )
        is False
    )


def test_the_job_holds_the_tests_frameworks_limits_and_files(exercise):
    submission = make_submission(exercise, job_id="job1")
    job = services.submission_job(submission_id=submission.pk)
    assert (job.job_id, job.submission, job.framework) == ("job1", submission.pk, "flask")
    assert job.archive == ZIP
    assert job.tests == exercise.spec().tests
    assert job.frameworks == ("flask", "fastapi")
    assert job.policy == exercise.spec().policy
    assert job.queued_datetime() == submission.queued_at


# submission_regrade -----------------------------------------------------------------------


def test_regrade_queues_again_keeping_the_verdict_until_the_new_one(
    exercise, sent_gradings, django_capture_on_commit_callbacks
):
    done = make_submission(
        exercise,
        state="done",
        result=PASSED,
        score=3,
        max_score=3,
        grading_attempts=2,
        finished_at=timezone.now(),
    )
    other = make_submission(exercise, state="done", result=PASSED)
    with django_capture_on_commit_callbacks(execute=True):
        count = services.submission_regrade(submissions=Submission.objects.filter(pk=done.pk))
    assert count == 1
    done.refresh_from_db()
    # The previous result counts until the new one is applied (exercises.history).
    assert (done.state, done.result, done.score, done.grading_attempts, done.finished_at) == (
        "queued",
        PASSED,
        3,
        0,
        None,
    )
    assert [args for args, _ in sent_gradings] == [(done.pk,)]
    assert sent_gradings[0][1]["job"].job_id == done.job_id != ""
    other.refresh_from_db()
    assert other.state == "done"


# submission_sweep -----------------------------------------------------------------------


def test_sweep_enqueues_submissions_queued_for_too_long(exercise, sent_gradings, sweep):
    old = make_submission(exercise, job_id="job1", queued_at=timezone.now() - timedelta(minutes=5))
    fresh = make_submission(exercise)
    report = sweep()
    assert report.requeued == [old.pk]
    # The same job: a host that has it already (a long queue) skips the copy.
    assert [(args, o["job"].job_id) for args, o in sent_gradings] == [((old.pk,), "job1")]
    old.refresh_from_db()
    assert old.queued_at > timezone.now() - timedelta(minutes=1)  # not sent again next sweep
    assert sweep().requeued == []
    assert fresh.pk not in report.requeued


def test_sweep_queues_again_a_submission_running_past_its_deadline(
    exercise, sent_gradings, sweep, live_hosts
):
    live_hosts("grader-a")
    deadline = services.grading_deadline(exercise.spec().policy)
    abandoned = make_submission(
        exercise,
        state="running",
        job_id="job1",
        grading_host="grader-a",
        grading_attempts=1,
        started_at=timezone.now() - deadline - timedelta(seconds=1),
    )
    alive = make_submission(
        exercise,
        state="running",
        job_id="job2",
        grading_host="grader-a",
        grading_attempts=1,
        started_at=timezone.now() - deadline + timedelta(seconds=30),
    )
    report = sweep()
    assert report.reset == [abandoned.pk]
    assert [args for args, _ in sent_gradings] == [(abandoned.pk,)]
    abandoned.refresh_from_db()
    alive.refresh_from_db()
    assert (abandoned.state, abandoned.grading_attempts) == ("queued", 1)
    assert abandoned.job_id not in ("", "job1")  # a late result of job1 will be ignored
    assert sent_gradings[0][1]["job"].job_id == abandoned.job_id
    assert alive.state == "running"


def test_sweep_sends_elsewhere_the_jobs_of_a_host_that_stopped_answering(
    exercise, sent_gradings, sweep, live_hosts
):
    live_hosts("grader-a")
    lately = timezone.now() - services.HOST_LOST_AFTER - timedelta(seconds=1)
    on_live = make_submission(
        exercise, state="running", job_id="a", grading_host="grader-a", started_at=lately
    )
    on_dead = make_submission(
        exercise, state="running", job_id="b", grading_host="grader-b", started_at=lately
    )
    just_started = make_submission(
        exercise, state="running", job_id="c", grading_host="grader-b", started_at=timezone.now()
    )
    report = sweep()
    assert (report.host_lost, report.reset) == ([on_dead.pk], [])
    assert [args for args, _ in sent_gradings] == [(on_dead.pk,)]
    states = dict(Submission.objects.values_list("pk", "state"))
    assert states == {on_live.pk: "running", on_dead.pk: "queued", just_started.pk: "running"}
    assert finish(on_dead, job_id="b", host="grader-b") is False  # it came back after all


def test_sweep_presumes_no_host_dead_when_their_statuses_cannot_be_read(
    exercise, sent_gradings, sweep, monkeypatch
):
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    lately = timezone.now() - services.HOST_LOST_AFTER - timedelta(seconds=1)
    running = make_submission(
        exercise, state="running", job_id="a", grading_host="grader-a", started_at=lately
    )
    old = make_submission(exercise, queued_at=timezone.now() - timedelta(minutes=5))
    report = sweep()
    assert (report.host_lost, report.requeued) == ([], [old.pk])
    running.refresh_from_db()
    assert running.state == "running"


def test_sweep_gives_up_after_the_last_attempt(exercise, sent_gradings, sweep):
    long_ago = timezone.now() - timedelta(hours=1)
    crashed_thrice = make_submission(
        exercise,
        state="running",
        started_at=long_ago,
        grading_attempts=services.MAX_GRADING_ATTEMPTS,
    )
    released_thrice = make_submission(
        exercise, queued_at=long_ago, grading_attempts=services.MAX_GRADING_ATTEMPTS
    )
    report = sweep()
    assert sorted(report.given_up) == sorted([crashed_thrice.pk, released_thrice.pk])
    assert sent_gradings == []
    for submission in (crashed_thrice, released_thrice):
        submission.refresh_from_db()
        assert submission.state == "done"
        assert submission.result["status"] == "error"
        assert "Please submit again" in submission.result["message"]


# Storing the result --------------------------------------------------------------------------

# What an app can put into its output, test messages and names: PostgreSQL's jsonb refuses
# NUL ("\u0000") and surrogates without their pair, whatever the rest of the result holds.
HOSTILE = "nul\x00 lone\ud800 low\udfff esc\x1b[31mred\x1b[0m c1\x85 del\x7f"


class TestStoringResults:
    """Run on SQLite here, and on PostgreSQL by the test after this class."""

    @pytest.fixture(autouse=True)
    def vendor(self, db, record_property):
        record_property("database_vendor", connection.vendor)

    def test_a_result_with_nul_and_lone_surrogates_is_stored_cleaned(self, exercise):
        result = make_result(
            status="failed",
            message=f"Your app said: {HOSTILE}",
            tests=[TestOutcome(f"GET /{HOSTILE}", "failed", 0, 3, f"got {HOSTILE}")],
            log=HOSTILE,
        )
        submission = make_submission(exercise, job_id="job1")

        finish(submission, result)

        graded = Submission.objects.get(pk=submission.pk)  # as the database gives it back
        assert (graded.state, graded.verdict, graded.max_score) == ("done", "failed", 3)
        shown = "nul\u2400 lone\ufffd low\ufffd escred c1\ufffd del\u2421"
        assert graded.result["log"] == shown
        assert graded.result["message"] == f"Your app said: {shown}"
        assert graded.result["tests"][0]["name"] == f"GET /{shown}"
        assert graded.result["tests"][0]["message"] == f"got {shown}"

    def test_a_result_the_database_refuses_becomes_an_error_verdict(self, exercise, caplog):
        # Not made by make_result, so not cleaned: PostgreSQL refuses it, SQLite takes it.
        submission = make_submission(exercise, job_id="job1")

        finish(submission, {**PASSED, "log": HOSTILE})

        submission.refresh_from_db()
        assert submission.state == Submission.State.DONE
        if connection.vendor == "postgresql":
            assert submission.verdict == "error"
            assert submission.result["message"].startswith("The result could not be saved")
            assert "could not be saved" in caplog.text
        else:
            assert submission.verdict == "passed"
            assert submission.result["log"] == HOSTILE

    def test_a_result_that_is_not_json_becomes_an_error_verdict(self, exercise, caplog):
        timings = {"queued": "2025-03-01T10:00:00.000+00:00", "started": None}
        submission = make_submission(exercise, job_id="job1")

        assert finish(submission, {**PASSED, "log": {"not", "json"}, "timings": timings})

        graded = Submission.objects.get(pk=submission.pk)
        assert (graded.state, graded.verdict, graded.score, graded.max_score) == (
            "done",
            "error",
            0,
            0,
        )
        assert graded.result["message"] == services.UNSAVED_MESSAGE
        assert graded.result["timings"]["queued"] == timings["queued"]
        assert graded.result["timings"]["finished"] is not None
        assert graded.finished_at is not None
        assert f"Submission {submission.pk}: the result could not be saved" in caplog.text

    def test_a_database_error_on_storing_becomes_an_error_verdict(self, exercise, monkeypatch):
        real_update = QuerySet.update

        def update(queryset, **fields):
            if (fields.get("result") or {}).get("status") == "passed":
                raise DataError("value too long for type character varying(10)")
            return real_update(queryset, **fields)

        submission = make_submission(exercise, job_id="job1")
        monkeypatch.setattr(QuerySet, "update", update)

        assert finish(submission)

        graded = Submission.objects.get(pk=submission.pk)
        assert (graded.state, graded.verdict) == ("done", "error")
        # The failed statement spoiled nothing: the row can still be read and written.
        assert Submission.objects.filter(pk=submission.pk, state="done").update(phase="") == 1

    def test_a_result_for_a_reclaimed_row_is_still_discarded_when_it_cannot_be_stored(
        self, exercise
    ):
        submission = make_submission(exercise, job_id="job2")  # job1 was given up on
        assert finish(submission, {**PASSED, "log": {"not json"}}, job_id="job1") is False
        submission.refresh_from_db()
        assert (submission.state, submission.result) == (Submission.State.QUEUED, None)


def test_results_are_stored_on_postgresql(postgres_server, tmp_path):  # noqa: F811
    """Run TestStoringResults in a separate pytest process against a private PostgreSQL."""
    suite, vendors = run_on_postgresql(
        postgres_server, __file__, "TestStoringResults", tmp_path / "report.xml"
    )
    assert int(suite.get("tests")) == 5
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "0")
    assert vendors == {"postgresql"}


def test_sweep_sends_again_the_validations_of_a_lost_host_and_those_queued_too_long(
    exercise, sent_gradings, sweep, live_hosts
):
    live_hosts("grader-a")
    version = exercise.current_version()
    lately = timezone.now() - services.HOST_LOST_AFTER - timedelta(seconds=1)

    def validation(kind: str, **fields) -> ExerciseValidation:
        return ExerciseValidation.objects.create(
            version=version, framework="flask", kind=kind, **fields
        )

    on_dead = validation("solution", state="running", job_id="vb", grading_host="grader-b",
                         started_at=lately, grading_attempts=1)  # fmt: skip
    on_live = validation("starter", state="running", job_id="va", grading_host="grader-a",
                         started_at=lately, grading_attempts=1)  # fmt: skip

    report = sweep()

    assert report.validations == [on_dead.pk]
    on_dead.refresh_from_db()
    assert (on_dead.state, on_dead.job_id != "vb") == ("queued", True)
    assert on_dead.job_id.startswith("v")
    assert [job.job_id for _, options in sent_gradings for job in [options["job"]]] == [
        on_dead.job_id
    ]
    assert ExerciseValidation.objects.get(pk=on_live.pk).state == "running"

    # Queued for longer than the sweep waits: the same job goes out again.
    ExerciseValidation.objects.filter(pk=on_dead.pk).update(
        queued_at=timezone.now() - timedelta(minutes=5)
    )
    sent_gradings.clear()
    assert sweep().validations == [on_dead.pk]
    assert [options["job"].job_id for _, options in sent_gradings] == [on_dead.job_id]
