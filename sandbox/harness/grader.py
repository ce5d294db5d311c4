"""Helpers for exercise tests: an HTTP client for the learner's app and `expect`.

An exercise's tests are plain pytest functions that take the ``client`` fixture (an
``httpx.Client`` already pointed at the learner's running app, ``base_url`` http://localhost)
and check its answers. Write them so one test file grades a Flask, a Django and a FastAPI
solution, or any WSGI or ASGI app, alike::

    import pytest
    from grader import expect

    @pytest.mark.points(2)
    def test_hello_answers_json(client):
        \"\"\"GET /hello/<name> answers {"message": "Hello, <name>!"}.\"\"\"
        expect(client.get("/hello/ada"), status=200, json={"message": "Hello, ada!"})

    @pytest.mark.visibility("hidden")
    def test_unknown_paths_are_404(client):
        expect(client.get("/no-such-page"), status=404)

Markers: ``points(n)`` (default 1), ``visibility("visible" | "hidden")`` (default visible;
learners see a hidden test only as "Hidden test N" and whether it passed) and ``hint("…")``,
one line shown when the test does not pass ("names with accents"), the only clue a hidden
test gives. The first line of a test's docstring is the name learners see; without a
docstring, the function's name.

What a test needs before it can check anything (a note to read, a user to log in as) goes in
``with precondition("create a note to test with"):``. A failure there fails the test as
"could not run", with a short cause ("POST /notes answered 501"); the learner sees the tests
that could not run for the same cause grouped under it, instead of the same failure again and
again. An app that no longer accepts connections fails the tests that follow the same way.

Failures read like "POST /notes: expected status 201, got 500. Body: …". A request that gets
no answer in time fails with "GET /slow: no answer within 5 s"; a connection the app drops
fails with "the app closed the connection (did it crash?)". ``response.json()`` on a body that
is not JSON fails with the request, the content type and an excerpt of the body.

Whatever the app answers, reading it stays small and short. The client asks for unencoded
bodies (``Accept-Encoding: identity``; a test may send its own header) and decodes gzip and
deflate sent anyway a piece at a time, up to 3 stacked layers, each stopping at the limit;
any other encoding fails. An answer fails the test when it is larger than 1 MiB as
received or once decoded, when its status line and headers pass 32 KiB, when the app sends
more than 16 informational (1xx) answers before its real one, and when the whole answer takes
longer than the request's timeout, even if bytes keep trickling in ("GET /: the answer took
longer than 5 s in all").

While a visible test runs, every request sent through an ``AppTransport`` (the ``client``
fixture's, or a client a test makes itself) is recorded with its answer, to show the learner
what the test did (sandbox.exchanges): the first few of each test and its last one, each body
cut to what a page shows. Hidden tests record nothing.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import re
import threading
import time
import zlib
from collections.abc import Collection, Iterable, Iterator
from html.parser import HTMLParser
from typing import Any

import httpcore
import httpx

from sandbox import exchanges
from sandbox.textsafety import html_to_text

__all__ = [
    "AppClient",
    "AppResponse",
    "BoundedDecoder",
    "CheckFailed",
    "Element",
    "ExchangeLog",
    "PreconditionFailed",
    "check",
    "excerpt",
    "expect",
    "parse_html",
    "precondition",
]

BASE_URL = "http://localhost"
EXCERPT_CHARS = 300
EXCERPT_SOURCE_CHARS = 64 * 1024  # an excerpt is made from the start of the body only
MAX_CAUSE_CHARS = 200
_MISSING = object()

KiB = 1024
MiB = 1024 * KiB
MAX_BODY_BYTES = 1 * MiB  # as received, and again once decoded
# The status line and headers, informational answers included. Below what h11 buffers for one
# incomplete event (httpcore: 100 KiB) less one read (64 KiB), so this check always speaks first.
MAX_HEAD_BYTES = 32 * KiB
MAX_INFORMATIONAL = 16  # 1xx answers before the real one
MAX_ENCODINGS = 3  # stacked Content-Encoding layers
ZLIB_ENCODINGS = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,
}
_END_OF_HEAD = re.compile(rb"\n\r?\n")


class CheckFailed(AssertionError):
    """A check on the app's answer failed; the message is written for the learner.

    `cause` says what went wrong in a few words that tests failing the same way share
    ("POST /notes answered 501"); by default, the message's first line without the body
    quoted after "Body:".
    """

    def __init__(self, message: str, *, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = short_cause(cause if cause is not None else message)


class PreconditionFailed(CheckFailed):
    """What a test needs before it can check anything failed, so the test could not run."""


def short_cause(text: str) -> str:
    """Return the few words of a failure that tests failing the same way share."""
    lines = str(text).strip().splitlines()
    cause = lines[0].split(" Body: ")[0].strip().rstrip(".") if lines else ""
    return cause if len(cause) <= MAX_CAUSE_CHARS else cause[:MAX_CAUSE_CHARS].rstrip() + "…"


@contextlib.contextmanager
def precondition(what: str) -> Iterator[None]:
    """Mark the steps inside as what the test needs first: "create a note to test with".

    A failure inside (a check, an assert, an exception) fails the test as one that could not
    run ("Could not create a note to test with. POST /notes: expected status 201, got 501.
    Body: …"), with the failure's cause ("POST /notes answered 501"): tests that could not
    run for the same cause are shown together.
    """
    try:
        yield
    except PreconditionFailed:
        raise
    except CheckFailed as exc:
        raise PreconditionFailed(f"Could not {what}. {exc}", cause=exc.cause) from None
    except Exception as exc:  # an assert, or a KeyError on an answer of the wrong shape
        text = str(exc) if isinstance(exc, AssertionError) and str(exc) else _exception(exc)
        raise PreconditionFailed(f"Could not {what}. {text}", cause=text) from None


def _exception(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def describe(request: httpx.Request) -> str:
    """Return "METHOD /path?query" for a request."""
    return f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}"


def size(count: int) -> str:
    """Return a byte count as people write it: "1 MiB", "32 KiB", "500 bytes"."""
    for unit, name in ((MiB, "MiB"), (KiB, "KiB")):
        if count >= unit and count % unit == 0:
            return f"{count // unit} {name}"
    return f"{count} bytes"


# Decoding ------------------------------------------------------------------------------------


class _ZlibLayer:
    """One gzip or deflate layer, never giving more than it is allowed to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.produced = 0
        self._inflate = zlib.decompressobj(ZLIB_ENCODINGS[name])
        self._first = True

    def decode(self, data: bytes, room: int) -> bytes:
        """Return what `data` decodes to, or `room` + 1 bytes of it if that is more."""
        first, self._first = self._first, False
        try:
            # max_length bounds the output; input left over waits in unconsumed_tail, and is
            # only ever left when the output was cut, which fails below.
            output = self._inflate.decompress(data, room + 1)
        except zlib.error:
            if not (first and self.name == "deflate"):
                raise
            # "deflate" is often sent as a bare deflate stream, without zlib's header.
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            output = self._inflate.decompress(data, room + 1)
        self.produced += len(output)
        return output


class BoundedDecoder:
    """Decode a body's Content-Encoding layers, stopping once any layer passes `limit` bytes.

    Has the interface of httpx's content decoders (decode, flush). Raises CheckFailed, naming
    `where`, for a body too large once decoded, an encoding it cannot decode piece by piece
    (anything but gzip and deflate), too many layers, or data that is not what it claims.
    """

    def __init__(self, encodings: list[str], *, limit: int, where: str) -> None:
        self.limit = limit
        self.where = where
        names = [name.strip().lower() for name in encodings]
        names = [name for name in names if name and name != "identity"]
        self.header = ", ".join(names)
        if len(names) > MAX_ENCODINGS:
            raise CheckFailed(
                f"{where}: the answer is encoded {len(names)} times over (Content-Encoding: "
                f"{self.header}); the grader decodes at most {MAX_ENCODINGS} layers."
            )
        for name in names:
            if name not in ZLIB_ENCODINGS:
                raise CheckFailed(
                    f"{where}: the answer is encoded as {name!r} (Content-Encoding), which the "
                    "grader does not decode. It asks for unencoded answers "
                    "(Accept-Encoding: identity): send the body as it is."
                )
        # The encoding applied last is listed last, and comes off first.
        self.layers = [_ZlibLayer(name) for name in reversed(names)]

    def decode(self, data: bytes) -> bytes:
        for layer in self.layers:
            data = self._through(layer, data)
        return data

    def flush(self) -> bytes:
        data = b""
        for layer in self.layers:
            # Nothing is held back once all input is taken: an empty feed checks that.
            data = self._through(layer, data) + self._through(layer, b"")
        return data

    def _through(self, layer: _ZlibLayer, data: bytes) -> bytes:
        room = self.limit - layer.produced
        try:
            output = layer.decode(data, room)
        except zlib.error:
            raise CheckFailed(
                f"{self.where}: the body is not valid {layer.name} data, though the answer "
                f"says it is (Content-Encoding: {self.header})."
            ) from None
        if len(output) > room:
            raise CheckFailed(
                f"{self.where}: the response was larger than {size(self.limit)} once decoded "
                f"(Content-Encoding: {self.header})."
            )
        return output


# Reading the answer within bounds --------------------------------------------------------------


class _Exchange:
    """One request and its answer: the time it may take and the bytes it has sent so far."""

    def __init__(self, where: str, seconds: float, max_body_bytes: int) -> None:
        self.where = where
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.max_body_bytes = max_body_bytes
        self.in_head = True
        self.head_bytes = 0
        self.heads = 0  # complete heads seen: each one before the real answer is a 1xx
        self.body_bytes = 0
        self.received = False
        self._tail = b""

    def time_left(self, timeout: float | None) -> float:
        """Return the timeout for the next read or write: `timeout`, or less if time is short."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.too_slow()
        return left if timeout is None else min(timeout, left)

    def too_slow(self) -> None:
        if self.received:
            raise CheckFailed(
                f"{self.where}: the answer took longer than {self.seconds:g} s in all"
            )
        raise CheckFailed(f"{self.where}: no answer within {self.seconds:g} s")

    def before_read(self) -> None:
        if not self.in_head:
            return
        if self.heads > MAX_INFORMATIONAL:
            raise CheckFailed(
                f"{self.where}: the app sent more than {MAX_INFORMATIONAL} informational (1xx) "
                "answers without a real one."
            )
        if self.head_bytes >= MAX_HEAD_BYTES:
            raise CheckFailed(
                f"{self.where}: the answer's status line and headers were larger than "
                f"{size(MAX_HEAD_BYTES)}."
            )

    def read_size(self, max_bytes: int) -> int:
        """Return how much the next read may take: in the head, no more than the head's bound."""
        if self.in_head:
            return min(max_bytes, MAX_HEAD_BYTES - self.head_bytes)
        return max_bytes

    def took(self, data: bytes) -> None:
        self.received = self.received or bool(data)
        if self.in_head:
            self.head_bytes += len(data)
            self.heads += len(_END_OF_HEAD.findall(self._tail + data))
            self._tail = data[-2:]

    def body(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)
        if self.body_bytes > self.max_body_bytes:
            raise CheckFailed(
                f"{self.where}: the response was larger than {size(self.max_body_bytes)}"
            )


class _BoundedStream(httpcore.NetworkStream):
    """A connection to the app whose reads and writes end by the current exchange's deadline."""

    def __init__(self, stream: httpcore.NetworkStream, backend: _BoundedBackend) -> None:
        self._stream = stream
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        exchange = self._backend.current()
        if exchange is None:
            return self._stream.read(max_bytes, timeout)
        exchange.before_read()
        left = exchange.time_left(timeout)
        try:
            data = self._stream.read(exchange.read_size(max_bytes), left)
        except httpcore.ReadTimeout:
            if timeout is None or left < timeout:
                exchange.too_slow()
            raise
        exchange.took(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        exchange = self._backend.current()
        if exchange is None:
            return self._stream.write(buffer, timeout)
        left = exchange.time_left(timeout)
        try:
            self._stream.write(buffer, left)
        except httpcore.WriteTimeout:
            if timeout is None or left < timeout:
                exchange.too_slow()
            raise

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise NotImplementedError("the app is reached over plain HTTP")

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, wrapped in _BoundedStream; knows each thread's current exchange."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()
        self._local = threading.local()

    def current(self) -> _Exchange | None:
        return getattr(self._local, "exchange", None)

    def begin(self, exchange: _Exchange | None) -> None:
        self._local.exchange = exchange

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        exchange = self.current()
        if exchange is not None:
            timeout = exchange.time_left(timeout)
        stream = self._backend.connect_unix_socket(path, timeout, socket_options)
        return _BoundedStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


# Recording what a test did ---------------------------------------------------------------------

# Of each body, only what a page may show is kept (sandbox.exchanges cuts the text further).
RECORDED_BODY_BYTES = 4 * exchanges.MAX_BODY_CHARS
MAX_EXCHANGES_PER_TEST = 5  # the first four and the last: a failing test's last is the one


def _raw_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw]


def _request_body(request: httpx.Request) -> tuple[bytes, int]:
    """Return the start of a request's body and its size.

    A body the test streams (a generator, a file) is sent as it comes and not recorded: reading
    it first would change what the test does. Its size is what Content-Length says, if it does.
    """
    if isinstance(request.stream, httpx.ByteStream):
        content = request.read()
        return content[:RECORDED_BODY_BYTES], len(content)
    length = request.headers.get("content-length", "")
    return b"", int(length) if length.isdigit() else 0


def _decoded(data: bytes, encodings: list[str]) -> bytes | None:
    """Return the start of a body with its gzip or deflate layers taken off, None if it cannot."""
    names = [name.strip().lower() for name in encodings]
    for name in reversed([name for name in names if name and name != "identity"]):
        if name not in ZLIB_ENCODINGS or len(names) > MAX_ENCODINGS:
            return None
        try:
            data = zlib.decompressobj(ZLIB_ENCODINGS[name]).decompress(data, RECORDED_BODY_BYTES)
        except zlib.error:
            if name != "deflate":
                return None
            try:
                data = zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, RECORDED_BODY_BYTES)
            except zlib.error:
                return None
    return data


class Recording:
    """One request sent to the app and what came back, filled in as the answer arrives."""

    def __init__(self, request: httpx.Request) -> None:
        self.started = time.monotonic()
        self.ended: float | None = None
        self.method = request.method
        self.path = request.url.raw_path.decode("ascii", "replace")
        self.request_headers = _raw_headers(request.headers)
        self.request_body, self.request_bytes = _request_body(request)
        self.status: int | None = None
        self.reason = ""
        self.response_headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.body_bytes = 0
        self.error = ""

    def answered(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.reason = bytes(response.extensions.get("reason_phrase", b"")).decode(
            "latin-1", "replace"
        )
        self.response_headers = _raw_headers(response.headers)

    def took(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)
        room = RECORDED_BODY_BYTES - len(self.body)
        if room > 0:
            self.body += chunk[:room]

    def end(self, error: str = "") -> None:
        if self.ended is None:
            self.ended = time.monotonic()
            self.error = error

    def exchange(self) -> dict[str, Any]:
        """Return it as an exchange (sandbox.exchanges), sizes as sent and received."""
        body = bytes(self.body)
        encodings = httpx.Headers(self.response_headers).get_list(
            "content-encoding", split_commas=True
        )
        decoded = _decoded(body, encodings) if encodings else body
        ended = self.ended if self.ended is not None else time.monotonic()
        recorded = exchanges.exchange(
            method=self.method,
            path=self.path,
            request_headers=self.request_headers,
            request_body=self.request_body,
            status=self.status,
            reason=self.reason,
            response_headers=self.response_headers,
            response_body=decoded if decoded is not None else b"",
            error=self.error,
            duration_ms=(ended - self.started) * 1000,
        )
        _sized(recorded["request"]["body"], self.request_bytes)
        if recorded["response"] is not None:
            if decoded is None:
                recorded["response"]["body"].update(kind="binary", text="", truncated=False)
            _sized(recorded["response"]["body"], self.body_bytes)
        return recorded


def _sized(body: dict[str, Any], size: int) -> None:
    """Say a body's real size when only its start was recorded."""
    if size > body["bytes"]:
        body.update(bytes=size, truncated=body["kind"] != "binary")


class ExchangeLog:
    """The requests one test sent: the first few and the last, and how many in all."""

    def __init__(self, keep: int = MAX_EXCHANGES_PER_TEST) -> None:
        self.keep = max(keep, 1)
        self.first: list[Recording] = []
        self.last: Recording | None = None
        self.count = 0
        self._lock = threading.Lock()  # a test may send requests from several threads

    def add(self, recording: Recording) -> None:
        with self._lock:
            self.count += 1
            if len(self.first) < self.keep - 1:
                self.first.append(recording)
            else:
                self.last = recording

    def kept(self) -> list[Recording]:
        with self._lock:
            return [*self.first, *([self.last] if self.last is not None else [])]

    @property
    def omitted(self) -> int:
        """How many requests were sent between the last two kept ones, not recorded."""
        return self.count - len(self.kept())


_log: ExchangeLog | None = None


def record_exchanges(log: ExchangeLog | None) -> None:
    """Record the requests sent from now on in `log` (None: record nothing)."""
    global _log
    _log = log


def _transport_error(exc: BaseException) -> str:
    if isinstance(exc, CheckFailed):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect to the app (did it crash?)"
    if isinstance(exc, httpx.RemoteProtocolError) and not (
        "disconnect" in str(exc) or "closed" in str(exc)
    ):
        return "the app's answer is not valid HTTP"
    return "the app closed the connection (did it crash?)"


class _BodyStream(httpx.SyncByteStream):
    """An answer's body as received, failing past the size limit."""

    def __init__(
        self,
        stream: httpx.SyncByteStream,
        exchange: _Exchange,
        backend: _BoundedBackend,
        recording: Recording | None = None,
    ):
        self._stream = stream
        self._exchange = exchange
        self._backend = backend
        self._recording = recording

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._stream)
        while True:
            # Reads on this thread now count for this answer (a test may hold several open).
            self._backend.begin(self._exchange)
            try:
                chunk = next(chunks, None)
                if chunk is not None:
                    self._exchange.body(chunk)
            except Exception as exc:
                if self._recording is not None:
                    self._recording.end(_transport_error(exc))
                raise
            if chunk is None:
                if self._recording is not None:
                    self._recording.end()
                return
            if self._recording is not None:
                self._recording.took(chunk)
            yield chunk

    def close(self) -> None:
        if self._recording is not None:
            self._recording.end()
        self._stream.close()


class AppTransport(httpx.HTTPTransport):
    """HTTP over the app's Unix socket, where every answer is read within the limits above."""

    def __init__(self, *, socket_path: str, timeout: float, max_body_bytes: int) -> None:
        # Plain HTTP over a Unix socket: TLS settings are never used, so skip loading CA files.
        super().__init__(uds=socket_path, verify=False)
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self._backend = _BoundedBackend()
        # httpx gives no way to choose httpcore's network backend: the same pool, over ours.
        self._pool = httpcore.ConnectionPool(
            uds=socket_path,
            network_backend=self._backend,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        log, recording = _log, None
        if log is not None:
            recording = Recording(request)
            log.add(recording)
        exchange = _Exchange(describe(request), self._seconds(request), self.max_body_bytes)
        self._backend.begin(exchange)
        try:
            response = super().handle_request(request)
        except Exception as exc:
            if recording is not None:
                recording.end(_transport_error(exc))
            raise
        exchange.in_head = False
        if recording is not None:
            recording.answered(response)
        bounded = AppResponse(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BodyStream(response.stream, exchange, self._backend, recording),
            extensions=response.extensions,
        )
        bounded.max_body_bytes = self.max_body_bytes
        return bounded

    def _seconds(self, request: httpx.Request) -> float:
        """Return how long the whole answer may take: the request's read timeout."""
        read = request.extensions.get("timeout", {}).get("read")
        # No timeout at all still ends: the harness must.
        return float(read) if read else self.timeout


class AppResponse(httpx.Response):
    """A response whose failures name the request that got it, decoded within bounds."""

    max_body_bytes = MAX_BODY_BYTES

    @property
    def where(self) -> str:
        try:
            return describe(self.request)
        except RuntimeError:  # not sent by a client
            return "the answer"

    def _get_content_decoder(self) -> BoundedDecoder:
        # httpx's own decoders inflate a chunk in one go, whatever it grows to.
        if not hasattr(self, "_decoder"):
            self._decoder = BoundedDecoder(
                self.headers.get_list("content-encoding", split_commas=True),
                limit=self.max_body_bytes,
                where=self.where,
            )
        return self._decoder

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except (ValueError, UnicodeDecodeError):
            kind = self.headers.get("content-type", "no content type")
            raise CheckFailed(
                f"{self.where}: expected a JSON body, got {kind}. Body: {excerpt(self)}"
            ) from None


class AppClient(httpx.Client):
    """An httpx client for the learner's app that turns transport errors into plain failures.

    It sends ``Accept-Encoding: identity`` unless given another, and reads each answer within
    the bounds in this module's docstring (``max_body_bytes`` changes the size limit).
    """

    def __init__(
        self,
        *,
        socket_path: str,
        timeout: float,
        max_body_bytes: int = MAX_BODY_BYTES,
        **kwargs: Any,
    ) -> None:
        transport = AppTransport(
            socket_path=socket_path, timeout=timeout, max_body_bytes=max_body_bytes
        )
        super().__init__(transport=transport, base_url=BASE_URL, timeout=timeout, **kwargs)
        if "accept-encoding" not in httpx.Headers(kwargs.get("headers")):
            self.headers["Accept-Encoding"] = "identity"
        self.request_timeout = timeout

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        where = describe(request)
        try:
            response = super().send(request, **kwargs)
        except httpx.TimeoutException:
            seconds = request.extensions.get("timeout", {}).get("read") or self.request_timeout
            raise CheckFailed(f"{where}: no answer within {seconds:g} s") from None
        except httpx.ConnectError:
            # Every test after this one fails the same way: they are shown as one cause.
            raise PreconditionFailed(
                f"{where}: could not connect to the app (did it crash?)",
                cause="your app no longer accepted connections (did it crash?)",
            ) from None
        except httpx.RemoteProtocolError as exc:
            if "disconnect" in str(exc) or "closed" in str(exc):
                raise CheckFailed(
                    f"{where}: the app closed the connection (did it crash?)"
                ) from None
            raise CheckFailed(f"{where}: the app's answer is not valid HTTP ({exc}).") from None
        except (httpx.ReadError, httpx.WriteError):
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
    text = text[:EXCERPT_SOURCE_CHARS]
    if "html" in response.headers.get("content-type", ""):
        # A page keeps its lines (a heading, then a paragraph), as a browser shows it.
        text = html_to_text(text, limit=limit)
    else:
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
                f"Body: {excerpt(response)}",
                cause=f"{where} answered {response.status_code}",
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


def check(condition: object, message: str, *, cause: str | None = None) -> None:
    """Fail the test with `message` (written for the learner) unless `condition` holds.

    `cause`: what went wrong in a few words (see CheckFailed), if not the message's first line.
    """
    if not condition:
        raise CheckFailed(message, cause=cause)


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
