"""Take the screenshots in docs/screenshots/ with headless Chromium.

    .venv/bin/python scripts/screenshots.py                  # the site of ./scripts/up
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000
    .venv/bin/python scripts/screenshots.py --serve          # a private site, just for this

Against a running site (default http://127.0.0.1:8000) it needs the course imported
(content/python-web) and the demo learner (`manage.py create_demo_users`), as ./scripts/up
makes them. With --serve it builds a throwaway site instead: a temporary VAR_DIR holding a
fresh SQLite database (migrated, course imported, search index built, demo users created),
a private redis-server, a Celery grading worker and gunicorn, each on a free loopback port;
everything it started is stopped and the folder removed when it ends. Either way, grading
needs the Docker engine and the runner image (`manage.py sandbox_images`).

As the demo learner (learner / learn-web-2026) it saves, full page, at 1280 px wide:

- three lessons (framework tabs, admonitions, tables, code) in the light and dark themes:
  lesson-<slug>-light.png and lesson-<slug>-dark.png;
- the hello exercise with a graded result — it submits the Flask app once, with the index
  greeting the wrong thing so that one test fails and shows its message — in light and
  dark, and at phone width (390 x 844): exercise-hello-light.png, -dark.png, -phone.png.

The dark pages are taken with the system preference set to dark (prefers-color-scheme),
which is what static/js/theme.js follows when the reader has not picked a theme.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from PIL import Image  # Pillow comes with django-markdownx
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
OUT_DIR = BASE_DIR / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
USERNAME, PASSWORD = "learner", "learn-web-2026"
LESSONS = (
    "/courses/python-web/web-frameworks/one-api-three-ways/",
    "/courses/python-web/web-frameworks/choosing-a-framework/",
    "/courses/python-web/web-frameworks/fastapi/",
)
EXERCISE = "/exercises/hello/"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Waiting for a running submission or a rate-limit countdown, then for the grading itself.
SUBMIT_WAIT_MS = 120_000
GRADING_WAIT_MS = 120_000

# The hello exercise in Flask, with the index greeting the wrong thing: 5 of 6 points.
ALMOST_RIGHT_APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "Hello, web!"


@app.get("/hello/<name>")
def hello(name):
    return {"message": f"Hello, {name}!"}
"""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# A private site ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    sys.exit(f"{what} did not start; its log:\n{log.read_text(errors='replace')[-3000:]}")


def _wait_for_log(text: str, process: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    sys.exit(f"{what} did not start; its log:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and whatever it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # A worker's pool processes can outlive their parent for a moment.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def private_site() -> Iterator[str]:
    """Serve a throwaway copy of the site with its own Redis and grading worker; yield its URL."""
    var_dir = Path(tempfile.mkdtemp(prefix="webcourse-shots-"))
    redis_port, web_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(var_dir),
        "DEBUG": "true",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
    }
    env.pop("DATABASE_URL", None)  # the temporary folder's SQLite file, never a real database
    processes: list[subprocess.Popen] = []

    def start(command: list[str], name: str) -> tuple[subprocess.Popen, Path]:
        log = var_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped whole
            )
        processes.append(process)
        return process, log

    def manage(*args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)

    try:
        say(f"Preparing a private site in {var_dir}")
        for args in (
            ("migrate", "--noinput", "-v0"),
            ("import_course", "content/python-web", "-v0"),
            ("rebuild_search_index", "-v0"),
            ("create_demo_users", "-v0"),
            ("sandbox_images",),  # a no-op when the runner image is there
        ):
            manage(*args)
        redis_bin = shutil.which("redis-server") or sys.exit("redis-server is not installed")
        redis, log = start(
            [redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(var_dir)],
            "redis",
        )  # fmt: skip
        _wait_for_port(redis_port, redis, "redis-server", log)
        worker, log = start(
            [str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", "grading,celery", "-c", "1",
             "-l", "info", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            "worker",
        )  # fmt: skip
        _wait_for_log(" ready.", worker, "the Celery worker", log)
        web, log = start(
            [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{web_port}",
             "--workers", "1", "--threads", "4"],
            "gunicorn",
        )  # fmt: skip
        _wait_for_port(web_port, web, "gunicorn", log)
        yield f"http://127.0.0.1:{web_port}"
    finally:
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(var_dir, ignore_errors=True)


# The screenshots ----------------------------------------------------------------------------


def log_in(browser: Browser, base: str) -> dict:
    """Log in as the demo learner through the form; return the session as storage state."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(USERNAME)
    state = context.storage_state()
    context.close()
    return state


def new_context(browser: Browser, state: dict, *, dark: bool = False, phone: bool = False):
    options = {"storage_state": state, "color_scheme": "dark" if dark else "light"}
    if phone:
        options.update(viewport=PHONE, is_mobile=True, has_touch=True)
    else:
        options["viewport"] = DESKTOP
    context: BrowserContext = browser.new_context(device_scale_factor=1, **options)
    context.set_default_timeout(20_000)
    return context


def save(page: Page, name: str) -> None:
    """Save a full-page screenshot, reduced to 256 colours (a third of the size, same look)."""
    page.wait_for_load_state("networkidle")
    path = OUT_DIR / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    with Image.open(path) as shot:
        small = shot.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    say(f"Saved {path.relative_to(BASE_DIR)} ({path.stat().st_size // 1024} KiB)")


def submit_almost_right_app(page: Page, base: str) -> None:
    """Grade the almost right Flask app from the editor and wait for its result."""
    page.goto(f"{base}{EXERCISE}")
    page.get_by_role("radio", name="Flask").check()
    tab = page.locator('button.ce-file[data-path="app.py"]')
    tab.click()
    expect(tab).to_have_attribute("aria-current", "true")
    page.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(ALMOST_RIGHT_APP)
    submit = page.get_by_role("button", name="Submit for grading")
    # A submission still running, or the rate limit's countdown, holds the button for a while.
    expect(submit).to_be_enabled(timeout=SUBMIT_WAIT_MS)
    result = page.locator("#latest .result")
    earlier = result.get_attribute("aria-labelledby") if result.count() else None
    submit.click()
    say("Submitted the hello exercise; waiting for its result")
    expect(result).to_be_visible(timeout=GRADING_WAIT_MS)
    if earlier is not None:
        expect(result).not_to_have_attribute("aria-labelledby", earlier, timeout=GRADING_WAIT_MS)


def show_exercise(page: Page, base: str) -> None:
    page.goto(f"{base}{EXERCISE}")
    code = page.locator(".cm-content")
    expect(code).to_be_visible()
    expect(page.locator("#latest .result")).to_be_visible()
    # CodeMirror measures its line heights only once the editor has been on screen; a
    # full-page shot does not scroll, so below the fold the line numbers would bunch up.
    page.locator("#editor").scroll_into_view_if_needed()  # the host: the code keeps its scroll
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")
    page.evaluate("() => window.scrollTo(0, 0)")


def take_screenshots(base: str) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            state = log_in(browser, base)
            for dark in (False, True):
                theme = "dark" if dark else "light"
                context = new_context(browser, state, dark=dark)
                page = context.new_page()
                for path in LESSONS:
                    page.goto(f"{base}{path}")
                    slug = path.rstrip("/").rsplit("/", 1)[-1]
                    save(page, f"lesson-{slug}-{theme}")
                if not dark:
                    submit_almost_right_app(page, base)
                show_exercise(page, base)
                save(page, f"exercise-hello-{theme}")
                context.close()
            context = new_context(browser, state, phone=True)
            page = context.new_page()
            show_exercise(page, base)
            save(page, "exercise-hello-phone")
            context.close()
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", default="http://127.0.0.1:8000", help="the site to photograph")
    where.add_argument(
        "--serve", action="store_true", help="start a private site for this run, then stop it"
    )
    args = parser.parse_args()
    if args.serve:
        with private_site() as base:
            take_screenshots(base)
    else:
        take_screenshots(args.url.rstrip("/"))


if __name__ == "__main__":
    main()
