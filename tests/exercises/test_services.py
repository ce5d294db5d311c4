from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.db import DataError, connection
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from exercises import services
from exercises.models import Submission
from sandbox import engine, runner
from sandbox.archive import SubmissionRejected, pack_files
from sandbox.engine import EngineUnavailable
from sandbox.policy import DEFAULT_POLICY
from sandbox.results import TestOutcome, make_result
from tests.celery_fixtures import hello_archive
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
def no_orphan_sweep(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(runner, "sweep_orphans", lambda *, max_age: calls.append(max_age) or 0)
    return calls


@pytest.fixture
def fake_grade(monkeypatch):
    """Replace the Docker grading with a function that records its calls."""
    calls: list[dict] = []

    def install(behaviour=None):
        def grade(**kwargs):
            calls.append(kwargs)
            if behaviour is not None:
                return behaviour(**kwargs)
            return PASSED

        monkeypatch.setattr(runner, "grade", grade)
        return calls

    return install


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
    soft, hard = services.grading_time_limits(exercise.spec().policy)
    assert soft == 30 + services.SOFT_LIMIT_MARGIN
    assert sent_gradings == [((submission.pk,), {"soft_time_limit": soft, "time_limit": hard})]


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


# submission_grade -----------------------------------------------------------------------


def test_grade_claims_a_submission_only_once(exercise, fake_grade):
    calls = fake_grade()
    submission = make_submission(exercise)

    graded = services.submission_grade(submission_id=submission.pk)
    again = services.submission_grade(submission_id=submission.pk)

    assert again is None
    assert len(calls) == 1
    assert graded is not None
    assert graded.state == Submission.State.DONE
    assert (graded.result, graded.score, graded.max_score) == (PASSED, 3, 3)
    assert graded.grading_attempts == 1
    assert graded.finished_at >= graded.started_at


def test_grade_passes_the_stored_submission_to_the_grader(exercise, fake_grade):
    calls = fake_grade()
    submission = make_submission(exercise)
    services.submission_grade(submission_id=submission.pk)
    (call,) = calls
    assert call["archive"] == ZIP
    assert call["framework"] == "flask"
    assert call["spec"] == exercise.spec()
    assert call["queued_at"] == submission.queued_at


def test_grade_records_each_phase_on_the_row(exercise, fake_grade):
    seen = []

    def grade(*, on_phase, **kwargs):
        seen.append(Submission.objects.values_list("state", "phase").get())
        on_phase("testing")
        seen.append(Submission.objects.values_list("state", "phase").get())
        return PASSED

    fake_grade(grade)
    submission = make_submission(exercise)
    services.submission_grade(submission_id=submission.pk)
    assert seen == [("running", "booting"), ("running", "testing")]
    assert Submission.objects.get().phase == ""


def test_grade_puts_the_submission_back_when_docker_is_unreachable(exercise, fake_grade):
    def grade(**kwargs):
        raise EngineUnavailable("The Docker engine is not reachable.")

    fake_grade(grade)
    submission = make_submission(exercise)
    with pytest.raises(EngineUnavailable):
        services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.state == Submission.State.QUEUED
    assert submission.grading_attempts == 0  # it never ran, so it does not count


def test_grade_gives_the_submission_back_when_the_grader_crashes(exercise, fake_grade):
    def grade(**kwargs):
        raise RuntimeError("a bug in the grader")

    fake_grade(grade)
    submission = make_submission(exercise)
    with pytest.raises(RuntimeError):
        services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert (submission.state, submission.grading_attempts) == (Submission.State.QUEUED, 1)
    assert submission.result is None


def test_grade_discards_its_result_when_the_sweep_took_the_submission_back(
    exercise, fake_grade, sent_gradings, no_orphan_sweep, sweep
):
    def slow_grade(**kwargs):
        # Meanwhile, a sweep decides this worker is dead and queues the submission again.
        sweep(stuck_after=timedelta(0), abandoned_after=timedelta(0))
        return PASSED

    calls = fake_grade(slow_grade)
    submission = make_submission(exercise)
    assert services.submission_grade(submission_id=submission.pk) is None
    submission.refresh_from_db()
    assert (submission.state, submission.result) == (Submission.State.QUEUED, None)
    assert [args for args, _ in sent_gradings] == [(submission.pk,)]

    fake_grade()  # the next worker grades it normally
    graded = services.submission_grade(submission_id=submission.pk)
    assert graded.state == Submission.State.DONE
    assert graded.grading_attempts == 2
    assert len(calls) == 2


def test_grade_gives_up_a_submission_that_used_up_its_attempts(exercise, fake_grade):
    calls = fake_grade()
    submission = make_submission(exercise, grading_attempts=services.MAX_GRADING_ATTEMPTS)
    assert services.submission_grade(submission_id=submission.pk) is None
    submission.refresh_from_db()
    assert calls == []
    assert submission.state == Submission.State.DONE
    assert submission.verdict == "error"
    assert "failed 3 times" in submission.result["message"]
    assert (submission.score, submission.max_score) == (0, 0)


def test_grade_of_a_missing_submission_does_nothing(db, fake_grade):
    calls = fake_grade()
    assert services.submission_grade(submission_id=123456) is None
    assert calls == []


# submission_release / submission_regrade ------------------------------------------------


def test_release_queues_a_running_submission_again(exercise):
    running = make_submission(
        exercise, state="running", started_at=timezone.now(), grading_attempts=1
    )
    done = make_submission(exercise, state="done", result=PASSED)
    assert services.submission_release(submission_id=running.pk) is True
    assert services.submission_release(submission_id=done.pk) is False
    running.refresh_from_db()
    done.refresh_from_db()
    assert (running.state, running.grading_attempts) == ("queued", 1)
    assert done.state == "done"


def test_regrade_clears_the_verdicts_and_enqueues_after_commit(
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
    assert (done.state, done.result, done.score, done.grading_attempts, done.finished_at) == (
        "queued",
        None,
        None,
        0,
        None,
    )
    assert [args for args, _ in sent_gradings] == [(done.pk,)]
    other.refresh_from_db()
    assert other.state == "done"


# submission_sweep -----------------------------------------------------------------------


def test_sweep_enqueues_submissions_queued_for_too_long(
    exercise, sent_gradings, no_orphan_sweep, sweep
):
    old = make_submission(exercise, queued_at=timezone.now() - timedelta(minutes=5))
    fresh = make_submission(exercise)
    report = sweep()
    assert report.requeued == [old.pk]
    assert [args for args, _ in sent_gradings] == [(old.pk,)]
    old.refresh_from_db()
    assert old.queued_at > timezone.now() - timedelta(minutes=1)  # not sent again next sweep
    assert sweep().requeued == []
    assert fresh.pk not in report.requeued


def test_sweep_queues_again_a_submission_running_past_its_deadline(
    exercise, sent_gradings, no_orphan_sweep, sweep
):
    deadline = services.grading_deadline(exercise.spec().policy)
    abandoned = make_submission(
        exercise,
        state="running",
        grading_attempts=1,
        started_at=timezone.now() - deadline - timedelta(seconds=1),
    )
    alive = make_submission(
        exercise,
        state="running",
        grading_attempts=1,
        started_at=timezone.now() - deadline + timedelta(seconds=30),
    )
    report = sweep()
    assert report.reset == [abandoned.pk]
    assert [args for args, _ in sent_gradings] == [(abandoned.pk,)]
    abandoned.refresh_from_db()
    alive.refresh_from_db()
    assert (abandoned.state, abandoned.grading_attempts) == ("queued", 1)
    assert alive.state == "running"


def test_sweep_gives_up_after_the_last_attempt(exercise, sent_gradings, no_orphan_sweep, sweep):
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


def test_sweep_removes_orphan_containers_older_than_any_grading(db, no_orphan_sweep, sweep):
    report = sweep()
    assert no_orphan_sweep == [services.ORPHAN_AGE]
    assert report.orphans_removed == 0
    longest = services.grading_deadline(
        services.DEFAULT_POLICY.with_overrides({"wall_timeout": 300})
    )
    assert longest <= services.ORPHAN_AGE


# Against the real Docker engine ----------------------------------------------------------


@pytest.fixture
def docker_unreachable(monkeypatch, tmp_path):
    """Point the Docker client at a socket nobody listens on."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    engine.client.cache_clear()
    yield
    engine.client.cache_clear()


@pytest.mark.sandbox
def test_grade_stores_the_real_verdict_once(hello_exercise, learner, runner_image):
    submission = Submission.objects.create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
    )
    graded = services.submission_grade(submission_id=submission.pk)
    assert services.submission_grade(submission_id=submission.pk) is None
    graded.refresh_from_db()
    assert graded.verdict == "passed"
    assert graded.score == graded.max_score > 0
    assert graded.grading_attempts == 1


@pytest.mark.sandbox
def test_grade_puts_the_submission_back_when_the_real_engine_is_unreachable(
    hello_exercise, learner, docker_unreachable
):
    submission = Submission.objects.create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
    )
    with pytest.raises(EngineUnavailable):
        services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert (submission.state, submission.grading_attempts) == ("queued", 0)


@pytest.mark.sandbox
def test_sweep_still_sweeps_rows_when_the_real_engine_is_unreachable(
    exercise, sent_gradings, docker_unreachable, sweep
):
    old = make_submission(exercise, queued_at=timezone.now() - timedelta(minutes=5))
    report = sweep()
    assert report.requeued == [old.pk]
    assert report.orphans_removed is None


def start_idle_container(image: str, *, age: float) -> str:
    """Start a sandbox-labelled container that claims to be `age` seconds old."""
    run_id = uuid.uuid4().hex
    container = engine.start_app_container(
        image=image,
        policy=DEFAULT_POLICY,
        command=["sleep", "60"],
        mounts=[],
        labels={engine.RUN_LABEL: run_id, engine.CREATED_LABEL: f"{time.time() - age:.3f}"},
        environment={},
        name=f"webcourse-test-{run_id}",
    )
    return container.id


@pytest.mark.sandbox
def test_sweep_removes_orphan_containers_from_the_real_engine(db, sweep, runner_image):
    orphan = start_idle_container(runner_image, age=3 * services.ORPHAN_AGE.total_seconds())
    fresh = start_idle_container(runner_image, age=0)
    try:
        report = sweep()

        assert report.orphans_removed >= 1  # ours, and any a crashed worker left before
        ids = {c["Id"] for c in engine.sandbox_containers()}
        assert orphan not in ids
        assert fresh in ids
    finally:
        engine.remove(orphan)
        engine.remove(fresh)


# Storing the result --------------------------------------------------------------------------

# What an app can put into its output, test messages and names: PostgreSQL's jsonb refuses
# NUL ("\u0000") and surrogates without their pair, whatever the rest of the result holds.
HOSTILE = "nul\x00 lone\ud800 low\udfff esc\x1b[31mred\x1b[0m c1\x85 del\x7f"


class TestStoringResults:
    """Run on SQLite here, and on PostgreSQL by the test after this class."""

    @pytest.fixture(autouse=True)
    def vendor(self, db, record_property):
        record_property("database_vendor", connection.vendor)

    def test_a_result_with_nul_and_lone_surrogates_is_stored_cleaned(self, exercise, fake_grade):
        fake_grade(
            lambda **kwargs: make_result(
                status="failed",
                message=f"Your app said: {HOSTILE}",
                tests=[TestOutcome(f"GET /{HOSTILE}", "failed", 0, 3, f"got {HOSTILE}")],
                log=HOSTILE,
            )
        )
        submission = make_submission(exercise)

        graded = services.submission_grade(submission_id=submission.pk)

        graded = Submission.objects.get(pk=submission.pk)  # as the database gives it back
        assert (graded.state, graded.verdict, graded.max_score) == ("done", "failed", 3)
        shown = "nul\u2400 lone\ufffd low\ufffd escred c1\ufffd del\u2421"
        assert graded.result["log"] == shown
        assert graded.result["message"] == f"Your app said: {shown}"
        assert graded.result["tests"][0]["name"] == f"GET /{shown}"
        assert graded.result["tests"][0]["message"] == f"got {shown}"

    def test_a_result_the_database_refuses_becomes_an_error_verdict(
        self, exercise, fake_grade, caplog
    ):
        # Not made by make_result, so not cleaned: PostgreSQL refuses it, SQLite takes it.
        fake_grade(lambda **kwargs: {**PASSED, "log": HOSTILE})
        submission = make_submission(exercise)

        services.submission_grade(submission_id=submission.pk)

        submission.refresh_from_db()
        assert submission.state == Submission.State.DONE
        if connection.vendor == "postgresql":
            assert submission.verdict == "error"
            assert submission.result["message"].startswith("The result could not be saved")
            assert "could not be saved" in caplog.text
        else:
            assert submission.verdict == "passed"
            assert submission.result["log"] == HOSTILE

    def test_a_result_that_is_not_json_becomes_an_error_verdict(self, exercise, fake_grade, caplog):
        timings = {"queued": "2025-03-01T10:00:00.000+00:00", "started": None}
        fake_grade(lambda **kwargs: {**PASSED, "log": {"not", "json"}, "timings": timings})
        submission = make_submission(exercise)

        graded = services.submission_grade(submission_id=submission.pk)

        assert graded is not None
        graded.refresh_from_db()
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

    def test_a_database_error_on_storing_becomes_an_error_verdict(
        self, exercise, fake_grade, monkeypatch
    ):
        fake_grade()
        real_update = QuerySet.update

        def update(queryset, **fields):
            if (fields.get("result") or {}).get("status") == "passed":
                raise DataError("value too long for type character varying(10)")
            return real_update(queryset, **fields)

        monkeypatch.setattr(QuerySet, "update", update)
        submission = make_submission(exercise)

        graded = services.submission_grade(submission_id=submission.pk)

        assert graded is not None
        assert (graded.state, graded.verdict) == ("done", "error")
        # The failed statement spoiled nothing: the row can still be read and written.
        assert Submission.objects.filter(pk=submission.pk, state="done").update(phase="") == 1

    def test_a_result_for_a_reclaimed_row_is_still_discarded_when_it_cannot_be_stored(
        self, exercise, fake_grade, sent_gradings, no_orphan_sweep, sweep
    ):
        def slow_grade(**kwargs):
            sweep(stuck_after=timedelta(0), abandoned_after=timedelta(0))
            return {**PASSED, "log": {"not json"}}

        fake_grade(slow_grade)
        submission = make_submission(exercise)
        assert services.submission_grade(submission_id=submission.pk) is None
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
