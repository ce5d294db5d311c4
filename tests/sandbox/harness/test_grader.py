from __future__ import annotations

import contextlib
import gc
import gzip
import os
import shutil
import socket
import tempfile
import threading
import time
import tracemalloc
import zlib

import httpx
import pytest

from sandbox import exchanges
from sandbox.harness.grader import (
    RECORDED_BODY_BYTES,
    AppClient,
    AppResponse,
    AppTransport,
    BoundedDecoder,
    CheckFailed,
    ExchangeLog,
    check,
    excerpt,
    expect,
    parse_html,
    record_exchanges,
)
from tests.sandbox.harness.bombs import MiB, gzip_twice, gzip_zeros

PAGE = """<!doctype html>
<html><head><title>Shelf</title><meta charset="utf-8"></head>
<body>
  <ul id="books" class="shelf wide">
    <li class="book">Dune<br>Frank   Herbert</li>
    <li class="book read">Emma</li>
  </ul>
  <p>Stray end tag</span> and <img src="a.png"> an image
</body></html>"""


def test_it_finds_elements_by_tag_class_and_attribute():
    doc = parse_html(PAGE)

    assert doc.find("ul", id="books") is not None
    assert doc.find("ul", cls="wide").attrs["id"] == "books"
    assert [li.text() for li in doc.find_all("li", cls="book")] == ["Dune Frank Herbert", "Emma"]
    assert [li.text() for li in doc.find_all("li", cls="read")] == ["Emma"]
    assert doc.find("table") is None


def test_void_elements_and_stray_end_tags_do_not_swallow_what_follows():
    doc = parse_html(PAGE)

    paragraph = doc.find("p")
    assert paragraph.text() == "Stray end tag and an image"
    assert paragraph.find("img").attrs == {"src": "a.png"}
    assert doc.find("title").text() == "Shelf"


def test_check_fails_with_the_learners_message():
    check(True, "never shown")
    with pytest.raises(CheckFailed, match="the page has no <ul id=books>"):
        check(False, "the page has no <ul id=books>")


# Decoding within bounds ------------------------------------------------------------------------


def decode_all(decoder: BoundedDecoder, body: bytes, chunk: int = 64 * 1024) -> bytes:
    """Feed a body to a decoder the way httpx does, a network read at a time."""
    parts = [decoder.decode(body[i : i + chunk]) for i in range(0, len(body), chunk)]
    return b"".join(parts) + decoder.flush()


def peak_python_bytes(action) -> int:
    """Return the most memory Python objects held at once while `action()` ran."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gzip_and_deflate_bodies_are_decoded():
    text = b"Hello, ada! " * 1000
    cases = {
        ("gzip",): gzip.compress(text),
        ("x-gzip",): gzip.compress(text),
        ("deflate",): zlib.compress(text),
        ("gzip", "gzip"): gzip.compress(gzip.compress(text)),
        ("identity",): text,
        (): text,
    }
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    cases[("deflate ",)] = raw_deflate.compress(text) + raw_deflate.flush()
    for encodings, body in cases.items():
        decoder = BoundedDecoder(list(encodings), limit=MiB, where="GET /")
        assert decode_all(decoder, body) == text, encodings


def test_a_body_of_exactly_the_limit_is_decoded():
    decoder = BoundedDecoder(["gzip"], limit=MiB, where="GET /")
    assert decode_all(decoder, gzip_zeros(MiB)) == bytes(MiB)


def test_a_gzip_bomb_fails_at_the_limit_holding_little_memory():
    bomb = gzip_zeros(256 * MiB)
    decoder = BoundedDecoder(["gzip"], limit=MiB, where="GET /")

    def decode():
        with pytest.raises(CheckFailed) as failure:
            decode_all(decoder, bomb)
        assert str(failure.value) == (
            "GET /: the response was larger than 1 MiB once decoded (Content-Encoding: gzip)."
        )

    assert peak_python_bytes(decode) < 4 * MiB


def test_stacked_encodings_are_each_bounded():
    # 4.9 KB that decode to 2 GiB: httpx's own decoders would hold it all at once.
    bomb = gzip_twice(2048 * MiB)
    decoder = BoundedDecoder(["gzip", "gzip"], limit=MiB, where="GET /")
    started = time.monotonic()

    def decode():
        with pytest.raises(CheckFailed, match=r"larger than 1 MiB once decoded \(Content-Enc"):
            decode_all(decoder, bomb)

    assert peak_python_bytes(decode) < 4 * MiB
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("encodings", "message"),
    [
        (["br"], r"encoded as 'br' \(Content-Encoding\), which the grader does not decode"),
        (["gzip", "compress"], r"encoded as 'compress'"),
        (["gzip"] * 4, r"encoded 4 times over .*the grader decodes at most 3 layers"),
    ],
)
def test_encodings_that_cannot_be_decoded_within_bounds_fail(encodings, message):
    with pytest.raises(CheckFailed, match=r"^GET /: the answer is " + message):
        BoundedDecoder(encodings, limit=MiB, where="GET /")


def test_a_body_that_is_not_what_its_encoding_says_fails():
    decoder = BoundedDecoder(["gzip"], limit=MiB, where="GET /")
    with pytest.raises(CheckFailed, match=r"^GET /: the body is not valid gzip data"):
        decode_all(decoder, b"plain text, not gzip")


# The client against hostile answers -----------------------------------------------------------


@pytest.fixture
def app_socket():
    """Serve raw bytes on a Unix socket: `app_socket(behaviour)` returns the socket's path.

    `behaviour(connection)` runs for each connection once the request's head is read; the
    heads read are in `app_socket.requests`.
    """
    folder = tempfile.mkdtemp(prefix="wc-")
    path = os.path.join(folder, "app.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(8)

    def serve(behaviour):
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with connection:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += connection.recv(65536)
                start.requests.append(head)
                with contextlib.suppress(OSError):
                    behaviour(connection)

    def start(behaviour) -> str:
        threading.Thread(target=serve, args=(behaviour,), daemon=True).start()
        return path

    start.requests = []
    yield start
    listener.close()
    shutil.rmtree(folder, ignore_errors=True)


def answer_with(status: str = "200 OK", headers: str = "", body: bytes = b"") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
    return head.encode() + body


def get(path: str, url: str = "/", timeout: float = 1, **kwargs) -> httpx.Response:
    with AppClient(socket_path=path, timeout=timeout) as client:
        return client.get(url, **kwargs)


def test_the_client_asks_for_unencoded_answers_unless_a_test_asks_otherwise(app_socket):
    path = app_socket(lambda c: c.sendall(answer_with(body=b"ok")))
    assert get(path).text == "ok"
    get(path, headers={"Accept-Encoding": "gzip"})
    first, second = (head.lower() for head in app_socket.requests)
    assert b"\r\naccept-encoding: identity\r\n" in first
    assert b"\r\naccept-encoding: gzip\r\n" in second


def test_a_gzip_answer_sent_anyway_reads_as_before(app_socket):
    body = gzip.compress(b'{"message": "Hello, ada!"}')
    headers = "Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
    response = get(app_socket(lambda c: c.sendall(answer_with(headers=headers, body=body))))
    assert isinstance(response, AppResponse)
    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"message": "Hello, ada!"}
    expect(response, status=200, json={"message": "Hello, ada!"}, content_type="application/json")


def test_a_gzip_bomb_fails_the_test(app_socket):
    bomb = gzip_twice(2048 * MiB)
    headers = "Content-Encoding: gzip, gzip\r\n"
    path = app_socket(lambda c: c.sendall(answer_with(headers=headers, body=bomb)))
    with pytest.raises(CheckFailed) as failure:
        get(path)
    assert str(failure.value) == (
        "GET /: the response was larger than 1 MiB once decoded (Content-Encoding: gzip, gzip)."
    )


def endless(connection):
    connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"x" * 64 * 1024)
    while True:
        connection.sendall(chunk)


def test_an_endless_body_fails_past_the_size_limit(app_socket):
    with pytest.raises(CheckFailed) as failure:
        get(app_socket(endless))
    assert str(failure.value) == "GET /: the response was larger than 1 MiB"


def test_a_streamed_read_is_bounded_too(app_socket):
    too_large = r"^GET /big: the response was larger than 1 MiB"
    with (
        AppClient(socket_path=app_socket(endless), timeout=1) as client,
        client.stream("GET", "/big") as response,
        pytest.raises(CheckFailed, match=too_large),
    ):
        for _ in response.iter_bytes():
            pass


def drip(head: bytes, rest: bytes, pause: float = 0.2):
    """Send `head` at once, then `rest` a byte at a time."""

    def behaviour(connection):
        connection.sendall(head)
        for byte in rest:
            connection.sendall(bytes([byte]))
            time.sleep(pause)

    return behaviour


@pytest.mark.parametrize(
    ("head", "rest"),
    [
        (b"", b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 100),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"x" * 100),
    ],
    ids=["headers", "body"],
)
def test_an_answer_dripped_byte_by_byte_fails_at_the_request_timeout(app_socket, head, rest):
    started = time.monotonic()
    with pytest.raises(CheckFailed) as failure:
        get(app_socket(drip(head, rest)), timeout=1)
    assert str(failure.value) == "GET /: the answer took longer than 1 s in all"
    assert time.monotonic() - started < 1.5


def test_endless_informational_answers_fail(app_socket):
    def behaviour(connection):
        while True:
            connection.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")

    with pytest.raises(CheckFailed) as failure:
        get(app_socket(behaviour))
    assert str(failure.value) == (
        "GET /: the app sent more than 16 informational (1xx) answers without a real one."
    )


def test_a_few_informational_answers_are_fine(app_socket):
    informational = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" * 3
    path = app_socket(lambda c: c.sendall(informational + answer_with(body=b"ok")))
    assert get(path).text == "ok"


def test_huge_headers_fail(app_socket):
    def behaviour(connection):
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        while True:
            connection.sendall(b"X-Filler: " + b"x" * 1000 + b"\r\n")

    with pytest.raises(CheckFailed) as failure:
        get(app_socket(behaviour))
    assert str(failure.value) == (
        "GET /: the answer's status line and headers were larger than 32 KiB."
    )


def test_the_head_bound_holds_however_the_bytes_arrive(app_socket):
    # Sent at once, a 40 KiB head arrives in one read as often as not: refused all the same.
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"x" * (40 * 1024) + b"\r\n"
    path = app_socket(lambda c: c.sendall(head + b"Content-Length: 2\r\n\r\nok"))
    with pytest.raises(CheckFailed) as failure:
        get(path)
    assert str(failure.value) == (
        "GET /: the answer's status line and headers were larger than 32 KiB."
    )


def test_a_head_just_within_the_bound_is_read(app_socket):
    filler = "X-Filler: " + "x" * (31 * 1024) + "\r\n"
    path = app_socket(lambda c: c.sendall(answer_with(headers=filler, body=b"ok")))
    assert get(path).text == "ok"


def test_an_answer_that_breaks_http_says_so(app_socket):
    with pytest.raises(CheckFailed, match=r"^GET /: the app's answer is not valid HTTP"):
        get(app_socket(lambda c: c.sendall(b"SMTP ready\r\n\r\n")))


def test_an_excerpt_of_a_hostile_page_is_quick():
    page = b"<script" * 150_000 + b"<" * 1_000_000
    response = httpx.Response(200, content=page, headers={"content-type": "text/html"})
    started = time.monotonic()
    assert excerpt(response) == "(empty)"
    assert time.monotonic() - started < 1


# Recording what a test did --------------------------------------------------------------------


@pytest.fixture
def log():
    """Record the requests sent during the test in an ExchangeLog, as the plugin does."""
    recorded = ExchangeLog()
    record_exchanges(recorded)
    yield recorded
    record_exchanges(None)


def recorded(log: ExchangeLog) -> list[dict]:
    return [recording.exchange() for recording in log.kept()]


def test_a_request_and_its_answer_are_recorded(app_socket, log):
    headers = "Content-Type: application/json\r\nX-Trace: 7\r\n"
    path = app_socket(lambda c: c.sendall(answer_with("201 Created", headers, b'{"id":1}')))
    with AppClient(socket_path=path, timeout=1) as client:
        client.post("/notes?draft=1", json={"text": "hi"}, headers={"X-Learner": "ada"})

    (exchange,) = recorded(log)
    request, response = exchange["request"], exchange["response"]
    assert (request["method"], request["path"]) == ("POST", "/notes?draft=1")
    assert ["X-Learner", "ada"] in request["headers"]
    assert request["body"] == {
        "text": '{\n  "text": "hi"\n}',
        "kind": "json",
        "bytes": 13,
        "truncated": False,
    }
    assert (response["status"], response["reason"]) == (201, "Created")
    assert ["X-Trace", "7"] in response["headers"]
    assert response["body"]["text"] == '{\n  "id": 1\n}'
    assert exchange["error"] == ""
    assert 0 <= exchange["duration_ms"] < 1000
    assert exchanges.exchange_from_data(exchange) == exchange


def test_a_test_keeps_its_first_four_requests_and_its_last(app_socket, log):
    answer = answer_with(headers="Connection: close\r\n", body=b"ok")
    path = app_socket(lambda c: c.sendall(answer))
    with AppClient(socket_path=path, timeout=1) as client:
        for number in range(12):
            client.get(f"/page/{number}")

    paths = [exchange["request"]["path"] for exchange in recorded(log)]
    assert paths == ["/page/0", "/page/1", "/page/2", "/page/3", "/page/11"]
    assert (log.count, log.omitted) == (12, 7)


def test_a_large_body_is_recorded_by_its_start_and_its_size(app_socket, log):
    body = b"x" * (MiB - 10)
    path = app_socket(lambda c: c.sendall(answer_with(body=body)))
    with AppClient(socket_path=path, timeout=2) as client:
        client.get("/big")

    (recording,) = log.kept()
    assert len(recording.body) == RECORDED_BODY_BYTES
    shown = recording.exchange()["response"]["body"]
    assert len(shown["text"]) == exchanges.MAX_BODY_CHARS
    assert (shown["bytes"], shown["truncated"]) == (MiB - 10, True)


def test_a_body_past_the_limit_is_recorded_with_the_failure(app_socket, log):
    def endless(connection):
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n")
        while True:
            connection.sendall(b"y" * 65536)

    with pytest.raises(CheckFailed):
        get(app_socket(endless), "/endless")

    (exchange,) = recorded(log)
    assert exchange["response"]["status"] == 200
    assert "larger than 1 MiB" in exchange["error"]
    assert exchange["response"]["body"]["truncated"] is True
    assert len(exchange["response"]["body"]["text"]) == exchanges.MAX_BODY_CHARS


def test_a_gzip_body_is_recorded_decoded(app_socket, log):
    body = gzip.compress(b"Hello, gzip!")
    headers = "Content-Encoding: gzip\r\nContent-Type: text/plain\r\n"
    get(app_socket(lambda c: c.sendall(answer_with(headers=headers, body=body))))

    (exchange,) = recorded(log)
    assert exchange["response"]["body"]["text"] == "Hello, gzip!"


def test_a_body_that_cannot_be_decoded_is_described_not_shown(app_socket, log):
    headers = "Content-Encoding: br\r\n"
    with pytest.raises(CheckFailed):
        get(app_socket(lambda c: c.sendall(answer_with(headers=headers, body=b"\x8b\x00junk"))))

    (exchange,) = recorded(log)
    assert exchange["response"]["body"]["kind"] == "binary"
    assert exchange["response"]["body"]["text"] == ""


def test_hostile_bytes_in_a_body_are_recorded_as_text_of_bounded_size(app_socket, log):
    body = b"\xff\xfe\x1b[2J\x00bell\x07" * 10_000
    get(app_socket(lambda c: c.sendall(answer_with(body=body))))

    (exchange,) = recorded(log)
    assert exchange["response"]["body"]["kind"] == "binary"  # a NUL near the start
    assert exchange["response"]["body"]["bytes"] == len(body)


def test_text_that_is_not_utf8_is_recorded_with_replacement_characters(app_socket, log):
    text_body = b"caf\xe9 \x1b[31mred\x1b[0m\r\n" * 1000
    get(app_socket(lambda c: c.sendall(answer_with(body=text_body))), "/text")
    shown = recorded(log)[0]["response"]["body"]
    assert shown["kind"] == "text" and "\ufffd" in shown["text"]
    assert len(shown["text"]) <= exchanges.MAX_BODY_CHARS


def test_a_request_without_an_answer_is_recorded_with_why(app_socket, log):
    path = app_socket(lambda c: time.sleep(1.5))
    with pytest.raises(CheckFailed, match=r"no answer within 0\.3 s"):
        get(path, "/slow", timeout=0.3)

    (exchange,) = recorded(log)
    assert exchange["response"] is None
    assert "no answer within 0.3 s" in exchange["error"]
    assert exchange["request"]["path"] == "/slow"


def test_a_streamed_answer_is_recorded_as_far_as_the_test_read_it(app_socket, log):
    path = app_socket(lambda c: c.sendall(answer_with(body=b"a" * 100_000)))
    with AppClient(socket_path=path, timeout=1) as client, client.stream("GET", "/s") as response:
        next(response.iter_raw(1000))

    (exchange,) = recorded(log)
    assert exchange["response"]["status"] == 200
    assert 0 < exchange["response"]["body"]["bytes"] <= 100_000
    assert exchange["duration_ms"] is not None


def test_nothing_is_recorded_without_a_log(app_socket):
    quiet = ExchangeLog()
    path = app_socket(lambda c: c.sendall(answer_with(body=b"ok")))
    get(path)
    assert quiet.count == 0 and quiet.kept() == []


def test_a_test_s_own_client_is_recorded_too(app_socket, log):
    path = app_socket(lambda c: c.sendall(answer_with(body=b"ok")))
    transport = AppTransport(socket_path=path, timeout=1, max_body_bytes=MiB)
    with httpx.Client(transport=transport, base_url="http://localhost") as own:
        own.get("/own")
    assert [exchange["request"]["path"] for exchange in recorded(log)] == ["/own"]


def test_a_streamed_upload_is_sent_as_it_comes_and_recorded_by_its_size(app_socket, log):
    sent = []

    def upload():
        for part in (b"one ", b"two"):
            sent.append(part)
            yield part

    def answer_once_all_is_read(connection):
        data = app_socket.requests[-1]
        while not data.endswith(b"one two"):
            data += connection.recv(100)
        connection.sendall(answer_with(body=b"ok"))

    path = app_socket(answer_once_all_is_read)
    with AppClient(socket_path=path, timeout=1) as client:
        client.post("/upload", content=upload(), headers={"Content-Length": "7"})

    (exchange,) = recorded(log)
    assert sent == [b"one ", b"two"]
    assert exchange["request"]["body"]["bytes"] == 7
    assert exchange["request"]["body"]["text"] == ""


def test_many_large_answers_leave_only_the_kept_starts_in_memory(app_socket, log):
    body = b"m" * (512 * 1024)
    answer = answer_with(headers="Connection: close\r\n", body=body)
    path = app_socket(lambda c: c.sendall(answer))

    def send_many():
        with AppClient(socket_path=path, timeout=2) as client:
            for _ in range(200):
                client.get("/big")

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        send_many()
        gc.collect()  # answers wait in reference cycles until the collector runs
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    assert log.count == 200 and len(log.kept()) == 5
    assert all(len(recording.body) == RECORDED_BODY_BYTES for recording in log.kept())
    # What stays is the five kept starts of 32 KiB (and an answer httpx has yet to let go of),
    # not 200 answers of 512 KiB (100 MiB).
    assert held < MiB
