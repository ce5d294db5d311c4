"""Measure the catalog, a lesson and an exercise page with Lighthouse, desktop and mobile.

    .venv/bin/python bench/lighthouse.py [--runs 1] [--keep-reports DIR]

Builds a throwaway site the way a class is served (SQLite in a temporary VAR_DIR, DEBUG off,
collected static files, gunicorn on 127.0.0.1, plain HTTP as bench/settings.py allows), imports
the course from content/, signs a learner in with a graded submission, and runs Lighthouse on

    the catalog        (a visitor)
    a lesson           (a visitor: framework tabs, code, admonitions)
    an exercise page   (the learner, with the editor and a graded result)

with its desktop and mobile presets, then prints the scores. Needs Node.js and npm: it runs
`lighthouse` from PATH, or `$LIGHTHOUSE`, or else `npx --yes lighthouse@12` (12 still runs on
Node 20; 13 needs Node 22). Chromium comes from $CHROME_PATH or /usr/bin/chromium. The goals:
accessibility 100 and performance >= 90 everywhere. Everything it starts or creates is removed
when it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median
from typing import NamedTuple

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.pages import (  # noqa: E402
    fetch,
    free_port,
    start_gunicorn,
    stop_gunicorn,
    wait_until_up,
)

LIGHTHOUSE_PACKAGE = "lighthouse@12"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --no-first-run --disable-sync"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PRESETS = ("desktop", "mobile")
LESSON = "/courses/python-web/foundations/what-a-web-framework-does/"
EXERCISE = "/exercises/hello/"
GOALS = {"performance": 90, "accessibility": 100}
# Headless Chromium now and then loses a trace on a loaded machine (NO_NAVSTART): run again.
ATTEMPTS = 3


class Target(NamedTuple):
    name: str
    path: str
    signed_in: bool


TARGETS = (
    Target("catalog", "/", signed_in=False),
    Target("lesson", LESSON, signed_in=False),
    Target("exercise", EXERCISE, signed_in=True),
)


def lighthouse_command() -> list[str]:
    """Return how to start Lighthouse here, or stop with what to install."""
    if os.environ.get("LIGHTHOUSE"):
        return [os.environ["LIGHTHOUSE"]]
    if shutil.which("lighthouse"):
        return ["lighthouse"]
    if shutil.which("npx"):
        return ["npx", "--yes", LIGHTHOUSE_PACKAGE]
    raise SystemExit(
        "Lighthouse needs Node.js and npm, which are not installed: install them "
        "(Debian: apt-get install -y nodejs npm) or point $LIGHTHOUSE at a lighthouse binary."
    )


def chrome_path() -> str:
    path = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise SystemExit("Chromium is not installed (Debian: apt-get install -y chromium)")
    return path


def build_site() -> str:
    """Migrate, collect static files, import the course; return a signed-in learner's cookie."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from exercises.models import Exercise, Submission, SubmissionArchive
    from lessons.models import Lesson
    from progress.services import lesson_mark_read
    from sandbox.archive import pack_directory
    from sandbox.results import TestOutcome, make_result

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    call_command("import_course", str(settings.COURSE_CONTENT_DIR / "python-web"), verbosity=0)
    learner = get_user_model().objects.create_user("learner")
    lesson_mark_read(learner=learner, lesson=Lesson.objects.get(slug="what-a-web-framework-does"))
    exercise = Exercise.objects.get(slug="hello")
    # What grading the starter gives, written out: measuring pages needs no Docker.
    result = make_result(
        status="failed",
        message="",
        tests=[
            TestOutcome("GET / answers 'Hello, world!'", "failed", 0, 2, "GET /: expected 200"),
            TestOutcome("GET /hello/<name> answers JSON", "failed", 0, 2, "expected 200, got 404"),
            TestOutcome("Hidden test 1", "passed", 2, 2),
        ],
        log="* Serving Flask app 'app'\n",
    )
    archive = SubmissionArchive.objects.store(
        pack_directory(settings.COURSE_CONTENT_DIR / "python-web/exercises/hello/starter/flask")
    )
    Submission.objects.create(
        learner=learner,
        exercise=exercise,
        framework="flask",
        archive=archive,
        state=Submission.State.DONE,
        verdict=result["status"],
        score=result["score"],
        max_score=result["max_score"],
        result=result,
    )
    client = Client()
    client.force_login(learner)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def run_lighthouse(command: list[str], url: str, preset: str, cookie: str | None, out: Path):
    """Run Lighthouse once; return its report (a dict)."""
    args = [
        *command,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if preset == "desktop":
        args.append("--preset=desktop")
    if cookie:
        args.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    env = {**os.environ, "CHROME_PATH": chrome_path()}
    for _ in range(ATTEMPTS):
        out.unlink(missing_ok=True)
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode == 0 and out.exists():
            return json.loads(out.read_text(encoding="utf-8"))
    raise SystemExit(f"Lighthouse failed on {url} ({preset}):\n{done.stderr[-2000:]}")


def shortfalls(report: dict) -> list[str]:
    """Return what keeps the page below its goals: failed audits, and the timing metrics."""
    lines = []
    categories = report["categories"]
    audits = report["audits"]
    for category, goal in GOALS.items():
        score = round(categories[category]["score"] * 100)
        if score >= goal:
            continue
        for ref in categories[category]["auditRefs"]:
            audit = audits[ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 0.9:
                shown = audit.get("displayValue", "")
                lines.append(f"    {category}: {ref['id']} {shown} — {audit['title']}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per page and preset (median)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--keep-reports", type=Path, help="copy the JSON reports to this folder")
    args = parser.parse_args()
    command = lighthouse_command()
    chrome_path()

    var_dir = tempfile.mkdtemp(prefix="webcourse-lighthouse-")
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
    os.environ.update(env)
    server = None
    try:
        print("Building a temporary site...", flush=True)
        cookie = build_site()
        port = free_port()
        server = start_gunicorn(port, args.workers, env)
        wait_until_up(port, server)
        for target in TARGETS:
            status, _ = fetch(port, target.path, {"Cookie": cookie} if target.signed_in else {})
            if status != 200:
                raise SystemExit(f"{target.path} answered {status}; not measuring an error page")

        print(f"Lighthouse ({' '.join(command)}), {args.runs} run(s) each; scores out of 100:")
        print(f"  {'page':10} {'preset':8} " + " ".join(f"{c[:13]:>13}" for c in CATEGORIES))
        reports = Path(var_dir) / "reports"
        reports.mkdir()
        below = False
        for target in TARGETS:
            for preset in PRESETS:
                url = f"http://127.0.0.1:{port}{target.path}"
                runs = []
                for n in range(args.runs):
                    out = reports / f"{target.name}-{preset}-{n + 1}.json"
                    cookie_for = cookie if target.signed_in else None
                    runs.append(run_lighthouse(command, url, preset, cookie_for, out))
                scores = {
                    c: median(round(r["categories"][c]["score"] * 100) for r in runs)
                    for c in CATEGORIES
                }
                print(
                    f"  {target.name:10} {preset:8} "
                    + " ".join(f"{scores[c]:>13g}" for c in CATEGORIES),
                    flush=True,
                )
                if any(scores[c] < goal for c, goal in GOALS.items()):
                    below = True
                    for line in shortfalls(runs[-1]):
                        print(line)
        if args.keep_reports:
            shutil.copytree(reports, args.keep_reports, dirs_exist_ok=True)
            print(f"Reports kept in {args.keep_reports}")
        goals = ", ".join(f"{c} >= {g}" for c, g in GOALS.items())
        print(f"{'Below' if below else 'Meets'} the goals ({goals}).")
        return 1 if below else 0
    finally:
        stop_gunicorn(server)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
