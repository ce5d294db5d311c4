"""The operations page: queue depth, gradings running, sandbox failures, phase percentiles."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exercises.models import Submission, Verdict
from exercises.services import GAVE_UP_MESSAGE, UNSAVED_MESSAGE
from grading.jobs import GRADING_QUEUE
from progress.ops import grading_operations, percentile, queue_length
from sandbox.runner import SANDBOX_START_FAILED
from tests.factories import SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db
OPS = reverse("teach:ops")


class FakeBroker:
    def __init__(self, length: int) -> None:
        self.length = length
        self.asked: list[str] = []

    def llen(self, name: str) -> int:
        self.asked.append(name)
        return self.length


class DeadBroker:
    def llen(self, name: str) -> int:
        raise redis.ConnectionError("refused")


def finished(*, verdict, message="", queued_min_ago, wait_s, grading_s, **fields):
    """A graded submission, queued `queued_min_ago` minutes ago, that waited and graded so long."""
    submission = SubmissionFactory(verdict=verdict, **fields)
    queued = timezone.now() - timedelta(minutes=queued_min_ago)
    started = queued + timedelta(seconds=wait_s)
    Submission.objects.filter(pk=submission.pk).update(
        queued_at=queued,
        started_at=started,
        finished_at=started + timedelta(seconds=grading_s),
        result={**submission.result, "message": message},
    )
    return submission


def test_percentile_by_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 95)) == (50, 95)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_queue_length_reads_the_grading_queue_and_survives_a_dead_broker():
    broker = FakeBroker(7)
    assert queue_length(broker) == 7 and broker.asked == [GRADING_QUEUE]
    assert queue_length(DeadBroker()) is None


def test_operations_count_running_failures_and_phase_times():
    running = SubmissionFactory(state=Submission.State.RUNNING, grading_host="host-a")
    since = timezone.now() - timedelta(seconds=30)
    Submission.objects.filter(pk=running.pk).update(started_at=since, phase="testing")
    SubmissionFactory()  # queued: not running
    errors = [  # (message, queued minutes ago, seconds waiting, seconds grading)
        (SANDBOX_START_FAILED, 10, 1, 2),
        (UNSAVED_MESSAGE, 20, 1, 2),
        (GAVE_UP_MESSAGE.format(attempts=3), 30, 1, 2),
        # The learner's app would not start: their fault, not the sandbox's.
        ("Your app did not start.", 5, 1, 2),
        # An engine fault of five hours ago: out of the hour, still in the day's timings.
        (SANDBOX_START_FAILED, 300, 100, 200),
    ]
    for message, ago, wait, grading in errors:
        finished(
            verdict=Verdict.ERROR,
            message=message,
            queued_min_ago=ago,
            wait_s=wait,
            grading_s=grading,
        )
    finished(verdict=Verdict.PASSED, queued_min_ago=3, wait_s=3, grading_s=6)

    ops = grading_operations(broker=FakeBroker(4))

    assert ops.queue_length == 4
    assert [(r.submission_id, r.host, r.phase) for r in ops.running] == [
        (running.pk, "host-a", "testing")
    ]
    assert ops.running[0].since == since and ops.running_count == 1
    assert ops.failures == {"sandbox_start": 1, "grader_failed": 0, "not_saved": 1, "gave_up": 1}
    times = {(t.window, t.phase): (t.count, t.p50, t.p95) for t in ops.timings}
    assert times[("last hour", "queue wait")] == (5, 1, 3)
    assert times[("last hour", "grading")] == (5, 2, 6)
    assert times[("last day", "queue wait")] == (6, 1, 100)
    assert times[("last day", "grading")] == (6, 2, 200)


def test_the_page_answers_superusers_only(client, staff, teach, monkeypatch):
    monkeypatch.setattr("progress.ops.queue_length", lambda broker=None: 3)
    anonymous = Client().get(OPS)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    for user in (UserFactory(), teach.instructor, teach.assistant):
        client.force_login(user)
        assert client.get(OPS).status_code == 404, user

    client.force_login(staff)  # a superuser
    response = client.get(OPS)

    assert response.status_code == 200
    assert "Waiting in the grading queue" in response.content.decode()
    assert response.context["ops"].queue_length == 3
