"""Runnable blocks in lesson Markdown: the settings authors write, their checks and their HTML."""

from __future__ import annotations

import html
import json
import re

import pytest

from grading import interactive
from lessons import runnable
from lessons.markdown import render_lesson, render_markdown, sanitize
from lessons.runnable import code_blocks, example_files, runnable_blocks, runnable_problems
from sandbox.spec import FRAMEWORKS

APP = """\
## Notes

```{.python .runnable app=flask requests='GET /hello/ada; POST /notes {"title": "Hi"}'}
from flask import Flask

app = Flask(__name__)
```
"""

EXAMPLE = """\
```{.python example=notes file=models.py}
NOTES = ["first"]
```

Some words.

```{.html example=notes file=templates/list.html}
<ul></ul>
```

```{.python .runnable example=notes}
from models import NOTES
print(NOTES)
```

```{.python .runnable}
print("alone")
```
"""


def run_attributes(html_out: str) -> list[dict[str, str]]:
    """Return the data-run-* attributes of each runnable block's wrapper, in order."""
    found = []
    for match in re.finditer(r"<div class=\"runnable highlight\"([^>]*)>", html_out):
        pairs = re.findall(r'(data-run-[a-z]+)="([^"]*)"', match.group(1))
        found.append({name: html.unescape(value) for name, value in pairs})
    return found


def test_the_protocol_and_the_authoring_checks_agree():
    # lessons sits below the sandbox and keeps its own copies of these: they must not drift.
    assert set(runnable.FRAMEWORKS) == set(FRAMEWORKS)
    assert set(runnable.APP_ENTRY) == set(FRAMEWORKS)
    assert set(runnable.METHODS) == set(interactive.METHODS)
    assert runnable.MAX_REQUESTS == interactive.MAX_REQUESTS
    assert runnable.MAX_REQUEST_BODY == interactive.MAX_REQUEST_BODY
    assert runnable.MAX_FILES == interactive.MAX_FILES
    assert runnable.MAX_REQUEST_HEADERS == interactive.MAX_REQUEST_HEADERS
    assert runnable.MAX_HEADER_VALUE_CHARS == interactive.MAX_HEADER_VALUE_CHARS


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("X-API-Key", True),
        ("content-type", True),
        ("X_Odd.Name~1", True),
        ("x" * 100, True),
        ("x" * 101, False),
        ("X API", False),
        ("X-Key\n", False),
        ("Ünicode", False),
        ("a(b)", False),
    ],
)
def test_authors_and_the_protocol_agree_on_header_names(name, allowed):
    assert bool(runnable.HEADER_NAME.match(name)) is allowed
    message = {"path": "/", "headers": [[name, "v"]]}
    if allowed:
        assert interactive.LiveRequest.from_message(message).headers == ((name, "v"),)
    else:
        with pytest.raises(interactive.MessageRejected):
            interactive.LiveRequest.from_message(message)


def test_a_plain_runnable_block_is_a_script_named_main_py():
    (block,) = runnable_blocks('```{.python .runnable}\nprint("hi")\n```\n')
    assert (block.index, block.kind, block.entry, block.framework) == (0, "script", "main.py", "")
    assert block.code == 'print("hi")\n'
    assert block.usable


def test_an_app_block_reads_its_framework_and_requests():
    (block,) = runnable_blocks(APP)
    assert (block.kind, block.framework, block.entry, block.line) == ("app", "flask", "app.py", 3)
    assert [r.as_dict() for r in block.requests] == [
        {"method": "GET", "path": "/hello/ada", "body": ""},
        {"method": "POST", "path": "/notes", "body": '{"title": "Hi"}'},
    ]
    assert block.requests[1].sent_headers() == (("Content-Type", "application/json"),)
    assert runnable.ExampleRequest("POST", "/notes", "title=Hi").sent_headers() == (
        ("Content-Type", "application/x-www-form-urlencoded"),
    )


def test_requests_carry_headers_written_after_the_path_like_curl():
    text = (
        '```{.python .runnable app=fastapi requests=\'POST /notes {"title": "No key"}; '
        'POST /notes -H "X-API-Key: let-me-in" -H "Accept:  application/json " '
        '{"title": "Hi"}; GET /notes\'}\nx = 1\n```\n'
    )
    assert runnable_problems(text) == []
    (block,) = runnable_blocks(text)
    no_key, with_key, listing = block.requests
    assert no_key.headers == ()
    assert (with_key.method, with_key.path, with_key.body) == ("POST", "/notes", '{"title": "Hi"}')
    assert with_key.headers == (("X-API-Key", "let-me-in"), ("Accept", "application/json"))
    assert with_key.sent_headers() == (
        ("X-API-Key", "let-me-in"),
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    )
    assert (listing.method, listing.path, listing.headers) == ("GET", "/notes", ())


def test_headers_can_be_quoted_with_single_quotes_inside_a_double_quoted_value():
    text = (
        "```{.python .runnable app=flask "
        "requests=\"POST /form -H 'Authorization: Bearer abc 123' title=Hi\"}\nx = 1\n```\n"
    )
    (block,) = runnable_blocks(text)
    (request,) = block.requests
    assert request.headers == (("Authorization", "Bearer abc 123"),)
    assert request.body == "title=Hi"
    assert runnable_problems(text) == []


def test_a_content_type_the_author_gives_replaces_the_bodys():
    (request,), problems = runnable.parse_requests(
        "POST /raw -H 'content-type: text/plain' {not json}"
    )
    assert problems == []
    assert request.sent_headers() == (("content-type", "text/plain"),)


def test_a_request_is_shown_with_its_headers_as_lines_and_without_them_as_before():
    with_headers = runnable.ExampleRequest("GET", "/", "", (("A", "1"), ("B", "two words")))
    assert with_headers.as_dict() == {
        "method": "GET",
        "path": "/",
        "body": "",
        "headers": "A: 1\nB: two words",
    }
    assert runnable.ExampleRequest("GET", "/").as_dict() == {
        "method": "GET",
        "path": "/",
        "body": "",
    }


@pytest.mark.parametrize(
    ("requests", "problem"),
    [
        ("POST /n -H X-Key:abc {}", 'put each header in quotes after -H: -H "Name: value"'),
        ('POST /n -H "X-Key: abc {}', 'put each header in quotes after -H: -H "Name: value"'),
        ("GET /n -H", 'put each header in quotes after -H: -H "Name: value"'),
        ('GET /n -H "X-Key abc"', "'X-Key abc' is not a header: write it as Name: value"),
        ('GET /n -H ": abc"', "': abc' is not a header: write it as Name: value"),
        ('GET /n -H "X Key: abc"', "'X Key' cannot be a header name (use letters, digits and -"),
        ('GET /n -H "Ключ: abc"', "'Ключ' cannot be a header name"),
        ('GET /n -H "X-Long: ' + "v" * 1001 + '"', "the value of header X-Long is over 1000"),
        ('GET /n -H "X-Key: a;b"', "put each header in quotes after -H"),
    ],
)
def test_a_wrong_header_is_reported_with_its_request(requests, problem):
    text = f"# Notes\n\n```{{.python .runnable app=flask requests='{requests}'}}\nx = 1\n```\n"
    problems = runnable_problems(text)
    assert problems, requests
    assert problems[0].line == 3
    assert problems[0].message.startswith(f"request {requests.split(';')[0][:60]!r}: ")
    assert problem in problems[0].message
    assert not runnable_blocks(text)[0].usable


def test_a_request_has_at_most_20_headers_with_its_bodys_content_type():
    twenty = " ".join(f'-H "X-{n}: {n}"' for n in range(20))
    (request,), problems = runnable.parse_requests(f"GET /n {twenty}")
    assert problems == []
    assert len(request.sent_headers()) == 20
    requests, problems = runnable.parse_requests(f"POST /n {twenty} title=Hi")
    assert requests == ()
    assert problems == [
        f"request {f'POST /n {twenty} title=Hi'[:60]!r}: "
        "at most 20 headers, with the Content-Type of the body"
    ]


@pytest.mark.parametrize(
    ("framework", "entry"),
    [("flask", "app.py"), ("fastapi", "main.py"), ("asgi", "app.py"), ("django", "manage.py")],
)
def test_an_app_is_written_where_the_sandbox_starts_its_framework(framework, entry):
    (block,) = runnable_blocks(f"```{{.python .runnable app={framework}}}\nx = 1\n```\n")
    assert block.entry == entry


def test_an_example_runs_its_entry_with_the_other_files_beside_it():
    blocks = runnable_blocks(EXAMPLE)
    assert [b.index for b in blocks] == [0, 1]
    entry = blocks[0]
    assert (entry.example, entry.entry) == ("notes", "main.py")
    assert example_files(EXAMPLE, entry) == {
        "models.py": 'NOTES = ["first"]\n',
        "templates/list.html": "<ul></ul>\n",
        "main.py": "from models import NOTES\nprint(NOTES)\n",
    }
    assert example_files(EXAMPLE, entry, "print(1)\n")["main.py"] == "print(1)\n"
    assert example_files(EXAMPLE, blocks[1]) == {"main.py": 'print("alone")\n'}
    assert runnable_problems(EXAMPLE) == []


def test_blocks_inside_tabs_are_found_and_their_indent_removed():
    text = '=== "Flask"\n\n    ```{.python .runnable app=flask}\n    app = 1\n    ```\n'
    (block,) = runnable_blocks(text)
    assert block.code == "app = 1\n"


def test_a_fence_shown_inside_a_longer_fence_is_not_a_block():
    text = "````markdown\n```{.python .runnable}\nprint(1)\n```\n````\n"
    assert code_blocks(text) == []


@pytest.mark.parametrize(
    ("fence", "problem"),
    [
        ("{.python .runnable app=bottle}", "app='bottle': the frameworks are"),
        ("{.python .runnable requests='GET /'}", "requests= is for app blocks"),
        ("{.python .runnable app=flask requests='FETCH /'}", "start with a method"),
        ("{.python .runnable app=flask requests='GET hello'}", "the path must start with /"),
        ("{.python .runnable colour=red}", "unknown setting 'colour'"),
        ("{.python .runnable file=../etc/passwd}", "without .."),
        ("{.python .runnable example='two words'}", "a name is letters"),
        ("{.javascript .runnable}", "only Python blocks can run"),
        ("{.python file=models.py}", "add example=NAME"),
        ("{.python example=notes}", "needs file=NAME"),
    ],
)
def test_a_wrong_setting_is_reported_with_its_line(fence, problem):
    text = f"# Title\n\nWords.\n\n```{fence}\nprint(1)\n```\n"
    problems = runnable_problems(text)
    assert problems, fence
    assert problem in problems[0].message
    assert problems[0].line == 5
    assert str(problems[0]).startswith("line 5: ")


def test_too_many_requests_are_reported():
    many = "; ".join(["GET /"] * 11)
    problems = runnable_problems(f"```{{.python .runnable app=flask requests='{many}'}}\nx\n```\n")
    assert [p.message for p in problems] == ["at most 10 requests"]


def test_two_files_of_one_name_in_an_example_are_reported():
    text = (
        "```{.python example=ex file=main.py}\nx = 1\n```\n\n"
        "```{.python .runnable example=ex}\nprint(1)\n```\n"
    )
    problems = runnable_problems(text)
    assert any("two files named main.py" in p.message for p in problems)
    assert not runnable_blocks(text)[0].usable


def test_an_empty_block_cannot_run():
    assert [p.message for p in runnable_problems("```{.python .runnable}\n\n```\n")] == [
        "the block is empty"
    ]


def test_a_lessons_request_headers_reach_the_page_as_lines_the_sanitizer_keeps():
    text = (
        "```{.python .runnable app=fastapi "
        """requests='POST /notes -H "X-API-Key: let-me-in" -H "X-Trace: 7" {"title": "Hi"}'}\n"""
        "x = 1\n```\n"
    )
    body, _ = render_lesson(text)
    (attributes,) = run_attributes(body)
    assert json.loads(attributes["data-run-requests"]) == [
        {
            "method": "POST",
            "path": "/notes",
            "body": '{"title": "Hi"}',
            "headers": "X-API-Key: let-me-in\nX-Trace: 7",
        }
    ]


def test_a_lesson_renders_run_settings_the_sanitizer_keeps():
    body, _ = render_lesson(APP + "\n" + EXAMPLE)
    attributes = run_attributes(body)
    assert attributes[0] == {
        "data-run-block": "0",
        "data-run-kind": "app",
        "data-run-file": "app.py",
        "data-run-framework": "flask",
        "data-run-requests": json.dumps(
            [
                {"method": "GET", "path": "/hello/ada", "body": ""},
                {"method": "POST", "path": "/notes", "body": '{"title": "Hi"}'},
            ]
        ),
    }
    assert attributes[1] == {
        "data-run-block": "1",
        "data-run-kind": "script",
        "data-run-file": "main.py",
        "data-run-example": "notes",
    }
    assert attributes[2]["data-run-block"] == "2"
    # The files of an example show their names.
    assert '<span class="filename">models.py</span>' in body
    assert '<span class="filename">templates/list.html</span>' in body


def test_blocks_are_numbered_like_the_service_numbers_them_even_with_equal_code():
    text = "```{.python .runnable}\nprint(1)\n```\n\n```{.python .runnable}\nprint(1)\n```\n"
    body, _ = render_lesson(text)
    assert [a["data-run-block"] for a in run_attributes(body)] == ["0", "1"]
    assert [b.index for b in runnable_blocks(text)] == [0, 1]


def test_a_broken_block_renders_as_code_with_its_problem_and_no_run_settings():
    body, _ = render_lesson("```{.python .runnable app=bottle}\nprint(1)\n```\n")
    assert "data-run-" not in body
    assert "This block cannot be run" in body
    assert "app=&#39;bottle&#39;: the frameworks are" in body or "app='bottle'" in body
    assert "print" in body


def test_texts_other_than_lessons_show_runnable_blocks_as_plain_code():
    out = render_markdown(APP)
    assert '<div class="runnable highlight">' in out
    assert "data-run-" not in out


def test_highlighter_options_still_work_beside_run_settings():
    body, _ = render_lesson('```{.python .runnable hl_lines="1" title="demo.py"}\nx = 1\n```\n')
    assert '<span class="hll">' in body
    assert '<span class="filename">demo.py</span>' in body
    assert run_attributes(body)[0]["data-run-block"] == "0"


@pytest.mark.parametrize(
    "forged",
    [
        '<div class="runnable" data-run-block="x1">a</div>',
        '<div class="runnable" data-run-kind="evil">a</div>',
        '<div class="runnable" data-run-framework="bottle">a</div>',
        '<div class="runnable" data-run-file="/etc/passwd">a</div>',
        '<div class="runnable" data-run-requests="not json">a</div>',
        '<div class="runnable" data-run-requests="[1, 2]">a</div>',
        '<span data-run-block="1">a</span>',
        '<div data-run-other="1">a</div>',
    ],
)
def test_the_sanitizer_drops_run_settings_that_are_not_well_formed(forged):
    assert "data-run" not in sanitize(forged)


def test_the_sanitizer_keeps_well_formed_run_settings():
    kept = (
        '<div class="runnable" data-run-block="3" data-run-kind="app" '
        'data-run-framework="fastapi">a</div>'
    )
    assert sanitize(kept) == kept
