"""Code blocks readers can run: what an author writes, and how it is read and checked.

An author marks a complete Python program with the class `runnable` in the fence's braces::

    ```{.python .runnable}
    print("Hello")
    ```

The page then offers Run (the block runs as ``python main.py`` in the sandbox), Edit and
Reset. Settings follow the classes, as `key=value` (quote a value that holds spaces):

- ``example=NAME file=PATH`` group blocks of one lesson into a multi-file example. The block
  that is run is the entry; the other blocks of its example are written beside it under their
  `file` names. A block of an example that is not marked runnable is only a file of it (a
  ``models.py`` or a template, in any language), shown with its file name and not run alone.
  Without `file`, a runnable block is ``main.py`` (or its framework's entry file, below).
- ``app=FRAMEWORK`` (flask, fastapi, django, wsgi, asgi) runs the block as a web app under
  its real server instead of as a script; the entry is then the file the sandbox starts for
  that framework (app.py; main.py for FastAPI; manage.py for Django) unless `file` says.
- ``requests="GET /hello/ada; POST /notes title=Hi"`` (app blocks only) are the example
  requests sent to the app, separated by semicolons: a method, a path, any headers, and
  optionally a body after a space. A body that starts with ``{`` or ``[`` is sent as JSON, any
  other as a form (``application/x-www-form-urlencoded``). Put the value in single quotes when
  a body holds double quotes: ``requests='POST /notes {"title": "Hi"}'``.
  A header is ``-H`` and ``Name: value`` in quotes, as curl takes it, between the path and the
  body: ``requests='POST /notes -H "X-API-Key: let-me-in" {"title": "Hi"}'`` (in a value in
  double quotes, quote the header with ``'``). The name is an HTTP token (letters, digits and
  ``-``, as in X-API-Key), the value at most 1000 characters; a request has at most 20 headers,
  with the Content-Type its body gets unless a header gives one. No part of a request may
  hold a ``;``, since that ends it. Readers can edit these requests and their headers, and add
  their own, on the page.

Blocks are numbered from 0 in the order they appear among the lesson's runnable blocks; a
page names a block by that number. Problems (an unknown framework, a request that is not
``METHOD /path``, a header that is not ``Name: value``, two files with one name) are shown in
place of the toolbar while an author previews the lesson, and refused by a course import, with
the line they are on.

This module imports nothing of the sandbox (it sits below it): the framework names, methods
and bounds below repeat the run protocol's (grading.interactive), and a test checks that they
agree. The site checks every run against the protocol again before it sends one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown.extensions.attr_list import get_attrs

RUNNABLE_CLASS = "runnable"
BLOCK_KEYS = ("example", "file", "app", "requests")
# What the code highlighter takes in the braces, besides the settings above.
HIGHLIGHT_KEYS = ("hl_lines", "linenums", "title", "title_mode")
FRAMEWORKS = ("flask", "django", "fastapi", "wsgi", "asgi")
APP_ENTRY = {
    "flask": "app.py",
    "wsgi": "app.py",
    "asgi": "app.py",
    "fastapi": "main.py",
    "django": "manage.py",
}
SCRIPT_ENTRY = "main.py"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_REQUESTS = 10
MAX_REQUEST_BODY = 64 * 1024
MAX_REQUEST_HEADERS = 20
MAX_HEADER_VALUE_CHARS = 1000
MAX_PATH_CHARS = 2000
MAX_FILES = 20
MAX_BLOCK_CHARS = 64 * 1024

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}\Z")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}\Z")  # an HTTP token
# A request: its method, its path, its headers (each -H and a quoted Name: value), its body.
_REQUEST = re.compile(
    r"""(?P<method>\S+)(?:\s+(?P<path>\S+))?"""
    r"""(?P<headers>(?:\s+-H\s+(?:"[^"]*"|'[^']*'))*)(?:\s+(?P<body>.*))?\Z""",
    re.DOTALL,
)
_HEADER_OPTION = re.compile(r"""-H\s+(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)')""")
SAFE_PATH = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.(?:/|$))[A-Za-z0-9_./-]{1,200}\Z")
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")


class RunnableError(ValueError):
    """A block's settings cannot be used; `line` counts from 1 at the start of the text."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


def body_headers(body: str) -> tuple[tuple[str, str], ...]:
    """Return the Content-Type a body is sent with: JSON if it looks like JSON, else a form."""
    if not body:
        return ()
    json_like = body.lstrip()[:1] in ("{", "[")
    kind = "application/json" if json_like else "application/x-www-form-urlencoded"
    return (("Content-Type", kind),)


def request_headers(headers: Sequence[tuple[str, str]], body: str) -> tuple[tuple[str, str], ...]:
    """Return the headers a request is sent with: those given, and its body's Content-Type.

    A Content-Type among the given headers wins over the one the body would get.
    """
    if any(name.lower() == "content-type" for name, _ in headers):
        return tuple(headers)
    return (*headers, *body_headers(body))


def read_header(text: str) -> tuple[str, str]:
    """Return the name and value of a header written `Name: value`.

    Raise ValueError saying what is wrong, in words for the author or reader who typed it.
    """
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name:
        raise ValueError(f"{text.strip()[:60]!r} is not a header: write it as Name: value")
    if not HEADER_NAME.match(name):
        raise ValueError(
            f"{name[:40]!r} cannot be a header name (use letters, digits and -, as in X-API-Key)"
        )
    if len(value) > MAX_HEADER_VALUE_CHARS:
        raise ValueError(f"the value of header {name} is over {MAX_HEADER_VALUE_CHARS} characters")
    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"the value of header {name} may not hold a line break or a NUL character")
    return name, value


def header_text(headers: tuple[tuple[str, str], ...]) -> str:
    """Return headers as the page shows them: one `Name: value` a line."""
    return "\n".join(f"{name}: {value}" for name, value in headers)


@dataclass(frozen=True)
class ExampleRequest:
    """One request an author offers to send to an app block."""

    method: str
    path: str
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # the author's, in order

    def sent_headers(self) -> tuple[tuple[str, str], ...]:
        """Return the headers this request is sent with, its body's Content-Type among them."""
        return request_headers(self.headers, self.body)

    def as_dict(self) -> dict[str, str]:
        """Return the request as the page holds it (its headers as text, when it has any)."""
        data = {"method": self.method, "path": self.path, "body": self.body}
        if self.headers:
            data["headers"] = header_text(self.headers)
        return data


@dataclass(frozen=True)
class CodeBlock:
    """A fence with run settings: a runnable block, or a file of an example."""

    line: int  # of the opening fence
    language: str
    code: str
    runnable: bool
    index: int | None = None  # among the text's runnable blocks
    example: str = ""
    file: str = ""
    framework: str = ""
    requests: tuple[ExampleRequest, ...] = ()
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def kind(self) -> str:
        return "app" if self.framework else "script"

    @property
    def entry(self) -> str:
        """Return the file this block is written to when its example runs."""
        if self.file:
            return self.file
        return APP_ENTRY[self.framework] if self.framework else SCRIPT_ENTRY

    @property
    def usable(self) -> bool:
        return self.runnable and not self.problems


@dataclass(frozen=True)
class Fence:
    line: int
    info: str
    code: str


def fences(text: str) -> list[Fence]:
    """Return the fenced blocks of a Markdown text, at any indent (tabs, lists), in order.

    A fence inside a longer fence (a lesson showing fence syntax) is part of its code.
    """
    found = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if not opening or (opening["fence"][0] == "`" and "`" in opening["info"]):
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        close = re.compile(
            rf"^{re.escape(indent)} {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$"
        )
        end = i + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        body = [row[len(indent) :] if row.startswith(indent) else row for row in lines[i + 1 : end]]
        found.append(Fence(i + 1, opening["info"].strip(), "\n".join(body) + "\n"))
        i = end + 1
    return found


def _settings(info: str) -> tuple[str, list[str], dict[str, str]] | None:
    """Return (language, classes, key=value settings) of a `{...}` info string, else None."""
    if not (info.startswith("{") and info.endswith("}")):
        return None
    classes: list[str] = []
    values: dict[str, str] = {}
    for key, value in get_attrs(info[1:-1]):
        if key == ".":
            classes.append(value)
        elif key != "id":
            values[key] = value if isinstance(value, str) else ""
    language = classes.pop(0) if classes else ""
    return language, classes, values


def _parse_request(part: str) -> ExampleRequest:
    """Return one request of a `requests=` setting; raise ValueError saying what is wrong."""
    found = _REQUEST.match(part)
    if found is None:  # only an empty text, which the caller skips
        raise ValueError("write a request as METHOD /path")
    method, path = found["method"].upper(), found["path"] or ""
    body = (found["body"] or "").strip()
    if method not in METHODS:
        raise ValueError(f"start with a method ({', '.join(METHODS)}), then a path such as /hello")
    if not path.startswith("/") or len(path) > MAX_PATH_CHARS:
        raise ValueError("the path must start with /")
    if body == "-H" or body.startswith(("-H ", "-H\t")):
        raise ValueError('put each header in quotes after -H: -H "Name: value"')
    headers = tuple(
        read_header(option["double"] if option["double"] is not None else option["single"])
        for option in _HEADER_OPTION.finditer(found["headers"])
    )
    if len(request_headers(headers, body)) > MAX_REQUEST_HEADERS:
        raise ValueError(
            f"at most {MAX_REQUEST_HEADERS} headers, with the Content-Type of the body"
        )
    if len(body.encode()) > MAX_REQUEST_BODY:
        raise ValueError("the body is over 64 KiB")
    return ExampleRequest(method, path, body, headers)


def parse_requests(value: str) -> tuple[tuple[ExampleRequest, ...], list[str]]:
    """Return the requests of a `requests=` setting, and what is wrong with it."""
    requests, problems = [], []
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        try:
            requests.append(_parse_request(part))
        except ValueError as exc:
            problems.append(f"request {part[:60]!r}: {exc}")
    if len(requests) > MAX_REQUESTS:
        problems.append(f"at most {MAX_REQUESTS} requests")
    return tuple(requests[:MAX_REQUESTS]), problems


def _block(fence: Fence, index: int | None, language: str, values: dict[str, str]) -> CodeBlock:
    problems = []
    runnable = index is not None
    unknown = sorted(set(values) - set(BLOCK_KEYS) - set(HIGHLIGHT_KEYS))
    if unknown and (runnable or set(values) & set(BLOCK_KEYS)):
        problems.append(
            f"unknown setting {unknown[0]!r}; a runnable block takes "
            "example=, file=, app= and requests="
        )
    example, file = values.get("example", ""), values.get("file", "")
    framework = values.get("app", "").lower()
    if example and not _NAME.match(example):
        problems.append(f"example={example[:40]!r}: a name is letters, digits, - and _ (up to 40)")
    if file and not SAFE_PATH.match(file):
        problems.append(
            f"file={file[:60]!r}: a relative path of letters, digits, . _ - and /, "
            "without .. (such as models.py or templates/index.html)"
        )
    if not runnable:
        if not example:
            problems.append(
                "file=, app= and requests= belong to a block marked .runnable or to a file of "
                "an example (add example=NAME)"
            )
        elif not file:
            problems.append(f"a file of example {example!r} needs file=NAME")
        if framework or "requests" in values:
            problems.append("app= and requests= belong to the block that is run (.runnable)")
    elif language.lower() not in ("python", "py", "python3"):
        problems.append(f"only Python blocks can run, not {language or 'unlabelled ones'}")
    if framework and framework not in FRAMEWORKS:
        problems.append(f"app={framework[:40]!r}: the frameworks are {', '.join(FRAMEWORKS)}")
        framework = ""
    requests: tuple[ExampleRequest, ...] = ()
    if "requests" in values:
        if runnable and not framework and "app" not in values:
            problems.append("requests= is for app blocks: add app=flask (or another framework)")
        requests, wrong = parse_requests(values["requests"])
        problems.extend(wrong)
    if runnable and not fence.code.strip():
        problems.append("the block is empty")
    if len(fence.code) > MAX_BLOCK_CHARS:
        problems.append("the block is over 64 KiB")
    return CodeBlock(
        line=fence.line,
        language=language,
        code=fence.code,
        runnable=runnable,
        index=index,
        example=example,
        file=file,
        framework=framework,
        requests=requests,
        problems=tuple(problems),
    )


def code_blocks(text: str | None) -> list[CodeBlock]:
    """Return the runnable blocks and example files of a Markdown text, in order."""
    blocks: list[CodeBlock] = []
    index = 0
    for fence in fences(text or ""):
        settings = _settings(fence.info)
        if settings is None:
            continue
        language, classes, values = settings
        runnable = RUNNABLE_CLASS in classes
        if not runnable and not set(values) & set(BLOCK_KEYS):
            continue
        blocks.append(_block(fence, index if runnable else None, language, values))
        index += runnable
    return _check_examples(blocks)


def _check_examples(blocks: list[CodeBlock]) -> list[CodeBlock]:
    """Add the problems of whole examples: two files of one name, too many files."""
    checked = []
    for block in blocks:
        problems = list(block.problems)
        if block.example:
            others = [b for b in blocks if b.example == block.example and b is not block]
            clash = next((b for b in others if b.entry == block.entry), None)
            if clash is not None:
                problems.append(
                    f"example {block.example!r} has two files named {block.entry} "
                    f"(the other block is on line {clash.line}); give one file= of its own"
                )
            if len(others) + 1 > MAX_FILES:
                problems.append(f"example {block.example!r} has more than {MAX_FILES} files")
            if block.runnable is False and not any(b.runnable for b in others):
                problems.append(f"example {block.example!r} has no block marked .runnable")
        if problems != list(block.problems):
            block = CodeBlock(**{**block.__dict__, "problems": tuple(problems)})
        checked.append(block)
    return checked


def runnable_blocks(text: str | None) -> list[CodeBlock]:
    """Return the blocks marked runnable, numbered in order (block n is at index n)."""
    return [block for block in code_blocks(text) if block.runnable]


def runnable_problems(text: str | None) -> list[RunnableError]:
    """Return every problem with the runnable blocks of a text (empty when they are fine)."""
    return [
        RunnableError(problem, block.line)
        for block in code_blocks(text)
        for problem in block.problems
    ]


def example_files(text: str | None, block: CodeBlock, code: str | None = None) -> dict[str, str]:
    """Return the files a run of `block` writes: its example's, with `code` as the entry."""
    files = {}
    if block.example:
        for other in code_blocks(text):
            if other.example == block.example and other.line != block.line:
                files[other.entry] = other.code
    files[block.entry] = block.code if code is None else code
    return files
