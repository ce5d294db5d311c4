"""Request ids, timing and CORS for a FastAPI app: middleware around it, a dependency inside."""

import re
import time
import uuid  # noqa: F401  (uuid.uuid4().hex makes a good new id)
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware  # noqa: F401

app = FastAPI(title="Request ids")

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # use it with VALID_ID.fullmatch(...)

# TODO: add CORSMiddleware for https://app.example.com, then an @app.middleware("http")
# function that chooses the request id, keeps it in request.state and stamps the answer.


def get_request_id(request: Request) -> str | None:
    """The id the middleware chose for this request."""
    return getattr(request.state, "request_id", None)


@app.get("/hello")
def hello(request_id: Annotated[str | None, Depends(get_request_id)]) -> dict:
    return {"message": "Hello!", "request_id": request_id}


@app.get("/slow")
def slow() -> dict:
    time.sleep(0.3)  # a plain def runs on a worker thread, so this does not block the others
    return {"message": "Done"}
