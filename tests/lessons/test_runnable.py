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
    assert block.requests[1].headers() == (("Content-Type", "application/json"),)
    assert runnable.ExampleRequest("POST", "/notes", "title=Hi").headers() == (
        ("Content-Type", "application/x-www-form-urlencoded"),
    )


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
