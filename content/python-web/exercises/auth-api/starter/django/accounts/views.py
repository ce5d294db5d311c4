import json
import re
import secrets  # noqa: F401  (secrets.token_urlsafe makes good tokens)

from django.contrib.auth.hashers import check_password, make_password  # noqa: F401
from django.db import IntegrityError, transaction  # noqa: F401
from django.http import HttpResponse, JsonResponse  # noqa: F401
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Account, Token  # noqa: F401

USERNAME = re.compile(r"[A-Za-z0-9_]{3,30}")  # use it with USERNAME.fullmatch(...)
MIN_PASSWORD_LENGTH = 8


class Invalid(Exception):
    """The request body breaks the rules; answered with 400."""


def read_credentials(request) -> tuple[str, str]:
    """Return (username, password) from the JSON body, or raise Invalid."""
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("Send a JSON object with a username and a password.") from None
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object with a username and a password.")
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise Invalid("The username and the password must both be strings.")
    return username, password


def unauthorized(detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def token_of(request) -> Token | None:
    """Return the stored Token of an "Authorization: Bearer <token>" header, or None."""
    # TODO: parse request.headers.get("Authorization", ""), then look the token's digest up.
    return None


def not_done_yet():
    return JsonResponse({"detail": "Not implemented yet"}, status=501)


# Programs send these requests with a token header, not a browser with a session cookie, so
# there is no CSRF token to check.
@csrf_exempt
@require_POST
def register(request):
    # TODO: check the body, create the Account with make_password(), 409 if the name is taken.
    return not_done_yet()


@csrf_exempt
@require_POST
def login(request):
    # TODO: check_password() against the account's hash; answer {"token": ...} or 401.
    return not_done_yet()


@require_GET
def me(request):
    # TODO: answer the account of the token, or unauthorized(...).
    return not_done_yet()


@csrf_exempt
@require_POST
def logout(request):
    # TODO: delete this one token and answer 204.
    return not_done_yet()
