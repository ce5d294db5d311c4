"""Helpers for exercise tests: an HTTP client for the learner's app and `expect`.

An exercise's tests are plain pytest functions that take the ``client`` fixture (an
``httpx.Client`` already pointed at the learner's running app, ``base_url`` http://localhost)
and check its answers. Write them so one test file grades a Flask, a Django and a FastAPI
solution alike::

    import pytest
    from grader import expect

    @pytest.mark.points(2)
    def test_hello_answers_json(client):
        \"\"\"GET /hello/<name> answers {"message": "Hello, <name>!"}.\"\"\"
        expect(client.get("/hello/ada"), status=200, json={"message": "Hello, ada!"})

    @pytest.mark.visibility("hidden")
    def test_unknown_paths_are_404(client):
        expect(client.get("/no-such-page"), status=404)

Markers: ``points(n)`` (default 1) and ``visibility("visible" | "hidden")`` (default visible;
learners see a hidden test only as "Hidden test N" and whether it passed). The first line of
a test's docstring is the name learners see; without a docstring, the function's name.

Failures read like "POST /notes: expected status 201, got 500. Body: …". A request that gets
no answer in time fails with "GET /slow: no answer within 5 s"; a connection the app drops
fails with "the app closed the connection (did it crash?)". ``response.json()`` on a body that
is not JSON fails with the request, the content type and an excerpt of the body.
"""

from __future__ import annotations

import html
import json as jsonlib
import re
from collections.abc import Collection, Iterable
from html.parser import HTMLParser
from typing import Any

import httpx

__all__ = [
    "AppClient",
    "AppResponse",
    "CheckFailed",
    "Element",
    "check",
    "excerpt",
    "expect",
    "parse_html",
]

BASE_URL = "http://localhost"
EXCERPT_CHARS = 300
_MISSING = object()


class CheckFailed(AssertionError):
    """A check on the app's answer failed; the message is written for the learner."""


def describe(request: httpx.Request) -> str:
    """Return "METHOD /path?query" for a request."""
    return f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}"


class AppResponse(httpx.Response):
    """A response whose failures name the request that got it."""

    @property
    def where(self) -> str:
        return describe(self.request)

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except (ValueError, UnicodeDecodeError):
            kind = self.headers.get("content-type", "no content type")
            raise CheckFailed(
                f"{self.where}: expected a JSON body, got {kind}. Body: {excerpt(self)}"
            ) from None


class AppClient(httpx.Client):
    """An httpx client for the learner's app that turns transport errors into plain failures."""

    def __init__(self, *, socket_path: str, timeout: float, **kwargs: Any) -> None:
        # Plain HTTP over a Unix socket: TLS settings are never used, so skip loading CA files.
        transport = httpx.HTTPTransport(uds=socket_path, verify=False)
        super().__init__(transport=transport, base_url=BASE_URL, timeout=timeout, **kwargs)
        self.request_timeout = timeout

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        where = describe(request)
        try:
            response = super().send(request, **kwargs)
        except httpx.TimeoutException:
            raise CheckFailed(f"{where}: no answer within {self.request_timeout:g} s") from None
        except httpx.ConnectError:
            raise CheckFailed(f"{where}: could not connect to the app (did it crash?)") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            raise CheckFailed(f"{where}: the app closed the connection (did it crash?)") from None
        # Same object layout, richer messages: see AppResponse.
        response.__class__ = AppResponse
        return response


def excerpt(response: httpx.Response, limit: int = EXCERPT_CHARS) -> str:
    """Return the start of a response body as readable text (HTML reduced to its words)."""
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return "(unreadable body)"
    if "html" in response.headers.get("content-type", ""):
        text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
        text = html.unescape(re.sub(r"(?s)<[^>]*>", " ", text))
    text = " ".join(text.split())
    if not text:
        return "(empty)"
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _show_json(value: Any, limit: int = EXCERPT_CHARS) -> str:
    text = jsonlib.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def _statuses(status: int | Collection[int]) -> tuple[int, ...]:
    return (status,) if isinstance(status, int) else tuple(status)


def expect(
    response: httpx.Response,
    status: int | Collection[int] | None = None,
    *,
    json: Any = _MISSING,
    contains: str | Iterable[str] | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Check an answer of the app; raise CheckFailed with a message for the learner.

    status: the expected status code (or codes). json: the exact expected JSON body.
    contains: text (or texts) the body must contain. content_type: what the Content-Type
    header must start with (e.g. "application/json"). headers: exact header values.
    Returns the response, so a test can go on checking it.
    """
    where = describe(response.request)
    if status is not None:
        wanted = _statuses(status)
        if response.status_code not in wanted:
            shown = " or ".join(str(code) for code in wanted)
            raise CheckFailed(
                f"{where}: expected status {shown}, got {response.status_code}. "
                f"Body: {excerpt(response)}"
            )
    if content_type is not None:
        actual = response.headers.get("content-type", "")
        if not actual.lower().startswith(content_type.lower()):
            raise CheckFailed(
                f"{where}: expected content type {content_type}, got {actual or 'none'}."
            )
    for name, value in (headers or {}).items():
        actual = response.headers.get(name)
        if actual != value:
            raise CheckFailed(f"{where}: expected header {name}: {value}, got {actual!r}.")
    if json is not _MISSING:
        try:
            body = httpx.Response.json(response)
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "no content type")
            raise CheckFailed(
                f"{where}: expected the JSON {_show_json(json)}, got {kind}. "
                f"Body: {excerpt(response)}"
            ) from None
        if body != json:
            raise CheckFailed(
                f"{where}: expected the JSON {_show_json(json)}, got {_show_json(body)}."
            )
    if contains is not None:
        texts = [contains] if isinstance(contains, str) else list(contains)
        for text in texts:
            if text not in response.text:
                raise CheckFailed(
                    f"{where}: expected the body to contain {text!r}. Body: {excerpt(response)}"
                )
    return response


def check(condition: object, message: str) -> None:
    """Fail the test with `message` (written for the learner) unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)


# Pages ---------------------------------------------------------------------------------------

# Elements that never have an end tag.
VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr",
}  # fmt: skip


class Element:
    """One element of a parsed page, enough to look things up by tag, class and attributes."""

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], parent: Element | None):
        self.tag = tag
        self.attrs = {k: v or "" for k, v in attrs}
        self.parent = parent
        self.children: list[Element | str] = []

    def iter(self) -> Iterable[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None, *, cls: str | None = None, **attrs: str) -> list[Element]:
        """Return this element and those inside it with this tag (None: any) and attributes."""
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and (cls is None or cls in e.attrs.get("class", "").split())
            and all(e.attrs.get(k) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None, *, cls: str | None = None, **attrs: str) -> Element | None:
        found = self.find_all(tag, cls=cls, **attrs)
        return found[0] if found else None

    def text(self) -> str:
        """Return the text inside, with runs of white space made single spaces."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"\s+", " ", " ".join(parts)).strip()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", [], None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in VOID_ELEMENTS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, attrs, self.current))

    def handle_endtag(self, tag):
        # Close the nearest open element with this tag; a stray end tag is ignored.
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(text: str) -> Element:
    """Parse a page forgivingly (as learners write it) into a tree of Elements."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root
