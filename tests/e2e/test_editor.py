"""The exercise page's editor in a real browser: the file it opens, the file tree, the keyboard.

Headless Chromium drives Django's live server with the course imported from content/; the
graded submission goes through a real Celery worker and Docker, as in the learner journey.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_learner_journey import GRADING_TIMEOUT_MS, sign_up
from tests.sandbox.conftest import HELLO_DIR

pytestmark = pytest.mark.browser


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Sums the layout shifts of the page from its first paint on (as Lighthouse's CLS does for a
# page load), leaving out shifts right after input.
WATCH_LAYOUT_SHIFTS = """
window.layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.layoutShift += entry.value;
  }
}).observe({ type: "layout-shift", buffered: true });
"""


def open_exercise(page: Page, base: str, slug: str, framework: str | None = None) -> None:
    """Open an exercise page and wait until its editor shows highlighted code."""
    page.goto(f"{base}/exercises/{slug}/" + (f"?framework={framework}" if framework else ""))
    expect(page.locator(".ce .cm-content")).to_be_visible()
    # The language arrives in a chunk of its own; its highlighting shows it is in.
    expect(page.locator(".cm-content span").first).to_be_attached()


def active_file(page: Page):
    return page.locator(".ce-pathbar .ce-path")


def tree_toggle(page: Page):
    return page.get_by_role("button", name="Files", exact=True)


def test_each_exercise_opens_the_file_it_names_and_a_django_one_its_todos(
    live_server, course, new_page
):
    base = live_server.url
    page = new_page(viewport=DESKTOP)
    sign_up(page, base, "ada", next_path="/exercises/django-guestbook/")

    open_exercise(page, base, "django-guestbook")
    expect(active_file(page)).to_have_text("guestbook/models.py")
    expect(page.locator(".cm-content")).to_contain_text("TODO: the Entry model")
    expect(page.locator('button.ce-file[data-path="guestbook/models.py"]')).to_have_attribute(
        "aria-current", "true"
    )

    open_exercise(page, base, "hello")
    page.get_by_role("radio", name="Django").check()
    expect(active_file(page)).to_have_text("greetings/views.py")
    page.get_by_role("radio", name="Flask").check()
    expect(active_file(page)).to_have_text("app.py")
    # The choice of framework is kept with the draft; reopening opens Django's file again.
    page.get_by_role("radio", name="Django").check()
    page.reload()
    expect(active_file(page)).to_have_text("greetings/views.py")


def test_a_one_file_exercise_gives_the_code_the_whole_width_and_the_tree_can_be_shown(
    live_server, course, new_page
):
    base = live_server.url
    page = new_page(viewport=DESKTOP)
    sign_up(page, base, "grace", next_path="/exercises/fastapi-validation/")
    open_exercise(page, base, "fastapi-validation")

    toggle = tree_toggle(page)
    sidebar = page.locator(".ce-sidebar")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(sidebar).to_be_hidden()
    code = page.locator(".cm-scroller").bounding_box()
    editor = page.locator(".ce").bounding_box()
    assert code is not None and editor is not None
    assert code["width"] >= editor["width"] - 3  # no tree beside the code, only the borders
    narrow = code["width"]

    # Shown from the keyboard; the controls and the file are then in the Tab order.
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_visible()
    expect(page.locator('button.ce-file[data-path="main.py"]')).to_be_visible()
    assert page.locator(".cm-scroller").bounding_box()["width"] < narrow - 150

    # Resized from the keyboard, then by dragging.
    handle = page.get_by_role("separator", name="Resize the file list")
    handle.focus()
    start = int(handle.get_attribute("aria-valuenow"))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(handle).to_have_attribute("aria-valuenow", str(start + 32))
    assert abs(sidebar.bounding_box()["width"] - (start + 32)) <= 2
    page.keyboard.press("Home")
    expect(handle).to_have_attribute("aria-valuenow", "160")
    handle.hover()  # waits until the handle is stable and is what the pointer would hit
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 100, y, steps=5)
    page.mouse.up()
    expect(handle).to_have_attribute("aria-valuenow", "260")

    # The browser remembers the choice, on this exercise and on the next.
    page.reload()
    expect(tree_toggle(page)).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("separator", name="Resize the file list")).to_have_attribute(
        "aria-valuenow", "260"
    )
    open_exercise(page, base, "notes-api", "django")
    expect(tree_toggle(page)).to_have_attribute("aria-expanded", "true")
    tree_toggle(page).click()
    expect(tree_toggle(page)).to_have_attribute("aria-expanded", "false")
    open_exercise(page, base, "notes-api", "django")
    expect(tree_toggle(page)).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".ce-sidebar")).to_be_hidden()

    # A new browser (no choice stored) shows the tree of a many-file exercise.
    other = new_page(viewport=DESKTOP)
    sign_up(other, base, "linus", next_path="/exercises/notes-api/")
    open_exercise(other, base, "notes-api", "django")
    expect(tree_toggle(other)).to_have_attribute("aria-expanded", "true")


def test_the_skip_link_takes_the_keyboard_into_the_code_which_scrolls_by_keyboard(
    live_server, course, new_page
):
    base = live_server.url
    page = new_page(viewport=DESKTOP)
    sign_up(page, base, "barbara", next_path="/exercises/fastapi-validation/")
    open_exercise(page, base, "fastapi-validation")

    page.locator("body").focus()
    presses = 0
    while presses < 15:
        page.keyboard.press("Tab")
        presses += 1
        if page.evaluate("document.activeElement.textContent.trim()") == "Skip to the editor":
            break
    skip = page.get_by_role("link", name="Skip to the editor")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert presses <= 10, f"{presses} Tab presses to reach the skip link"

    page.keyboard.press("Enter")
    code = page.locator(".cm-content")
    expect(code).to_be_focused()

    # A long file: Page Down scrolls the code, with the focus in it.
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.insert_text("".join(f"\n# line {n}" for n in range(200)))
    page.keyboard.press("ControlOrMeta+Home")
    scroller = page.locator(".cm-scroller")
    page.wait_for_function("() => document.querySelector('.cm-scroller').scrollTop < 50")
    page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")
    # CodeMirror scrolls in its next animation frame. The scroller itself scrolls: before, it
    # grew with the file and the editor's box cut it off.
    page.wait_for_function("() => document.querySelector('.cm-scroller').scrollTop > 500")
    assert scroller.evaluate("el => el.clientHeight") < 800
    # The scroller's content is a Tab stop of its own (axe: scrollable-region-focusable).
    assert code.get_attribute("tabindex") == "0"
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")


@pytest.mark.sandbox
@pytest.mark.celery
def test_after_a_graded_submit_the_focus_is_on_the_verdict(
    live_server, course, celery_worker_proc, new_page
):
    base = live_server.url
    page = new_page(viewport=DESKTOP)
    sign_up(page, base, "edsger", next_path="/exercises/hello/")
    open_exercise(page, base, "hello")
    page.get_by_role("radio", name="Flask").check()
    expect(active_file(page)).to_have_text("app.py")
    page.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text((HELLO_DIR / "solution" / "flask" / "app.py").read_text())

    submit = page.get_by_role("button", name="Submit for grading")
    submit.focus()
    page.keyboard.press("Enter")

    heading = page.locator("#latest .result__title")
    expect(heading).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    expect(heading).to_contain_text("Passed")
    expect(heading).to_be_focused()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_mounting_the_editor_shifts_nothing(live_server, course, new_page, viewport):
    base = live_server.url
    page = new_page(viewport=viewport)
    sign_up(page, base, f"shift{viewport['width']}", next_path="/")
    page.add_init_script(WATCH_LAYOUT_SHIFTS)

    open_exercise(page, base, "django-guestbook")
    expect(page.locator(".ce-tree-toggle")).to_be_visible()
    page.wait_for_timeout(500)  # late shifts, such as highlighting or the extras arriving

    shift = page.evaluate("window.layoutShift")
    print(f"layout shift at {viewport['width']} px: {shift:.4f}")
    assert shift < 0.01
