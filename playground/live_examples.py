"""Example requests for the live console, read from an exercise's visible tests.

The tests are read, never run: `ast` finds the calls a visible test makes on its client
(``client.get("/hello/ada")``, ``client.post("/items", json={...})``,
``client.request("PUT", "/x")``) whose path is a plain string. A test marked hidden, or in a
class or module marked hidden, gives nothing, and so does a test whose visibility cannot be
read without running it (a marker held in a variable): what a hidden test asks must never
reach the page.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from grading.interactive import MAX_PATH_CHARS, MAX_REQUEST_BODY, METHODS

MAX_EXAMPLES = 20
MAX_TEST_FILE_CHARS = 200_000
CLIENT_METHODS = {method.lower(): method for method in METHODS}


@dataclass(frozen=True)
class Example:
    """One request a visible test sends, as the console's form takes it."""

    method: str
    path: str
    headers: str = ""  # one per line, "Name: value"
    body: str = ""
    test: str = ""  # the test's name

    def as_dict(self) -> dict[str, str]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
        }


def visible_examples(tests: dict[str, str], *, limit: int = MAX_EXAMPLES) -> list[Example]:
    """Return the distinct requests the visible tests in `tests` (path → source) send."""
    found: list[Example] = []
    seen: set[tuple[str, str, str, str]] = set()
    for path, source in sorted(tests.items()):
        if not path.endswith(".py") or len(source) > MAX_TEST_FILE_CHARS:
            continue
        try:
            module = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for example in _module_examples(module):
            key = (example.method, example.path, example.headers, example.body)
            if key not in seen:
                seen.add(key)
                found.append(example)
            if len(found) >= limit:
                return found
    return found


def _module_examples(module: ast.Module):
    module_visibility = _level(_pytestmarks(module.body), "visible")
    if module_visibility == "unknown":
        return
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _test_examples(node, module_visibility)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            marks = [*node.decorator_list, *_pytestmarks(node.body)]
            class_visibility = _level(marks, module_visibility)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield from _test_examples(item, class_visibility)


def _test_examples(node: ast.FunctionDef | ast.AsyncFunctionDef, inherited: str):
    # The closest mark wins (pytest's get_closest_marker): the test's, its class's, its module's.
    if not node.name.startswith("test") or inherited == "unknown":
        return
    if _level(node.decorator_list, inherited) != "visible":
        return
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            example = _example(call, node.name)
            if example is not None:
                yield example


def _visibility_of(mark: ast.expr) -> str | None:
    """Return "visible"/"hidden" for a pytest.mark.visibility(...) mark, "unknown" for a mark
    that cannot be read, None for another pytest mark."""
    target = mark.func if isinstance(mark, ast.Call) else mark
    dotted = _dotted(target)
    if dotted is None:
        return "unknown"
    if dotted in ("pytest.mark.visibility", "mark.visibility"):
        if isinstance(mark, ast.Call) and mark.args and isinstance(mark.args[0], ast.Constant):
            value = mark.args[0].value
            return value if value in ("visible", "hidden") else "unknown"
        return "unknown"
    if dotted.startswith(("pytest.mark.", "mark.", "pytest.fixture")):
        return None
    return "unknown"


def _level(marks: list[ast.expr], inherited: str) -> str:
    """Return the visibility the marks of one level (a test, a class, a module) give: their
    own when they set one (hidden if any says so), else the level's above."""
    seen = {_visibility_of(mark) for mark in marks}
    if "unknown" in seen:
        return "unknown"
    if "hidden" in seen:
        return "hidden"
    return "visible" if "visible" in seen else inherited


def _pytestmarks(body: list[ast.stmt]) -> list[ast.expr]:
    """Return the marks a ``pytestmark = ...`` in a module or class body sets."""
    marks: list[ast.expr] = []
    for node in body:
        if not isinstance(node, ast.Assign):
            continue
        if not any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            continue
        value = node.value
        marks.extend(value.elts if isinstance(value, ast.List | ast.Tuple) else [value])
    return marks


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _example(call: ast.Call, test: str) -> Example | None:
    func = call.func
    if not isinstance(func, ast.Attribute) or _dotted(func.value) is None:
        return None
    if not _dotted(func.value).split(".")[-1].endswith("client"):
        return None
    args = list(call.args)
    if func.attr == "request":
        if not args or not isinstance(args[0], ast.Constant):
            return None
        method = str(args.pop(0).value).upper()
    elif func.attr in CLIENT_METHODS:
        method = CLIENT_METHODS[func.attr]
    else:
        return None
    if method not in METHODS or not args:
        return None
    path = _literal(args[0])
    if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH_CHARS:
        return None
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    params = _literal(keywords["params"]) if "params" in keywords else None
    if isinstance(params, dict) and params:
        path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
    headers: dict[str, str] = {}
    raw_headers = _literal(keywords["headers"]) if "headers" in keywords else None
    if isinstance(raw_headers, dict):
        headers.update({str(k): str(v) for k, v in raw_headers.items()})
    body = ""
    if "json" in keywords:
        value = _literal(keywords["json"], missing=_MISSING)
        if value is _MISSING:
            return None
        body = json.dumps(value, indent=2, ensure_ascii=False)
        headers.setdefault("Content-Type", "application/json")
    elif "data" in keywords or "content" in keywords:
        value = _literal(keywords.get("data") or keywords["content"], missing=_MISSING)
        if isinstance(value, dict):
            body = urlencode(value, doseq=True)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(value, str | bytes):
            body = value.decode(errors="replace") if isinstance(value, bytes) else value
        else:
            return None
    if len(body.encode()) > MAX_REQUEST_BODY:
        return None
    lines = "\n".join(f"{name}: {value}" for name, value in headers.items())
    if any(c in lines for c in "\r\x00"):
        return None
    return Example(method=method, path=path, headers=lines, body=body, test=test)


_MISSING = object()


def _literal(node: ast.expr, missing: Any = None) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return missing


__all__ = ["Example", "visible_examples"]
