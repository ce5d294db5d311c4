"""HTTP tests for request ids, timing and CORS; the same tests grade Flask, Django and FastAPI.

Everything here is done around the views, in hooks or middleware, so the tests look at the
headers of every kind of answer: a normal one, a 404 and a CORS preflight.
"""

import re

import pytest
from grader import check, expect

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
FRONTEND = "https://app.example.com"
TIMING = re.compile(r"app;dur=(\d+(?:\.\d+)?)")


def where(r):
    return f"{r.request.method} {r.request.url.path}"


def request_id(r):
    """Return the X-Request-ID of an answer, checking that it is there and well formed."""
    value = r.headers.get("X-Request-ID")
    check(value is not None, f"{where(r)}: the answer has no X-Request-ID header")
    check(
        VALID_ID.fullmatch(value),
        f"{where(r)}: X-Request-ID must be 1 to 64 letters, digits, '-' or '_', got {value!r}",
    )
    return value


def header_items(r, name):
    """Return the comma-separated items of a header, lowercased (for names of headers)."""
    return {item.strip().lower() for item in r.headers.get(name, "").split(",") if item.strip()}


def preflight(client, origin=FRONTEND):
    return client.options(
        "/hello",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-request-id",
        },
    )


# Request ids ----------------------------------------------------------------------------


@pytest.mark.points(2)
def test_every_answer_gets_a_new_request_id(client):
    """Without X-Request-ID, each answer carries a new random id of at least 16 characters."""
    ids = [request_id(expect(client.get("/hello"), status=200)) for _ in range(3)]
    check(len(set(ids)) == 3, f"GET /hello: three requests got the ids {ids}; each needs its own")
    short = [i for i in ids if len(i) < 16]
    check(not short, f"GET /hello: a new id needs at least 16 characters, got {short}")


def test_the_view_sees_the_same_request_id(client):
    """GET /hello answers {"message": "Hello!", "request_id": <the X-Request-ID>}."""
    r = expect(client.get("/hello"), status=200)
    expect(r, json={"message": "Hello!", "request_id": request_id(r)})


@pytest.mark.points(2)
def test_a_valid_incoming_request_id_is_echoed(client):
    """A valid X-Request-ID sent by the client comes back unchanged, in the header and body."""
    for sent in ("checkout-42_retry-1", "A" * 64):
        r = expect(client.get("/hello", headers={"X-Request-ID": sent}), status=200)
        check(request_id(r) == sent, f"GET /hello: sent X-Request-ID {sent!r}, got {r.headers}")
        check(r.json().get("request_id") == sent, f"GET /hello: the body has {r.text[:200]}")


@pytest.mark.visibility("hidden")
def test_an_invalid_incoming_request_id_is_replaced(client):
    """An X-Request-ID that is too long or has other characters is replaced by a new one."""
    for sent in ("A" * 65, "has spaces", "<script>", "semi;colon", "dots.are.not.allowed"):
        r = expect(client.get("/hello", headers={"X-Request-ID": sent}), status=200)
        got = request_id(r)
        check(
            got != sent and len(got) >= 16,
            f"GET /hello: the invalid X-Request-ID {sent!r} must be replaced by a new id, "
            f"got {got!r}",
        )


def test_a_404_answer_has_a_request_id_too(client):
    """A path that does not exist answers 404, with an X-Request-ID like any answer."""
    request_id(expect(client.get("/no-such-page"), status=404))
    r = expect(client.get("/no-such-page", headers={"X-Request-ID": "lost-1"}), status=404)
    check(request_id(r) == "lost-1", f"GET /no-such-page: X-Request-ID was not echoed: {r.headers}")


# Timing ---------------------------------------------------------------------------------


def test_answers_report_their_duration(client):
    """Answers carry Server-Timing: app;dur=<milliseconds>."""
    for path, status in (("/hello", 200), ("/no-such-page", 404)):
        r = expect(client.get(path), status=status)
        value = r.headers.get("Server-Timing", "")
        check(
            TIMING.fullmatch(value),
            f"{where(r)}: expected a header like Server-Timing: app;dur=1.3, got {value!r}",
        )


@pytest.mark.visibility("hidden")
def test_the_duration_covers_the_view(client):
    """GET /slow takes 0.3 s in its view, and its Server-Timing says so."""
    r = expect(client.get("/slow"), status=200)
    match = TIMING.fullmatch(r.headers.get("Server-Timing", ""))
    check(match, f"GET /slow: expected Server-Timing: app;dur=<ms>, got {r.headers}")
    duration = float(match.group(1))
    check(
        300 <= duration < 5000,
        f"GET /slow: Server-Timing says {duration} ms, but the view alone sleeps 300 ms; "
        "measure in milliseconds, from before the view runs until after it returns",
    )


# CORS -----------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_cors_allows_the_frontend_origin(client):
    """A request from https://app.example.com gets Access-Control-Allow-Origin and Vary: Origin."""
    r = expect(client.get("/hello", headers={"Origin": FRONTEND}), status=200)
    expect(r, headers={"Access-Control-Allow-Origin": FRONTEND})
    check(
        "origin" in header_items(r, "Vary"),
        f"GET /hello: the answer depends on Origin, so it needs Vary: Origin; got "
        f"{r.headers.get('Vary')!r}",
    )


def test_cors_exposes_the_request_id(client):
    """Answers to the frontend list X-Request-ID in Access-Control-Expose-Headers."""
    r = expect(client.get("/hello", headers={"Origin": FRONTEND}), status=200)
    check(
        "x-request-id" in header_items(r, "Access-Control-Expose-Headers"),
        "GET /hello: without Access-Control-Expose-Headers: X-Request-ID the frontend's "
        f"JavaScript cannot read the id; got {r.headers.get('Access-Control-Expose-Headers')!r}",
    )


@pytest.mark.visibility("hidden")
def test_cors_ignores_other_origins(client):
    """Requests from any other origin get no Access-Control-Allow-Origin."""
    for origin in (
        "https://evil.example.com",
        "http://app.example.com",
        "https://app.example.com.evil.example",
        "null",
    ):
        r = client.get("/hello", headers={"Origin": origin})
        check(
            "Access-Control-Allow-Origin" not in r.headers,
            f"GET /hello from the origin {origin!r}: got Access-Control-Allow-Origin: "
            f"{r.headers.get('Access-Control-Allow-Origin')!r}; only {FRONTEND} is allowed",
        )


@pytest.mark.points(2)
def test_a_preflight_from_the_frontend_is_allowed(client):
    """OPTIONS /hello from the frontend answers 200 or 204 with the CORS headers it asks for."""
    r = expect(preflight(client), status=(200, 204))
    expect(r, headers={"Access-Control-Allow-Origin": FRONTEND, "Access-Control-Max-Age": "600"})
    check(
        "get" in header_items(r, "Access-Control-Allow-Methods"),
        f"OPTIONS /hello: Access-Control-Allow-Methods must include GET, got "
        f"{r.headers.get('Access-Control-Allow-Methods')!r}",
    )
    check(
        "x-request-id" in header_items(r, "Access-Control-Allow-Headers"),
        f"OPTIONS /hello: Access-Control-Allow-Headers must include X-Request-ID, got "
        f"{r.headers.get('Access-Control-Allow-Headers')!r}",
    )


@pytest.mark.visibility("hidden")
def test_a_preflight_from_another_origin_is_not_allowed(client):
    """OPTIONS /hello from another origin gets no Access-Control-Allow-Origin."""
    r = preflight(client, "https://evil.example.com")
    check(
        "Access-Control-Allow-Origin" not in r.headers,
        f"OPTIONS /hello from https://evil.example.com: got Access-Control-Allow-Origin: "
        f"{r.headers.get('Access-Control-Allow-Origin')!r}",
    )


@pytest.mark.visibility("hidden")
def test_a_preflight_answer_has_a_request_id_too(client):
    """The answer to a CORS preflight carries an X-Request-ID and Server-Timing as well."""
    r = preflight(client)
    request_id(r)
    check(
        TIMING.fullmatch(r.headers.get("Server-Timing", "")),
        f"OPTIONS /hello: expected Server-Timing: app;dur=<ms>, got {r.headers}",
    )
