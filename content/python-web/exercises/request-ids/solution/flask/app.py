"""Request ids, timing and CORS for a Flask app, done in before_request and after_request hooks."""

import logging
import re
import time
import uuid

from flask import Flask, g, request

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
log = logging.getLogger("requests")

app = Flask(__name__)

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
ALLOWED_ORIGIN = "https://app.example.com"


@app.before_request
def start_request():
    incoming = request.headers.get("X-Request-ID", "")
    # Only trust an id that is short and plain: it ends up in headers and logs.
    g.request_id = incoming if VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()


@app.after_request
def finish_request(response):
    # Runs for every answer that Flask makes: views, 404s and the automatic OPTIONS answer.
    milliseconds = (time.perf_counter() - g.started) * 1000
    response.headers["X-Request-ID"] = g.request_id
    response.headers["Server-Timing"] = f"app;dur={milliseconds:.1f}"
    add_cors_headers(response)
    log.info(
        "%s %s -> %s in %.1f ms [%s]",
        request.method,
        request.path,
        response.status_code,
        milliseconds,
        g.request_id,
    )
    return response


def add_cors_headers(response):
    response.vary.add("Origin")  # the answer differs by Origin: caches must keep them apart
    if request.headers.get("Origin") != ALLOWED_ORIGIN:
        return
    response.headers["Access-Control-Allow-Origin"] = ALLOWED_ORIGIN
    response.headers["Access-Control-Expose-Headers"] = "X-Request-ID"
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Request-ID"
        response.headers["Access-Control-Max-Age"] = "600"


@app.get("/hello")
def hello():
    return {"message": "Hello!", "request_id": g.request_id}


@app.get("/slow")
def slow():
    time.sleep(0.3)
    return {"message": "Done"}
