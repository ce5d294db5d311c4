"""What the tests sent to a learner's app and what it answered, in a real browser.

Graded for real (Celery worker, Docker) like in test_learner_journey.py: a failing visible test
shows its request and the app's answer, open, beside its message; a passing one folds them,
its HTML page rendered in a sandboxed frame; hidden tests show nothing of theirs.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_learner_journey import replace_code, sign_up, submit_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.celery]

# The index answers an HTML page; /hello/<name> answers JSON, but the wrong greeting.
WRONG_GREETING_APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "<h1>Hello, world!</h1><script>document.title = 'ran'</script>"


@app.get("/hello/<name>")
def hello(name):
    print(f"greeting {name}")
    return {"message": f"Hi {name}"}, 200, {"X-Greeter": "flask"}
"""


def test_a_failing_visible_test_shows_its_request_and_the_answer(
    live_server, course, celery_worker_proc, new_page
):
    base = live_server.url
    page = new_page()
    sign_up(page, base, "linus", next_path="/exercises/hello/")
    page.get_by_role("radio", name="Flask").check()
    expect(page.locator('button.ce-file[data-path="app.py"]')).to_be_attached()

    replace_code(page, "app.py", WRONG_GREETING_APP)
    submit_and_wait(page)

    result = page.locator("#latest .result")
    expect(result.locator(".verdict-badge")).to_have_text("✗ Failed")
    failed = result.locator("li.test--failed", has_text="GET /hello/ada answers")
    expect(failed.locator(".test__message")).to_contain_text(
        'GET /hello/ada: expected the JSON {"message": "Hello, ada!"}'
    )

    # Open, beside the message: the request, the status, a header and the JSON body.
    exchanges = failed.locator("details.test__exchanges")
    expect(exchanges).to_have_attribute("open", "")
    expect(exchanges.locator("> summary")).to_have_text(
        "What the test sent and what your app answered (1 request)"
    )
    exchange = exchanges.locator(".exchange")
    expect(exchange).to_have_count(1)
    expect(exchange.locator(".exchange__request code")).to_have_text("GET /hello/ada")
    expect(exchange.locator(".exchange__status")).to_have_text("200 OK")
    expect(exchange.locator(".exchange__body--json")).to_have_text('{\n  "message": "Hi ada"\n}')
    exchange.get_by_text("Response headers").click()
    expect(exchange.locator(".exchange__response .exchange__headers pre")).to_contain_text(
        "X-Greeter: flask"
    )
    # The app's output during the test is still there, next to it.
    expect(failed.locator(".test__output pre")).to_contain_text("greeting ada")

    # A passing test folds its requests; its HTML answer renders in a frame that runs nothing.
    passed = result.locator("li.test--passed", has_text="GET / answers 200")
    folded = passed.locator("details.test__exchanges")
    expect(folded).not_to_have_attribute("open", re.compile(".*"))
    folded.locator("> summary").click()
    frame = passed.locator("iframe.exchange__page")
    expect(frame).to_have_attribute("sandbox", "")
    heading = passed.frame_locator("iframe.exchange__page").locator("h1")
    expect(heading).to_have_text("Hello, world!")
    title = passed.frame_locator("iframe.exchange__page").locator("title")
    expect(title).to_have_count(0)  # the script in the page did not run
    assert page.title() != "ran"

    # Hidden tests show nothing of what they sent.
    for hidden in result.locator("li.test", has_text="Hidden test").all():
        expect(hidden.locator(".test__exchanges")).to_have_count(0)
    text = result.inner_text()
    assert "Zoë" not in text and "no-such-page" not in text
