"""Prometheus metrics at /metrics, for whoever holds METRICS_TOKEN.

Almost everything is read from the database and the broker when Prometheus scrapes: queue
depth, verdicts, phase durations, sandbox failures, grading hosts. So every web process gives
the same answer, and nothing depends on which process or worker happened to grade what —
Celery workers expose nothing of their own. Counts read from the database are gauges, not
counters: a regrade or a deleted account makes them go down, which a counter must never do.

The one measurement made in the process is request latency, by view name. Under gunicorn with
several workers, set PROMETHEUS_MULTIPROC_DIR (an empty folder, emptied at each start) and
prometheus_client adds up the workers' histograms; without it each process counts its own.

The view is served by config.health.ProbeMiddleware, like the health checks, so Prometheus can
scrape each web process by its address over plain HTTP inside a private network.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from config.health import broker_client
from exercises.faults import ENGINE_FAULTS
from exercises.models import Submission
from grading import hosts

logger = logging.getLogger(__name__)

# The Celery queue gradings wait in (settings.CELERY_TASK_ROUTES): a Redis list of that name.
GRADING_QUEUE = "grading"
# Gradings that count as recent: the latest RECENT_LIMIT submissions, those finished within
# RECENT_WINDOW. Bounded both ways, so a scrape reads a few hundred rows at most.
RECENT_WINDOW = timedelta(minutes=15)
RECENT_LIMIT = 200
PHASE_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
MAX_HOSTS = 200  # one label value each; more hosts than this are left out
# Request latency: the API's ?wait=1 holds a request for up to a grading's time limit.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# The classic text format, which every Prometheus version reads (our names need no escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = CollectorRegistry(auto_describe=True)
REQUEST_LATENCY = Histogram(
    "webcourse_http_request_duration_seconds",
    "Time to answer a request, by view name (unmatched: no view), method and status class.",
    ["view", "method", "status"],
    buckets=LATENCY_BUCKETS,
    registry=REQUESTS,
)


class RequestLatencyMiddleware:
    """Time each request and record it under the name of the view that answered it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or "unmatched"
        method = request.method if request.method in METHODS else "other"
        REQUEST_LATENCY.labels(view, method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


def metrics(request: HttpRequest) -> HttpResponse:
    """Return the metrics to a bearer of METRICS_TOKEN; 404 when no token is configured."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse(b"Not found\n", status=404, content_type="text/plain")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse(
            b"A bearer token is needed\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    site = CollectorRegistry(auto_describe=False)
    site.register(SiteCollector())
    body = generate_latest(_request_registry()) + generate_latest(site)
    return HttpResponse(body, content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _request_registry() -> CollectorRegistry:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return REQUESTS
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)
    return registry


class SiteCollector:
    """Read the grading queue, recent gradings and grading hosts at scrape time."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "webcourse_metrics_source_up",
            "1 if the source answered this scrape; its metrics are missing otherwise.",
            labels=["source"],
        )
        for source, read in (("database", self._database), ("broker", self._broker)):
            try:
                families = list(read())
            except Exception as exc:
                logger.warning("Metrics: the %s did not answer: %s", source, type(exc).__name__)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    # The database -----------------------------------------------------------------------

    def _database(self) -> Iterator[Metric]:
        now = timezone.now()
        counts = Submission.objects.values_list("state", "verdict").annotate(n=Count("pk"))
        counts = list(counts.order_by())
        submissions = GaugeMetricFamily(
            "webcourse_submissions",
            "Submissions by state (queued, running, done) and, once done, verdict.",
            labels=["state", "verdict"],
        )
        seen = {(state, verdict): n for state, verdict, n in counts}
        for state in (Submission.State.QUEUED, Submission.State.RUNNING):
            seen.setdefault((state, ""), 0)
        for (state, verdict), n in sorted(seen.items()):
            submissions.add_metric([state, verdict], n)
        yield submissions

        oldest = Submission.objects.filter(state=Submission.State.QUEUED).aggregate(
            oldest=Min("queued_at")
        )["oldest"]
        yield GaugeMetricFamily(
            "webcourse_oldest_queued_submission_age_seconds",
            "How long the submission waiting longest has been queued (0: none waits).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        yield from self._recent(now)

    def _recent(self, now: datetime) -> Iterator[Metric]:
        rows = (
            Submission.objects.filter(state=Submission.State.DONE)
            .order_by("-pk")
            .values_list(
                "verdict", "grading_attempts", "finished_at", "result__message", "result__timings"
            )[:RECENT_LIMIT]
        )
        cutoff = now - RECENT_WINDOW
        verdicts = dict.fromkeys(("passed", "failed", "error", "timeout"), 0)
        faults = dict.fromkeys([*ENGINE_FAULTS, "retried"], 0)
        phases: dict[str, list[float]] = {"wait": [], "boot": [], "tests": [], "total": []}
        for verdict, attempts, finished_at, message, timings in rows:
            if finished_at is None or finished_at < cutoff:
                continue
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            if attempts > 1:
                faults["retried"] += 1
            if verdict == "error" and isinstance(message, str):
                for kind, matches in ENGINE_FAULTS.items():
                    if matches(message):
                        faults[kind] += 1
            for phase, seconds in _phase_durations(timings).items():
                phases[phase].append(seconds)

        window = f"the last {RECENT_WINDOW.total_seconds() / 60:g} minutes"
        recent = GaugeMetricFamily(
            "webcourse_recent_gradings",
            f"Gradings finished in {window} (latest {RECENT_LIMIT} submissions), by verdict.",
            labels=["verdict"],
        )
        for verdict, n in verdicts.items():
            recent.add_metric([verdict], n)
        yield recent

        failures = GaugeMetricFamily(
            "webcourse_recent_sandbox_failures",
            f"Gradings finished in {window} that the grading server failed, not the learner: "
            "sandbox_start, grader_failed, not_saved, gave_up (error verdicts), retried (a "
            "worker claimed it more than once: lost worker, grader crash, time limit).",
            labels=["reason"],
        )
        for reason, n in faults.items():
            failures.add_metric([reason], n)
        yield failures

        durations = GaugeHistogramMetricFamily(
            "webcourse_recent_grading_phase_seconds",
            f"How long each phase of the gradings finished in {window} took: wait (queued to "
            "started), boot (app start), tests, total (queued to finished).",
            labels=["phase"],
        )
        for phase, values in phases.items():
            buckets = [(f"{le:g}", float(sum(v <= le for v in values))) for le in PHASE_BUCKETS]
            buckets.append(("+Inf", float(len(values))))
            durations.add_metric([phase], buckets, sum(values))
        yield durations

    # The broker -------------------------------------------------------------------------

    def _broker(self) -> Iterator[Metric]:
        client = broker_client(settings.REDIS_URL)
        queue = GaugeMetricFamily(
            "webcourse_broker_queue_length",
            "Messages waiting in a Celery queue of the broker (not yet taken by a worker).",
            labels=["queue"],
        )
        queue.add_metric([GRADING_QUEUE], client.llen(GRADING_QUEUE))
        yield queue

        statuses = hosts.read_all(client)[:MAX_HOSTS]
        now = time.time()
        families = {
            "capacity": GaugeMetricFamily(
                "webcourse_grading_host_capacity",
                "Gradings a host runs at once, as it last said.",
                labels=["host"],
            ),
            "running": GaugeMetricFamily(
                "webcourse_grading_host_running",
                "Gradings running on a host, as it last said.",
                labels=["host"],
            ),
            "healthy": GaugeMetricFamily(
                "webcourse_grading_host_healthy",
                "1 if the host's Docker engine answered when it last said, else 0.",
                labels=["host"],
            ),
            "age": GaugeMetricFamily(
                "webcourse_grading_host_last_seen_seconds",
                "Seconds since the host last announced itself (it renews every "
                f"{hosts.HEARTBEAT_SECONDS} s; gone after {hosts.EXPIRE_SECONDS} s).",
                labels=["host"],
            ),
        }
        for status in statuses:
            families["capacity"].add_metric([status.host], status.capacity)
            families["running"].add_metric([status.host], status.running)
            families["healthy"].add_metric([status.host], 1 if status.healthy else 0)
            families["age"].add_metric([status.host], max(status.age(now), 0.0))
        yield from families.values()


def _phase_durations(timings: object) -> dict[str, float]:
    """Return the seconds of each phase a result's timings record; skip the missing ones."""
    if not isinstance(timings, dict):
        return {}
    moments = {}
    for key in ("queued", "started", "booted", "tested", "finished"):
        try:
            moments[key] = datetime.fromisoformat(timings[key])
        except (KeyError, TypeError, ValueError):
            continue
    spans = {
        "wait": ("queued", "started"),
        "boot": ("started", "booted"),
        "tests": ("booted", "tested"),
        "total": ("queued", "finished"),
    }
    return {
        phase: (moments[end] - moments[start]).total_seconds()
        for phase, (start, end) in spans.items()
        if start in moments and end in moments and moments[end] >= moments[start]
    }
