"""Runnable blocks in a lesson, in a real browser: edit and run a script, run a Flask example
as an app, and what an anonymous reader sees instead.

Runs travel as in production: the page posts to the site (Django's live server), the site
sends the run through a real Redis to a real grading host, which runs it in Docker and leaves
the result in Redis, where the page's polling finds it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from lessons.models import Lesson
from tests.e2e.test_learner_journey import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.celery]

RUN_TIMEOUT_MS = 60_000


def lesson_url(text_in_body: str) -> str:
    return Lesson.objects.get(body__contains=text_in_body).get_absolute_url()


def panel_of(page: Page, block: int):
    return page.locator(f'div.runnable[data-run-block="{block}"] + .run-panel')


def test_a_reader_edits_a_block_runs_it_and_resets_it(
    live_server, course, start_grading_host, new_page
):
    start_grading_host()
    url = lesson_url("async def app(scope, receive, send)")
    page = new_page()
    sign_up(page, live_server.url, "ada", next_path=url)
    block = page.locator('div.runnable[data-run-block="1"]')
    panel = panel_of(page, 1)
    expect(panel.get_by_role("button", name="Run", exact=True)).to_be_visible()

    panel.get_by_role("button", name="Edit").click()
    editor = block.locator(".run-editor .cm-content")
    expect(editor).to_be_visible()
    expect(block.locator("pre")).to_be_hidden()
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(
        'import sys\nprint("edited by the reader")\nprint("a warning", file=sys.stderr)\n'
    )
    expect(panel.get_by_role("button", name="Reset")).to_be_enabled()

    panel.get_by_role("button", name="Run", exact=True).click()
    result = panel.locator(".run-result")
    expect(result).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(result.locator(".run-result__verdict")).to_have_text("Exit status 0")
    expect(result.locator(".run-result__stdout")).to_have_text("edited by the reader\n")
    expect(result.locator(".run-result__stderr")).to_have_text("a warning\n")

    panel.get_by_role("button", name="Reset").click()
    expect(block.locator(".run-editor")).to_have_count(0)
    expect(block.locator("pre")).to_be_visible()
    expect(block.locator("pre")).to_contain_text("asyncio.run(main())")
    expect(panel.locator(".run-result")).to_have_count(0)

    # The author's code, as it stands, runs too.
    panel.get_by_role("button", name="Run", exact=True).click()
    expect(panel.locator(".run-result__stdout")).to_contain_text(
        "200 b'Hello, Ada!'", timeout=RUN_TIMEOUT_MS
    )


def test_a_reader_runs_a_flask_example_as_an_app_with_a_request_of_their_own(
    live_server, course, start_grading_host, new_page
):
    start_grading_host()
    url = lesson_url("app.jinja_loader = DictLoader(TEMPLATES)")
    page = new_page()
    sign_up(page, live_server.url, "grace", next_path=url)
    panel = panel_of(page, 0)
    requests = panel.locator("[data-run-request]")
    expect(requests).to_have_count(4)
    expect(requests.first.locator("[data-run-path]")).to_have_value("/notes")

    panel.get_by_role("button", name="Add a request").click()
    expect(requests).to_have_count(5)
    requests.last.locator("[data-run-path]").fill("/notes/2")

    panel.get_by_role("button", name="Run as app").click()
    exchanges = panel.locator(".run-result .exchange")
    expect(exchanges).to_have_count(5, timeout=RUN_TIMEOUT_MS)
    first = exchanges.first
    expect(first.locator(".exchange__line").first).to_contain_text("GET /notes")
    expect(first.locator(".exchange__status")).to_have_text("200 OK")
    expect(first.locator(".exchange__source pre")).to_contain_text("Learn Jinja")
    expect(exchanges.nth(3).locator(".exchange__status")).to_have_text("404 NOT FOUND")
    mine = exchanges.last
    expect(mine.locator(".exchange__line").first).to_contain_text("GET /notes/2")
    expect(mine.locator(".exchange__status")).to_have_text("200 OK")
    expect(mine.locator(".exchange__source pre")).to_contain_text("Try &lt;b&gt;bold&lt;/b&gt;")


def test_an_anonymous_reader_is_asked_to_sign_in_and_can_still_read_the_code(
    live_server, course, new_page
):
    url = lesson_url("app.jinja_loader = DictLoader(TEMPLATES)")
    page = new_page()
    page.goto(live_server.url + url)
    panel = panel_of(page, 0)
    link = panel.get_by_role("link", name="Sign in to run this example")
    expect(link).to_be_visible()
    assert link.get_attribute("href").startswith("/accounts/login/?next=")
    expect(panel.get_by_role("button")).to_have_count(0)
    expect(page.locator('div.runnable[data-run-block="0"] pre')).to_contain_text("render_template")


def test_without_javascript_a_runnable_block_is_plain_readable_code(live_server, course, new_page):
    url = lesson_url("app.jinja_loader = DictLoader(TEMPLATES)")
    page = new_page(java_script_enabled=False)
    page.goto(live_server.url + url)
    block = page.locator('div.runnable[data-run-block="0"]')
    expect(block.locator("pre")).to_contain_text("app = Flask(__name__)")
    expect(page.locator(".run-panel")).to_have_count(0)


def test_the_page_gives_up_waiting_after_30_seconds_and_says_so(
    live_server, course, celery_broker, new_page
):
    # No grading host consumes the queue: the run is sent but never answered.
    url = lesson_url("async def app(scope, receive, send)")
    page = new_page()
    page.clock.install()  # the page's own clock: it runs as usual until moved on below
    sign_up(page, live_server.url, "linus", next_path=url)
    panel = panel_of(page, 1)
    run = panel.get_by_role("button", name="Run", exact=True)

    def a_poll():
        return page.expect_response(lambda r: r.request.method == "GET" and "/play/runs/" in r.url)

    with a_poll():
        run.click()
    expect(panel.locator(".run-output")).to_have_text("Running…")
    expect(run).to_be_disabled()
    page.clock.fast_forward("00:29")
    with a_poll():  # 29 seconds on, a poll still says "not yet": still waiting
        pass
    expect(panel.locator(".run-output")).to_have_text("Running…")
    expect(run).to_be_disabled()
    page.clock.fast_forward("00:02")
    expect(panel.locator(".run-output")).to_have_text(
        "No result after 30 seconds: the sandbox is busy or the run got lost. "
        "Try again in a moment."
    )
    expect(run).to_be_enabled()
    celery_broker.flush()  # the run nobody took must not reach a later test's host


def test_edit_pressed_while_the_editor_still_loads_opens_the_editor(live_server, course, new_page):
    url = lesson_url("async def app(scope, receive, send)")
    page = new_page()
    sign_up(page, live_server.url, "ada", next_path=url)
    held = []  # the editor's bundle, held back as on a slow connection
    page.route(re.compile(r"editor\.bundle[^/]*\.js$"), lambda route: held.append(route))
    page.reload(wait_until="commit")
    panel = panel_of(page, 1)

    panel.get_by_role("button", name="Edit").click()
    expect(panel.get_by_role("button", name="Edit")).to_be_disabled()
    page.wait_for_timeout(300)  # a moment in which the editor cannot be there yet
    block = page.locator('div.runnable[data-run-block="1"]')
    expect(block.locator(".run-editor")).to_have_count(0)
    for _ in range(50):  # the browser asked for it while parsing the page
        if held:
            break
        page.wait_for_timeout(100)
    (bundle,) = held
    bundle.continue_()

    expect(block.locator(".run-editor .cm-content")).to_be_visible()
    expect(block.locator("textarea")).to_have_count(0)  # not the fallback text box
    expect(block.locator("pre")).to_be_hidden()
