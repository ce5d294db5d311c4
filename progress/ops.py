"""The state of grading, for the site's superusers: queue, gradings running, failures, timings.

The same sources as /metrics (config.metrics), read for a person rather than for Prometheus:
the broker's `grading` queue, the submissions' rows, and which "not gradable" results were
the grading server's fault (exercises.faults). Phase times come from the rows' own stamps:
waiting is queued_at to started_at, grading is started_at to finished_at.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.utils import timezone

from exercises.faults import ENGINE_FAULTS, engine_fault
from exercises.models import Submission, Verdict
from grading.jobs import GRADING_QUEUE

logger = logging.getLogger(__name__)

REDIS_TIMEOUT = 2.0
FAILURE_WINDOW = timedelta(hours=1)
TIMING_WINDOWS = (("last hour", timedelta(hours=1)), ("last day", timedelta(days=1)))
RUNNING_SHOWN = 100


@dataclass(frozen=True)
class Running:
    submission_id: int
    exercise: str
    learner: str
    host: str
    phase: str
    since: datetime | None


@dataclass(frozen=True)
class PhaseTimes:
    """Percentiles of one phase over one window, in seconds (None: nothing finished)."""

    window: str
    phase: str
    count: int
    p50: float | None
    p95: float | None


@dataclass
class Operations:
    queue_length: int | None  # None: the broker did not answer
    running: list[Running]
    running_count: int
    failures: dict[str, int]  # engine fault kind -> errors in the last hour
    timings: list[PhaseTimes]

    @property
    def failure_total(self) -> int:
        return sum(self.failures.values())


def grading_operations(*, now: datetime | None = None, broker=None) -> Operations:
    """Read the queue, the gradings running, recent sandbox failures and phase timings."""
    now = now or timezone.now()
    running_rows = Submission.objects.filter(state=Submission.State.RUNNING).order_by(
        "started_at", "pk"
    )
    running = [
        Running(pk, slug, username, host, phase, started)
        for pk, slug, username, host, phase, started in running_rows.values_list(
            "pk", "exercise__slug", "learner__username", "grading_host", "phase", "started_at"
        )[:RUNNING_SHOWN]
    ]
    failures = dict.fromkeys(ENGINE_FAULTS, 0)
    errors = Submission.objects.filter(
        verdict=Verdict.ERROR, finished_at__gte=now - FAILURE_WINDOW
    ).values_list("result__message", flat=True)
    for message in errors:
        kind = engine_fault(message)
        if kind is not None:
            failures[kind] += 1
    return Operations(
        queue_length=queue_length(broker),
        running=running,
        running_count=running_rows.count(),
        failures=failures,
        timings=phase_times(now),
    )


def queue_length(broker=None) -> int | None:
    """Return how many grading jobs wait in the broker, or None if it does not answer."""
    try:
        client = broker or redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        return int(client.llen(GRADING_QUEUE))
    except (redis.RedisError, OSError) as exc:
        logger.warning("Operations: the broker did not answer: %s", type(exc).__name__)
        return None


def phase_times(now: datetime) -> list[PhaseTimes]:
    """Return p50 and p95 of waiting and grading, over the last hour and the last day."""
    longest = max(window for _, window in TIMING_WINDOWS)
    rows = list(
        Submission.objects.filter(
            finished_at__gte=now - longest, started_at__isnull=False
        ).values_list("queued_at", "started_at", "finished_at")
    )
    times = []
    for label, window in TIMING_WINDOWS:
        recent = [row for row in rows if row[2] >= now - window]
        waits = [(started - queued).total_seconds() for queued, started, _ in recent]
        gradings = [(finished - started).total_seconds() for _, started, finished in recent]
        for phase, values in (("queue wait", waits), ("grading", gradings)):
            values = [v for v in values if v >= 0]
            p50, p95 = percentile(values, 50), percentile(values, 95)
            times.append(PhaseTimes(label, phase, len(values), p50, p95))
    return times


def percentile(values: list[float], p: float) -> float | None:
    """Return the p-th percentile of values by the nearest-rank method (None for none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]
