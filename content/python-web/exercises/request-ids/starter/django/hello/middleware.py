"""Middleware: a request id and timing for every answer, and CORS for one frontend."""

import re
import time  # noqa: F401
import uuid  # noqa: F401  (uuid.uuid4().hex makes a good new id)

from django.http import HttpResponse  # noqa: F401
from django.utils.cache import patch_vary_headers  # noqa: F401

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # use it with VALID_ID.fullmatch(...)
ALLOWED_ORIGIN = "https://app.example.com"


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response  # called once, when the server starts

    def __call__(self, request):
        # TODO: choose the id and set request.request_id before calling the view; then add
        # X-Request-ID and Server-Timing to the response.
        response = self.get_response(request)
        return response


class CorsMiddleware:
    """A small CORS policy for one origin; a real project would use django-cors-headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # TODO: answer preflights (OPTIONS with Access-Control-Request-Method) yourself, and add
        # the CORS headers when the Origin is ALLOWED_ORIGIN.
        return self.get_response(request)
