"""One HTTP exchange with a learner's app, as plain data a page can show.

Three features show what an app answered: the visible tests of a grading (the requests a test
sent and the responses it got), the request console of a live app, and a lesson's code block
run as an app. All of them record an exchange with `exchange()` and read one sent back with
`exchange_from_data()`, so every page gets the same shape with the same bounds, whatever the
app sent: the app is the learner's code, and its answers are as hostile as its code.

An exchange::

    {"request": {"method": "GET", "path": "/hello/ada", "headers": [[name, value], ...],
                 "body": BODY},
     "response": {"status": 200, "reason": "OK", "headers": [[name, value], ...],
                  "body": BODY} or None (no answer: see "error"),
     "output": "what the app printed while it handled the request",
     "error": "" or why there is no response (timed out, connection closed, ...),
     "duration_ms": 12.5 or None}

with BODY = {"text": str, "kind": "json" | "html" | "text" | "binary" | "empty",
             "bytes": size before cutting, "truncated": bool}. JSON is pretty-printed; HTML
stays source text (a page renders it only in a sandboxed frame without scripts); binary is
described, not shown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

MAX_BODY_CHARS = 8 * 1024
MAX_HEADERS = 40
MAX_HEADER_CHARS = 1000  # a header's name and value together
MAX_OUTPUT_CHARS = 4 * 1024
MAX_ERROR_CHARS = 1000
MAX_PATH_CHARS = 2000
BODY_KINDS = ("json", "html", "text", "binary", "empty")


def _cut(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[:limit], True)


def _kind(content_type: str, data: bytes) -> str:
    if not data:
        return "empty"
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media in ("text/html", "application/xhtml+xml"):
        return "html"
    if b"\x00" in data[:1024]:
        return "binary"
    return "text"


def body(data: bytes, content_type: str = "", *, limit: int = MAX_BODY_CHARS) -> dict[str, Any]:
    """Return a body as shown on a page: its kind, size and a text of at most `limit` chars."""
    kind = _kind(content_type, data)
    if kind == "binary":
        return {"text": "", "kind": kind, "bytes": len(data), "truncated": False}
    text = data[: limit * 4].decode("utf-8", errors="replace")
    if kind == "json" and len(data) <= limit * 4:
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            kind = "text"
    text, truncated = _cut(text, limit)
    return {
        "text": text,
        "kind": kind,
        "bytes": len(data),
        "truncated": truncated or len(data) > limit * 4,
    }


def headers(items: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Return at most MAX_HEADERS (name, value) pairs as lists, each cut to MAX_HEADER_CHARS."""
    kept: list[list[str]] = []
    for name, value in items:
        if len(kept) == MAX_HEADERS:
            break
        name, value = str(name)[:200], str(value)
        kept.append([name, value[: max(MAX_HEADER_CHARS - len(name), 0)]])
    return kept


def _header(items: Iterable[tuple[str, str]], wanted: str) -> str:
    return next((value for name, value in items if name.lower() == wanted), "")


def exchange(
    *,
    method: str,
    path: str,
    request_headers: Iterable[tuple[str, str]] = (),
    request_body: bytes = b"",
    status: int | None = None,
    reason: str = "",
    response_headers: Iterable[tuple[str, str]] = (),
    response_body: bytes = b"",
    output: str = "",
    error: str = "",
    duration_ms: float | None = None,
) -> dict[str, Any]:
    """Return one exchange (see the module's docstring); `status` None means no response."""
    request_headers, response_headers = list(request_headers), list(response_headers)
    response = None
    if status is not None:
        response = {
            "status": int(status),
            "reason": str(reason)[:100],
            "headers": headers(response_headers),
            "body": body(response_body, _header(response_headers, "content-type")),
        }
    return {
        "request": {
            "method": str(method)[:20],
            "path": str(path)[:MAX_PATH_CHARS],
            "headers": headers(request_headers),
            "body": body(request_body, _header(request_headers, "content-type")),
        },
        "response": response,
        "output": _cut(str(output), MAX_OUTPUT_CHARS)[0],
        "error": _cut(str(error), MAX_ERROR_CHARS)[0],
        "duration_ms": None if duration_ms is None else round(float(duration_ms), 1),
    }


def _body_from_data(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return {"text": "", "kind": "empty", "bytes": 0, "truncated": False}
    kind = data.get("kind") if data.get("kind") in BODY_KINDS else "text"
    size = data.get("bytes")
    return {
        "text": _cut(str(data.get("text") or ""), MAX_BODY_CHARS)[0],
        "kind": kind,
        "bytes": size if isinstance(size, int) and size >= 0 else 0,
        "truncated": bool(data.get("truncated")),
    }


def _headers_from_data(data: Any) -> list[list[str]]:
    if not isinstance(data, list):
        return []
    pairs = (item for item in data if isinstance(item, (list, tuple)) and len(item) == 2)
    return headers((str(name), str(value)) for name, value in pairs)


def exchange_from_data(data: Any) -> dict[str, Any] | None:
    """Read back an exchange made by `exchange()` (from JSON), bounds checked again; None if
    it is not one."""
    if not isinstance(data, Mapping) or not isinstance(data.get("request"), Mapping):
        return None
    request, response = data["request"], data.get("response")
    status = response.get("status") if isinstance(response, Mapping) else None
    duration = data.get("duration_ms")
    return {
        "request": {
            "method": str(request.get("method") or "")[:20],
            "path": str(request.get("path") or "")[:MAX_PATH_CHARS],
            "headers": _headers_from_data(request.get("headers")),
            "body": _body_from_data(request.get("body")),
        },
        "response": None
        if not isinstance(status, int) or isinstance(status, bool)
        else {
            "status": status,
            "reason": str(response.get("reason") or "")[:100],
            "headers": _headers_from_data(response.get("headers")),
            "body": _body_from_data(response.get("body")),
        },
        "output": _cut(str(data.get("output") or ""), MAX_OUTPUT_CHARS)[0],
        "error": _cut(str(data.get("error") or ""), MAX_ERROR_CHARS)[0],
        "duration_ms": round(float(duration), 1)
        if isinstance(duration, (int, float))
        and not isinstance(duration, bool)
        and math.isfinite(duration)
        else None,
    }
