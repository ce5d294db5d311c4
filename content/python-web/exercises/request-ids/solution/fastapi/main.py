"""Request ids, timing and CORS for a FastAPI app: middleware around it, a dependency inside."""

import logging
import re
import time
import uuid
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
log = logging.getLogger("requests")

app = FastAPI(title="Request ids")

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Middleware added later wraps what was added before. CORS goes in first, so that the request-id
# middleware below is the outermost layer and also stamps the preflight answers CORS makes.
app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],
    allow_methods=["GET", "POST"],
    allow_headers=["Content-Type", "X-Request-ID"],
    expose_headers=["X-Request-ID"],
    max_age=600,
)


@app.middleware("http")
async def request_id_and_timing(request: Request, call_next):
    started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    # Only trust an id that is short and plain: it ends up in headers and logs.
    request.state.request_id = incoming if VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
    response = await call_next(request)
    milliseconds = (time.perf_counter() - started) * 1000
    response.headers["X-Request-ID"] = request.state.request_id
    response.headers["Server-Timing"] = f"app;dur={milliseconds:.1f}"
    log.info(
        "%s %s -> %s in %.1f ms [%s]",
        request.method,
        request.url.path,
        response.status_code,
        milliseconds,
        request.state.request_id,
    )
    return response


def get_request_id(request: Request) -> str:
    """The id the middleware chose for this request."""
    return request.state.request_id


@app.get("/hello")
def hello(request_id: Annotated[str, Depends(get_request_id)]) -> dict:
    return {"message": "Hello!", "request_id": request_id}


@app.get("/slow")
def slow() -> dict:
    time.sleep(0.3)  # a plain def runs on a worker thread, so this does not block the others
    return {"message": "Done"}
