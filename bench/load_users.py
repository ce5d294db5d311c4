"""The simulated learners of bench/load.py: readers, submitters and a bare-view probe.

Importing this module imports Locust, which patches the standard library for gevent.
`Plan` holds what they share: the accounts and pages made by bench/loadsite.py, the schedule
of the submissions, and what they found.
"""

from __future__ import annotations

import base64
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.cookiejar import Cookie

import gevent
from locust import FastHttpUser, between, constant, constant_pacing, task

CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
READ_FORM = re.compile(rb'action="([^"]+/read/)"[^>]*data-mark-read')
SIGNED_IN = b">Log out</button>"
# Every tenth submission is the starter (fails the tests), and one in ten does not start.
SUBMISSION_CYCLE = (
    "solution", "solution", "starter", "solution", "solution",
    "syntax error", "solution", "solution", "solution", "solution",
)  # fmt: skip


@dataclass
class Graded:
    """What became of one submission."""

    kind: str
    expected: str
    submitted: float  # time.monotonic() before the upload
    seconds: float | None = None  # upload -> the status URL said "done"; None: lost
    server_seconds: float | None = None  # the result's own timings, queued -> finished
    verdict: str = ""


@dataclass
class Plan:
    """What the users share; set `Plan.current` before the runner starts."""

    learners: dict
    think: tuple[float, float]
    start: float  # time.monotonic() when the first submission goes
    window: float  # seconds over which the submissions are spread
    submissions: int
    poll_every: float
    grading_bound: float  # a submission not graded this long after its upload is lost
    next_reader: int = 0
    next_submitter: int = 0
    graded: list[Graded] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    current = None  # the Plan of this run

    def take_session(self) -> str:
        sessions = self.learners["sessions"]
        self.next_reader += 1
        return sessions[(self.next_reader - 1) % len(sessions)]

    def take_submission(self) -> int:
        self.next_submitter += 1
        return self.next_submitter - 1


def session_cookie(name: str, value: str) -> Cookie:
    """Return a cookie for 127.0.0.1, as the browser of a signed-in learner keeps it."""
    return Cookie(
        version=0, name=name, value=value, port=None, port_specified=False,
        domain="127.0.0.1", domain_specified=False, domain_initial_dot=False,
        path="/", path_specified=True, secure=False, expires=None, discard=True,
        comment=None, comment_url=None, rest={},
    )  # fmt: skip


class Reader(FastHttpUser):
    """A signed-in learner reading the course: lessons in order, now and then elsewhere."""

    wait_time = between(5, 20)  # replaced by --think in bench/load.py

    def on_start(self) -> None:
        self.plan = Plan.current
        learners = self.plan.learners
        self.client.cookiejar.set_cookie(
            session_cookie(learners["session_cookie"], self.plan.take_session())
        )
        self.lessons = learners["lessons"]
        self.position = random.randrange(len(self.lessons))
        self.page("catalog", "/")
        gevent.sleep(random.uniform(*self.plan.think))  # Locust waits only after a task

    def page(self, name: str, path: str, marker: bytes = SIGNED_IN) -> bytes:
        """GET a page; a failure unless it answers 200 to a signed-in learner with `marker`."""
        with self.client.get(path, name=name, catch_response=True) as response:
            body = response.content or b""
            if response.status_code != 200:
                response.failure(f"{name} {path}: status {response.status_code}")
            elif SIGNED_IN not in body:
                response.failure(f"{name} {path}: not signed in")
            elif marker not in body:
                response.failure(f"{name} {path}: no {marker!r} in the page")
        return body

    @task(6)
    def lesson(self) -> None:
        path = self.lessons[self.position % len(self.lessons)]
        self.position += 1
        body = self.page("lesson", path, b"data-read-status")
        form, token = READ_FORM.search(body), CSRF_FIELD.search(body)
        # progress.js marks a lesson read when the reader reaches its end: half of them do.
        if form and token and random.random() < 0.5:
            gevent.sleep(random.uniform(*self.plan.think))
            self.mark_read(form.group(1).decode(), token.group(1).decode())

    def mark_read(self, action: str, csrf_token: str) -> None:
        headers = {"HX-Request": "true", "X-CSRFToken": csrf_token}
        with self.client.post(
            action, name="mark read", headers=headers, catch_response=True
        ) as response:
            if response.status_code != 200 or b"read-status--read" not in (response.content or b""):
                response.failure(f"mark read {action}: status {response.status_code}")

    @task(1)
    def course(self) -> None:
        self.page("course", self.plan.learners["course"], b'id="chapters-heading"')

    @task(1)
    def catalog(self) -> None:
        self.page("catalog", "/")

    @task(1)
    def dashboard(self) -> None:
        self.page("dashboard", "/dashboard/")

    @task(1)
    def search(self) -> None:
        word = random.choice(self.plan.learners["search_words"])
        self.page("search", f"/search/?q={word}", b'class="search-hit ')


class BareProbe(FastHttpUser):
    """Asks for the bare view twice a second, for latencies to compare the pages with."""

    fixed_count = 2
    wait_time = constant_pacing(0.5)

    @task
    def bare(self) -> None:
        with self.client.get("/bench/bare/", name="bare view", catch_response=True) as response:
            if response.status_code != 200 or response.content != b"ok":
                response.failure(f"bare view: status {response.status_code}")


class Submitter(FastHttpUser):
    """A learner who submits the hello exercise once from a terminal and waits for the result.

    The upload goes at its turn in the schedule; then the status URL is asked every
    `poll_every` seconds, as often as the submission page asks for its status.
    """

    fixed_count = 0  # the number of submissions, set by bench/load.py
    wait_time = constant(1)

    def on_start(self) -> None:
        self.plan = Plan.current
        self.number = self.plan.take_submission()
        self.done = self.number >= self.plan.submissions

    @task
    def submit_once(self) -> None:
        if self.done:
            return
        self.done = True
        plan = self.plan
        gevent.sleep(max(0.0, plan.start + self.number * plan.window / plan.submissions
                         - time.monotonic()))  # fmt: skip
        kind = SUBMISSION_CYCLE[self.number % len(SUBMISSION_CYCLE)]
        archive = plan.learners["zips"][kind]
        headers = {
            "Authorization": f"Bearer {plan.learners['tokens'][self.number]}",
            "Content-Type": "application/zip",
        }
        graded = Graded(kind=kind, expected=archive["verdict"], submitted=time.monotonic())
        with self.client.post(
            plan.learners["submit_path"],
            data=base64.b64decode(archive["zip"]),
            headers=headers,
            name="API submit",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"API submit: status {response.status_code}: {response.text}")
                return
            status_url = response.json()["status_url"]
        plan.graded.append(graded)
        deadline = graded.submitted + plan.grading_bound
        while time.monotonic() < deadline:
            gevent.sleep(plan.poll_every)
            response = self.client.get(status_url, headers=headers, name="API status")
            if response.status_code != 200:
                continue  # counted as an error by Locust; the next look may succeed
            answer = response.json()
            if answer["state"] == "done":
                graded.seconds = time.monotonic() - graded.submitted
                result = answer["result"]
                graded.verdict = result["status"]
                timings = result.get("timings") or {}
                if timings.get("queued") and timings.get("finished"):
                    graded.server_seconds = (
                        datetime.fromisoformat(timings["finished"])
                        - datetime.fromisoformat(timings["queued"])
                    ).total_seconds()
                if graded.verdict != graded.expected:
                    plan.problems.append(
                        f"submission {answer['id']} ({kind}) was graded {graded.verdict!r}, "
                        f"not {graded.expected!r}: {result.get('message', '')}"
                    )
                return
