"""Middleware: a request id and timing for every answer, and CORS for one frontend."""

import logging
import re
import time
import uuid

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

log = logging.getLogger("requests")

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
ALLOWED_ORIGIN = "https://app.example.com"


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response  # called once, when the server starts

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        # Only trust an id that is short and plain: it ends up in headers and logs.
        request.request_id = incoming if VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
        response = self.get_response(request)  # the rest of the middleware, then the view
        milliseconds = (time.perf_counter() - started) * 1000
        response["X-Request-ID"] = request.request_id
        response["Server-Timing"] = f"app;dur={milliseconds:.1f}"
        log.info(
            "%s %s -> %s in %.1f ms [%s]",
            request.method,
            request.path,
            response.status_code,
            milliseconds,
            request.request_id,
        )
        return response


class CorsMiddleware:
    """A small CORS policy for one origin; a real project would use django-cors-headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = request.headers.get("Origin")
        preflight = (
            request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        )
        # Answer a preflight here: the views only know GET and would say 405.
        response = HttpResponse(status=204) if preflight else self.get_response(request)
        patch_vary_headers(response, ["Origin"])
        if origin == ALLOWED_ORIGIN:
            response["Access-Control-Allow-Origin"] = ALLOWED_ORIGIN
            response["Access-Control-Expose-Headers"] = "X-Request-ID"
            if preflight:
                response["Access-Control-Allow-Methods"] = "GET, POST"
                response["Access-Control-Allow-Headers"] = "Content-Type, X-Request-ID"
                response["Access-Control-Max-Age"] = "600"
        return response
