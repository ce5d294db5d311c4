"""/metrics: who may read it, and what it says after real requests, submissions and gradings
(a private Redis as the broker, a real Celery worker grading in Docker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis as redis_lib
from django.conf import settings
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config import health
from exercises import services
from exercises.models import Submission
from grading import hosts
from grading.hosts import HostStatus
from sandbox import runner
from tests.celery_fixtures import (
    _free_port,
    hello_archive,
    shared_database_url,
    wait_until_graded,
)
from tests.factories import SubmissionFactory

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


@pytest.fixture
def broker(celery_broker, settings):
    """The session's private Redis, emptied, as the site's broker."""
    celery_broker.flush()
    settings.REDIS_URL = celery_broker.url
    yield celery_broker
    health.broker_client.cache_clear()


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Return every sample of /metrics as {(name, labels): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def graded(verdict: str, *, message: str = "", **fields) -> Submission:
    """Return a submission graded with `verdict` and `message` (just now, unless given)."""
    submission = SubmissionFactory(
        verdict=verdict, finished_at=fields.pop("finished_at", timezone.now()), **fields
    )
    submission.result["message"] = message
    submission.save(update_fields=["result"])
    return submission


def value(samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


# Who may read it --------------------------------------------------------------------------


def test_metrics_do_not_exist_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, f"Basic {TOKEN}", "Bearer wrong-token", f"Bearer {TOKEN}x", "Bearer"],
)
def test_metrics_need_the_bearer_token(client, metrics_token, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"webcourse" not in response.content


def test_staff_without_the_token_may_not_read_them_either(staff_client, metrics_token):
    assert staff_client.get("/metrics").status_code == 401


# What they say ----------------------------------------------------------------------------


def test_request_latency_is_counted_by_view_name(client, db, broker, metrics_token, settings):
    settings.ALLOWED_HOSTS = ["course.example.org"]
    before = scrape(client)
    labels = {"view": "courses:catalog", "method": "GET", "status": "2xx"}
    count = "webcourse_http_request_duration_seconds_count"

    for _ in range(3):
        assert client.get("/", HTTP_HOST="course.example.org").status_code == 200
    client.get("/no/such/page/", HTTP_HOST="course.example.org")
    client.get("/", HTTP_HOST="10.0.0.7")  # refused: a host not allowed
    client.get("/healthz")  # probes are not counted

    after = scrape(client)
    assert value(after, count, **labels) - (value(before, count, **labels) or 0) == 3
    assert value(after, "webcourse_http_request_duration_seconds_sum", **labels) > 0
    unmatched = {"view": "unmatched", "method": "GET", "status": "4xx"}
    assert value(after, count, **unmatched) - (value(before, count, **unmatched) or 0) == 2
    views = {dict(labels)["view"] for name, labels in after if name == count}
    assert not any("healthz" in view or "/" in view for view in views)


def test_queue_depth_is_read_from_the_database_and_the_broker(
    client, db, broker, metrics_token, learner, hello_exercise, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for framework in ("flask", "django"):
            services.submission_create(
                learner=learner,
                exercise=hello_exercise,
                framework=framework,
                archive=hello_archive("solution", framework),
                bucket=None,
            )
    time.sleep(0.2)

    samples = scrape(client)

    assert value(samples, "webcourse_submissions", state="queued", verdict="") == 2
    assert value(samples, "webcourse_submissions", state="running", verdict="") == 0
    assert value(samples, "webcourse_broker_queue_length", queue="grading") == 2
    assert 0.2 <= value(samples, "webcourse_oldest_queued_submission_age_seconds") < 60
    assert value(samples, "webcourse_metrics_source_up", source="database") == 1
    assert value(samples, "webcourse_metrics_source_up", source="broker") == 1


def test_grading_hosts_report_their_capacity_and_load(client, db, broker, metrics_token):
    redis = redis_lib.Redis.from_url(broker.url)
    now = time.time()
    hosts.publish(redis, HostStatus(host="grader-a", capacity=4, running=3, docker="ok", seen=now))
    hosts.publish(
        redis, HostStatus(host="grader-b", capacity=2, running=0, docker="no engine", seen=now - 7)
    )

    samples = scrape(client)

    assert value(samples, "webcourse_grading_host_capacity", host="grader-a") == 4
    assert value(samples, "webcourse_grading_host_running", host="grader-a") == 3
    assert value(samples, "webcourse_grading_host_healthy", host="grader-a") == 1
    assert value(samples, "webcourse_grading_host_healthy", host="grader-b") == 0
    assert 7 <= value(samples, "webcourse_grading_host_last_seen_seconds", host="grader-b") < 30


def test_a_broker_that_does_not_answer_leaves_the_database_metrics(
    client, db, metrics_token, settings, tmp_path
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    graded("passed")

    samples = scrape(client)
    health.broker_client.cache_clear()

    assert value(samples, "webcourse_metrics_source_up", source="broker") == 0
    assert value(samples, "webcourse_metrics_source_up", source="database") == 1
    assert value(samples, "webcourse_submissions", state="done", verdict="passed") == 1
    assert value(samples, "webcourse_broker_queue_length", queue="grading") is None


def test_sandbox_failures_count_the_servers_faults_not_the_learners(
    client, db, broker, metrics_token
):
    graded("error", message=runner.GRADER_FAILED)
    graded("error", message=services.UNSAVED_MESSAGE)
    graded("error", message=services.GAVE_UP_MESSAGE.format(attempts=3))
    graded("error", message="Your app stopped while starting.")  # the learner's doing
    graded("passed", grading_attempts=2)  # its first worker was lost
    graded("error", message=runner.GRADER_FAILED, finished_at=timezone.now() - timedelta(hours=1))

    samples = scrape(client)

    failures = "webcourse_recent_sandbox_failures"
    assert value(samples, failures, reason="grader_failed") == 1
    assert value(samples, failures, reason="not_saved") == 1
    assert value(samples, failures, reason="gave_up") == 1
    assert value(samples, failures, reason="sandbox_start") == 0
    assert value(samples, failures, reason="retried") == 1
    assert value(samples, "webcourse_recent_gradings", verdict="error") == 4


@pytest.mark.celery
@pytest.mark.sandbox
def test_real_gradings_show_in_verdicts_and_phase_durations(
    client, celery_worker_proc, broker, metrics_token, hello_exercise, learner, settings
):
    submitted = [
        services.submission_create(
            learner=learner,
            exercise=hello_exercise,
            framework="flask",
            archive=hello_archive(kind, "flask"),
            bucket=None,
        )
        for kind in ("solution", "starter")
    ]
    passed, failed = wait_until_graded([s.pk for s in submitted], workers=[celery_worker_proc])
    assert (passed.verdict, failed.verdict) == ("passed", "failed")

    samples = scrape(client)

    assert value(samples, "webcourse_recent_gradings", verdict="passed") == 1
    assert value(samples, "webcourse_recent_gradings", verdict="failed") == 1
    assert value(samples, "webcourse_submissions", state="done", verdict="passed") == 1
    assert value(samples, "webcourse_submissions", state="queued", verdict="") == 0
    assert value(samples, "webcourse_broker_queue_length", queue="grading") == 0
    phase = "webcourse_recent_grading_phase_seconds"
    for name in ("wait", "boot", "tests", "total"):
        assert value(samples, f"{phase}_bucket", phase=name, le="+Inf") == 2, name
        assert value(samples, f"{phase}_gcount", phase=name) == 2, name
    boot = value(samples, f"{phase}_gsum", phase="boot")
    total = value(samples, f"{phase}_gsum", phase="total")
    assert 0 < boot < total
    # What each grading took, as the results say it.
    assert total == pytest.approx(
        sum((s.finished_at - s.queued_at).total_seconds() for s in (passed, failed)),
        abs=0.5,
    )
    assert value(samples, f"{phase}_bucket", phase="total", le="600") == 2
    for reason in ("sandbox_start", "grader_failed", "not_saved", "gave_up", "retried"):
        assert value(samples, "webcourse_recent_sandbox_failures", reason=reason) == 0


# Several web processes ---------------------------------------------------------------------


@pytest.fixture
def gunicorn(transactional_db, broker, tmp_path):
    """Serve the site with gunicorn, two workers sharing a PROMETHEUS_MULTIPROC_DIR."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "config.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", "2",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": shared_database_url(connection.settings_dict),
            "REDIS_URL": broker.url,
            "METRICS_TOKEN": TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "gunicorn.log"
            ).read_text()
            time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_request_latency_adds_up_across_gunicorn_workers(gunicorn):
    with ThreadPoolExecutor(max_workers=5) as pool:
        codes = list(pool.map(lambda _: httpx.get(f"{gunicorn}/accounts/login/"), range(20)))
    assert [response.status_code for response in codes] == [200] * 20

    counts = []
    for _ in range(6):  # each scrape is answered by either worker
        response = httpx.get(f"{gunicorn}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        samples = {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }
        counts.append(
            value(
                samples,
                "webcourse_http_request_duration_seconds_count",
                view="login",
                method="GET",
                status="2xx",
            )
        )
        assert value(samples, "webcourse_metrics_source_up", source="database") == 1
    assert counts == [20] * 6
