"""Compare the lesson page's throughput with a bare Django view under gunicorn.

    .venv/bin/python bench/pages.py [--duration 10] [--rounds 2] [--conn-max-age 60]

Builds a throwaway site (SQLite in a temporary VAR_DIR, DEBUG off, collected
static files, one course of 3 chapters x 10 lessons rendered from Markdown),
serves it with gunicorn on 127.0.0.1, and measures requests per second for
`/bench/bare/` (a view returning "ok" through the same middleware) and for a
lesson page, with the same load generator in the same run: `wrk` when it is on
PATH, otherwise a small threaded Python client. The goal is lesson/bare >= 0.7
for the common case, a reader who is not signed in. The same page for a signed-in
learner who has read a third of the course (their session cookie sent with every
request) is measured too, for information: it shows their progress, so it is
put together per request. Everything it starts or creates is removed when it ends.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

BASE_DIR = Path(__file__).resolve().parent.parent
GOAL = 0.7
CHAPTERS = 3
LESSONS_PER_CHAPTER = 10

LESSON_MARKDOWN = """\
Every web framework answers the same question: *which code runs for this URL?*
This lesson shows how Flask, Django and FastAPI map a request path to a Python
function, and what they do with the value you return.

## Routes in three frameworks

A **route** connects a URL pattern to a function. Pick your framework:

=== "Flask"

    ```python
    from flask import Flask

    app = Flask(__name__)

    @app.get("/hello/<name>")
    def hello(name: str) -> str:
        return f"Hello, {name}!"
    ```

=== "Django"

    ```python
    from django.http import HttpResponse
    from django.urls import path

    def hello(request, name: str) -> HttpResponse:
        return HttpResponse(f"Hello, {name}!")

    urlpatterns = [path("hello/<str:name>/", hello)]
    ```

=== "FastAPI"

    ```python
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello/{name}")
    async def hello(name: str) -> dict[str, str]:
        return {"message": f"Hello, {name}!"}
    ```

!!! note
    Django keeps URL patterns in `urls.py`, apart from the views; Flask and
    FastAPI put the route on the function with a decorator.

### Path converters

| Framework | Syntax | Example |
|-----------|--------|---------|
| Flask | `<int:id>` | `/items/<int:id>` |
| Django | `<int:id>` | `path("items/<int:id>/", view)` |
| FastAPI | `{id}` and a type hint | `@app.get("/items/{id}")` |

## What the function returns

1. Flask accepts a string, a dict (sent as JSON) or a `Response`.
2. Django views return an `HttpResponse`.
3. FastAPI serialises what you return to JSON.

!!! warning "Trailing slashes"
    With `APPEND_SLASH` on, Django redirects `/hello/ada` to `/hello/ada/`;
    the redirect turns a POST into a GET.

```bash
curl -i http://127.0.0.1:8000/hello/Ada
```
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Site(NamedTuple):
    lesson_path: str
    learner_cookie: str  # "sessionid=..." of a learner with some lessons read


def build_site() -> Site:
    """Migrate, collect static files, create the course and a learner; say what to load."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from courses.models import Chapter, Course, Status
    from exercises.models import Exercise
    from lessons.models import Lesson
    from progress.services import lesson_mark_read

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    course = Course.objects.create(
        slug="web-frameworks",
        title="Web Frameworks",
        summary="Flask, Django and FastAPI side by side.",
        description="Build the same small apps in **three** frameworks.",
    )
    for c in range(CHAPTERS):
        chapter = Chapter.objects.create(
            course=course, slug=f"chapter-{c + 1}", title=f"Chapter {c + 1}", order=c
        )
        for i in range(LESSONS_PER_CHAPTER):
            lesson = Lesson(
                chapter=chapter,
                slug=f"lesson-{i + 1}",
                title=f"Routing, part {i + 1}",
                summary="How a request path reaches your function.",
                order=i,
                body=LESSON_MARKDOWN,
                status=Status.PUBLISHED,
            )
            lesson.save()  # renders the Markdown, as the admin does
    middle = Lesson.objects.get(chapter__slug="chapter-2", slug="lesson-5")
    Exercise.objects.create(
        course=course, lesson=middle, slug="hello-route", title="A greeting route"
    )
    learner = get_user_model().objects.create_user("learner")
    for lesson in Lesson.objects.filter(chapter__course=course)[::3]:
        lesson_mark_read(learner=learner, lesson=lesson)
    client = Client()
    client.force_login(learner)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Site(middle.get_absolute_url(), f"{settings.SESSION_COOKIE_NAME}={session}")


def start_gunicorn(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    """Start gunicorn serving the site on 127.0.0.1:port, in its own process group."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ],
        cwd=BASE_DIR,
        env=env,
        start_new_session=True,  # its own process group, stopped as one by stop_gunicorn
    )


def stop_gunicorn(server: subprocess.Popen | None) -> None:
    """Stop a server started by start_gunicorn, and its workers, if it still runs."""
    if server is not None and server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited early with status {proc.returncode}")
        try:
            fetch(port, "/bench/bare/")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Load(NamedTuple):
    requests: int
    per_second: float


def load_wrk(url: str, seconds: float, connections: int, headers: dict[str, str]) -> Load:
    """Load a URL with wrk."""
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", *header_args, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url} answered {errors.group(1)} errors:\n{out}")
    return Load(
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    )


def load_python(url: str, seconds: float, connections: int, headers: dict[str, str]) -> Load:
    """Load a URL with threads making GET requests."""
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    path = "/" + url.split("/", 3)[3]
    counts = [0] * connections
    failures: list[str] = []
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(f"status {response.status}")
                    return
                counts[n] += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()  # gunicorn's sync workers close after each response
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{url} failed: {failures[0]}")
    return Load(requests=sum(counts), per_second=sum(counts) / (time.monotonic() - started))


def cpu_seconds(master: int) -> float:
    """Return the CPU time used so far by gunicorn's workers (Linux), or NaN."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        ticks = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return float("nan")
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per page")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=2, help="alternate bare/lesson N times")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="override CONN_MAX_AGE (seconds) to try persistent database connections",
    )
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="webcourse-bench-")
    env = {
        **os.environ,
        "VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(BASE_DIR),
    }
    if args.conn_max_age is not None:
        env["BENCH_CONN_MAX_AGE"] = str(args.conn_max_age)
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    server = None
    try:
        print("Building a temporary site...", flush=True)
        site = build_site()
        lesson_path = site.lesson_path
        port = free_port()
        server = start_gunicorn(port, args.workers, env)
        wait_until_up(port, server)
        learner = {"Cookie": site.learner_cookie}
        status, body = fetch(port, lesson_path)
        if status != 200 or b"Routing, part 5" not in body or b"read-status" in body:
            raise SystemExit(f"the lesson page answered {status}; not benchmarking an error")
        status, learner_body = fetch(port, lesson_path, learner)
        if status != 200 or b"read-status" not in learner_body:
            raise SystemExit(f"the learner's lesson page answered {status} without progress")

        load, tool = (load_wrk, "wrk") if shutil.which("wrk") else (load_python, "python")
        base = f"http://127.0.0.1:{port}"
        pages = {
            "bare view": (f"{base}/bench/bare/", {}),
            "lesson page": (f"{base}{lesson_path}", {}),
            "signed in": (f"{base}{lesson_path}", learner),
        }
        from django.conf import settings

        conn_max_age = settings.DATABASES["default"].get("CONN_MAX_AGE", 0)
        print(
            f"gunicorn: {args.workers} sync workers, CONN_MAX_AGE={conn_max_age}; load: {tool}, "
            f"{args.connections} connections, {args.duration:g} s per page after "
            f"{args.warmup:g} s warm-up, {args.rounds} round(s)",
            flush=True,
        )
        for url, headers in pages.values():
            load(url, args.warmup, args.connections, headers)
        rates: dict[str, list[float]] = {name: [] for name in pages}
        cpu: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, (url, headers) in pages.items():
                before = cpu_seconds(server.pid)
                result = load(url, args.duration, args.connections, headers)
                # Worker CPU per request is steadier than req/s on a busy machine.
                cpu[name].append((cpu_seconds(server.pid) - before) * 1000 / result.requests)
                rates[name].append(result.per_second)
                print(
                    f"  {name:12} {result.per_second:8.0f} req/s  "
                    f"{cpu[name][-1]:6.2f} ms worker CPU/request",
                    flush=True,
                )

        bare, lesson, signed_in = (sum(rates[name]) / args.rounds for name in pages)
        bare_cpu, lesson_cpu, signed_in_cpu = (sum(cpu[name]) / args.rounds for name in pages)
        ratio = lesson / bare
        verdict = "meets" if ratio >= GOAL else "below"
        print(f"bare view:   {bare:8.0f} req/s  {bare_cpu:6.2f} ms CPU/request")
        print(f"lesson page: {lesson:8.0f} req/s  {lesson_cpu:6.2f} ms CPU/request", end="")
        print(f"  ({len(body) / 1024:.0f} KiB)")
        print(f"signed in:   {signed_in:8.0f} req/s  {signed_in_cpu:6.2f} ms CPU/request")
        print(f"ratio lesson/bare: {ratio:.2f} ({verdict} the goal of >= {GOAL})")
        print(f"ratio by worker CPU: {bare_cpu / lesson_cpu:.2f}")
        print(f"signed-in ratio (for information): {signed_in / bare:.2f}")
        return 0
    finally:
        stop_gunicorn(server)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
