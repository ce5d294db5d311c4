"""The parts of bench/load.py that run beside the site, in processes of their own.

    python -m bench.loadsite learners READERS SUBMITTERS OUT.json
    python -m bench.loadsite floor --every SECONDS

`learners` creates the accounts of a load test on the site's database (settings from the
environment, as the site has them) and writes what the simulated learners need as JSON: a
session cookie for each reader, an API token for each submitter, the addresses of the pages
to read and the zips to submit. `floor` runs the grading floor probe (a bare hardened
container answering one GET, see bench/grading.py) every SECONDS until it is stopped, and
prints each probe's seconds on a line of its own.

They run apart from the load generator because it patches the standard library for gevent
at import, which neither Django nor the Docker client expects.
"""

from __future__ import annotations

import base64
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
EXERCISE = "hello"
HELLO_DIR = BASE_DIR / "content" / "python-web" / "exercises" / EXERCISE
FRAMEWORK = "flask"
# Words a learner of this course looks up; each finds something in content/.
SEARCH_WORDS = ("flask", "routing", "middleware", "pydantic", "migrations", "wsgi", "celery")


def submission_zips() -> dict[str, dict[str, str]]:
    """Return the zips to submit, by name, each with the verdict it must get."""
    from sandbox.archive import pack_directory

    solution = HELLO_DIR / "solution" / FRAMEWORK
    with tempfile.TemporaryDirectory(prefix="load-zip-") as scratch:
        broken = Path(scratch) / "broken"
        shutil.copytree(solution, broken)
        (broken / "app.py").write_text("from flask import Flask\n\napp = Flask(__name__\n")
        zips = {
            "solution": (pack_directory(solution), "passed"),
            "starter": (pack_directory(HELLO_DIR / "starter" / FRAMEWORK), "failed"),
            "syntax error": (pack_directory(broken), "error"),
        }
    return {
        name: {"zip": base64.b64encode(data).decode("ascii"), "verdict": verdict}
        for name, (data, verdict) in zips.items()
    }


def create_learners(readers: int, submitters: int) -> dict:
    """Create the accounts and say what the simulated learners need."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.tokens import token_create
    from courses.models import Course
    from exercises.models import Exercise
    from lessons.models import Lesson

    users = get_user_model().objects
    sessions = []
    for n in range(readers):
        # No password: readers come with a session, so no password hashing is timed.
        reader = users.create_user(f"load-reader-{n:04}", password=None)
        client = Client()
        client.force_login(reader)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    tokens = []
    for n in range(submitters):
        submitter = users.create_user(f"load-submitter-{n:04}", password=None)
        tokens.append(token_create(user=submitter, name="load test")[1])

    course = Course.objects.listed().get()
    lessons = [
        lesson.get_absolute_url()
        for lesson in Lesson.objects.published()
        .filter(chapter__course=course)
        .select_related("chapter__course")
        .order_by("chapter__order", "order")
    ]
    exercise = Exercise.objects.published().get(slug=EXERCISE)
    return {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "sessions": sessions,
        "tokens": tokens,
        "course": course.get_absolute_url(),
        "lessons": lessons,
        "search_words": list(SEARCH_WORDS),
        "submit_path": f"/api/exercises/{exercise.slug}/submissions/?framework={FRAMEWORK}",
        "zips": submission_zips(),
    }


def probe_floor(every: float) -> None:
    """Print the seconds of a floor probe every `every` seconds, until stopped."""
    from sandbox import runner

    while True:
        started = time.monotonic()
        print(
            f"{runner.floor_probe(HELLO_DIR / 'solution' / FRAMEWORK, FRAMEWORK):.4f}", flush=True
        )
        time.sleep(max(0.0, every - (time.monotonic() - started)))


def main(argv: list[str]) -> int:
    if argv[:1] == ["learners"] and len(argv) == 4:
        data = create_learners(int(argv[1]), int(argv[2]))
        Path(argv[3]).write_text(json.dumps(data))
        return 0
    if argv[:2] == ["floor", "--every"] and len(argv) == 3:
        probe_floor(float(argv[2]))
        return 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
