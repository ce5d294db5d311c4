from __future__ import annotations

import base64
import json
import socket
from typing import Any

import pytest
import redis

from courses.models import Status
from grading.interactive import INTERACTIVE_QUEUE, RESULT_KEY, RunJob, run_result
from tests.celery_fixtures import _use_broker
from tests.factories import LessonFactory


@pytest.fixture
def live_redis(celery_broker) -> redis.Redis:
    """Return a client on the real broker the site uses, emptied for the test."""
    celery_broker.flush()
    return redis.Redis.from_url(celery_broker.url)


@pytest.fixture
def broker_down(celery_broker):
    """Point the site at a broker address where nothing listens, for the test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _use_broker(f"redis://127.0.0.1:{port}/0")
    yield
    _use_broker(celery_broker.url)


RUN_LESSON = """\
## Running code

```{.python .runnable}
print("hello from the lesson")
```

```{.python example=greet file=names.py}
NAMES = ["Ada", "Grace"]
```

```{.python .runnable example=greet}
from names import NAMES
print(", ".join(NAMES))
```

```{.python .runnable app=flask requests='GET /hello/ada; POST /notes {"title": "Hi"}'}
from flask import Flask, request

app = Flask(__name__)


@app.get("/hello/<name>")
def hello(name):
    return f"Hello, {name}!"


@app.post("/notes")
def notes():
    return request.get_json(), 201
```

```{.python .runnable app=bottle}
print("not a framework we run")
```
"""
SCRIPT, EXAMPLE, APP, BROKEN = 0, 1, 2, 3


class Broker:
    """The private Redis the site sends runs to, seen as a grading host sees it."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)

    def sent_runs(self) -> list[RunJob]:
        """Return the runs waiting on the interactive queue, oldest first."""
        jobs = []
        for raw in reversed(self.client.lrange(INTERACTIVE_QUEUE, 0, -1)):
            envelope = json.loads(raw)
            assert envelope["headers"]["task"] == "grading.run"
            args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
            jobs.append(RunJob.from_message(args[0]))
        return jobs

    def answer(self, run_id: str, **fields: Any) -> None:
        """Leave a result for a run, as a grading host does."""
        self.client.rpush(RESULT_KEY.format(run_id=run_id), run_result(run_id, **fields))

    def push_raw(self, run_id: str, raw: str) -> None:
        self.client.rpush(RESULT_KEY.format(run_id=run_id), raw)


@pytest.fixture
def broker(celery_broker) -> Broker:
    celery_broker.flush()
    return Broker(celery_broker.url)


@pytest.fixture
def run_lesson(db):
    return LessonFactory(body=RUN_LESSON)


@pytest.fixture
def draft_lesson(db):
    return LessonFactory(body=RUN_LESSON, status=Status.DRAFT)
