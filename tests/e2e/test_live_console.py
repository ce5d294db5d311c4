"""The live console in a real browser: a learner starts the editor's files, sends a request
from the console and sees the answer, then stops the app.

Headless Chromium drives Django's live server with the course imported from content/; the
app runs on a real grading host (a Celery worker on the interactive queue) in Docker, and
every request travels through the broker.
"""

from __future__ import annotations

import time

import docker
import pytest
from playwright.sync_api import Page, expect

from sandbox import engine
from tests.e2e.test_accessibility import (
    AXE_PATH,
    AXE_SCRIPT,
    FAILING_IMPACTS,
    FAILING_RULES,
    report,
)
from tests.e2e.test_editor import DESKTOP, WATCH_LAYOUT_SHIFTS, active_file, open_exercise
from tests.e2e.test_learner_journey import sign_up
from tests.sandbox.conftest import HELLO_DIR

pytestmark = pytest.mark.browser

BOOT_TIMEOUT_MS = 90_000
AXE_ON_CONSOLE = """async () => {
  const results = await axe.run({include: ["#live-console"]}, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


def type_code(page: Page, code: str) -> None:
    page.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(code)


def console_problems(page: Page, base: str) -> list[str]:
    """Run axe on the console as it stands, in the light and the dark theme."""
    page.add_script_tag(url=base + AXE_PATH)
    problems = []
    for theme in ("light", "dark"):
        page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
        violations = [
            v
            for v in page.evaluate(AXE_ON_CONSOLE)
            if v["impact"] in FAILING_IMPACTS or v["id"] in FAILING_RULES
        ]
        problems.extend(report(f"console, {theme}", violations))
    return problems


def host_containers(host) -> list:
    client = docker.from_env()
    try:
        labels = [engine.SANDBOX_LABEL, f"{engine.HOST_LABEL}={host.host_id}"]
        return client.containers.list(all=True, filters={"label": labels})
    finally:
        client.close()


def test_a_learner_starts_their_app_asks_it_and_stops_it(
    live_server, course, start_grading_host, new_page
):
    host = start_grading_host()
    base = live_server.url
    page = new_page(viewport=DESKTOP)
    page.add_init_script(WATCH_LAYOUT_SHIFTS)
    page.route(
        f"{base}{AXE_PATH}",
        lambda route: route.fulfill(path=AXE_SCRIPT, content_type="text/javascript"),
    )
    sign_up(page, base, "grace", next_path="/exercises/hello/")
    open_exercise(page, base, "hello")
    page.get_by_role("radio", name="Flask").check()
    expect(active_file(page)).to_have_text("app.py")
    code = (HELLO_DIR / "solution" / "flask" / "app.py").read_text()
    assert "def hello(name):\n" in code
    type_code(
        page, code.replace("def hello(name):\n", "def hello(name):\n    print('greeting', name)\n")
    )

    console = page.locator("#live-console")
    status = console.locator("[data-live-status]")
    # The draft's save status changes its height once saved (exercise.js): let it settle.
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")
    console.scroll_into_view_if_needed()
    shifted = page.evaluate("window.layoutShift")
    console.get_by_role("button", name="Start my app").click()
    expect(status).to_have_text("Your app is running. Send it a request.", timeout=BOOT_TIMEOUT_MS)
    # Starting fills in room the console kept for it: nothing on the page moves.
    assert page.evaluate("window.layoutShift") - shifted < 0.005
    expect(console.locator("[data-live-left]")).to_contain_text("left")

    # A visible test's request, one click away; a hidden test's is not offered.
    expect(console.get_by_role("button", name="GET /hello/Zoë")).to_have_count(0)
    console.get_by_role("button", name="GET /hello/ada").click()
    expect(console.get_by_label("Path")).to_have_value("/hello/ada")
    console.get_by_role("button", name="Send").click()

    answer = console.locator(".live-console__answer").first
    expect(answer).to_contain_text("200 OK", timeout=20_000)
    expect(answer.locator(".exchange__body--json")).to_contain_text('"message": "Hello, ada!"')
    expect(answer.locator(".exchange__output")).to_contain_text("greeting ada")

    # A request typed by hand: the app answers 404 for a path it does not have.
    console.get_by_label("Path").fill("/nowhere")
    console.get_by_label("Path").press("Enter")
    expect(console.locator(".live-console__answer").first).to_contain_text("404", timeout=20_000)
    expect(console.locator(".live-console__answer")).to_have_count(2)
    # Flask's 404 page is HTML: shown in a frame that runs nothing.
    expect(console.locator(".live-console__answer").first.locator("iframe")).to_have_attribute(
        "sandbox", ""
    )
    assert console_problems(page, base) == []

    console.get_by_role("button", name="Stop").click()
    expect(status).to_have_text("You stopped your app.")
    expect(console.get_by_role("button", name="Send")).to_be_disabled()
    # The host removes the app's container once it is told to stop.
    deadline = time.monotonic() + 30
    while host_containers(host) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert host_containers(host) == []
    # The editor still holds what the learner wrote.
    expect(page.locator(".cm-content")).to_contain_text('return {"message": f"Hello, {name}!"}')


def test_a_fastapi_app_lists_its_routes_to_click(live_server, course, start_grading_host, new_page):
    start_grading_host()
    base = live_server.url
    page = new_page(viewport=DESKTOP)
    sign_up(page, base, "guido", next_path="/exercises/hello/")
    open_exercise(page, base, "hello")
    page.get_by_role("radio", name="FastAPI").check()
    expect(active_file(page)).to_have_text("main.py")
    type_code(page, (HELLO_DIR / "solution" / "fastapi" / "main.py").read_text())

    console = page.locator("#live-console")
    console.get_by_role("button", name="Start my app").click()
    routes = console.locator("[data-live-routes]")
    expect(routes).to_be_visible(timeout=BOOT_TIMEOUT_MS)
    expect(routes.locator("[data-live-routes-note]")).to_be_hidden()  # all of them are listed
    route = routes.get_by_role("button", name="GET /hello/{name}")
    route.click()
    expect(console.get_by_label("Path")).to_have_value("/hello/{name}")
    console.get_by_label("Path").fill("/hello/guido")
    console.get_by_role("button", name="Send").click()
    answer = console.locator(".live-console__answer").first
    expect(answer).to_contain_text('"message": "Hello, guido!"', timeout=20_000)
    console.get_by_role("button", name="Stop").click()
    expect(console.locator("[data-live-status]")).to_have_text("You stopped your app.")


def test_an_app_that_cannot_boot_shows_why(live_server, course, start_grading_host, new_page):
    start_grading_host()
    base = live_server.url
    page = new_page(viewport=DESKTOP)
    sign_up(page, base, "alan", next_path="/exercises/hello/")
    open_exercise(page, base, "hello")
    page.get_by_role("radio", name="Flask").check()
    type_code(page, "from flask import Flask\n\napp = Flask(__name__\n")

    console = page.locator("#live-console")
    console.get_by_role("button", name="Start my app").click()
    expect(console.locator("[data-live-status]")).to_have_text(
        "Your app could not be started:", timeout=BOOT_TIMEOUT_MS
    )
    expect(console.locator("[data-live-failure]")).to_contain_text("SyntaxError")
    expect(console.get_by_role("button", name="Send")).to_be_disabled()


def test_anonymous_visitors_are_asked_to_sign_in(live_server, course, new_page):
    page = new_page(viewport=DESKTOP)
    page.goto(f"{live_server.url}/exercises/hello/")
    link = page.locator("#live-console").get_by_role("link", name="Sign in to try your app live")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/exercises/hello/")
