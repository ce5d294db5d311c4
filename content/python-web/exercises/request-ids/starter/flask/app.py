"""Request ids, timing and CORS for a Flask app, done in before_request and after_request hooks."""

import re
import time
import uuid  # noqa: F401  (uuid.uuid4().hex makes a good new id)

from flask import Flask, g, request  # noqa: F401

app = Flask(__name__)

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # use it with VALID_ID.fullmatch(...)
ALLOWED_ORIGIN = "https://app.example.com"


@app.before_request
def start_request():
    # TODO: choose the request id (the incoming X-Request-ID if valid, else a new one) and
    # remember it and the start time on `g`.
    pass


@app.after_request
def finish_request(response):
    # TODO: add X-Request-ID, Server-Timing and the CORS headers to every answer.
    return response


@app.get("/hello")
def hello():
    return {"message": "Hello!", "request_id": g.get("request_id")}


@app.get("/slow")
def slow():
    time.sleep(0.3)
    return {"message": "Done"}
