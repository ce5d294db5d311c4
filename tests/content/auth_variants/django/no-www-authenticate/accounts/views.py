import json
import re
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Account, Token

USERNAME = re.compile(r"[A-Za-z0-9_]{3,30}")  # used with fullmatch: no "^...$" pitfalls
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
    return JsonResponse({"detail": detail}, status=401)


def token_of(request) -> Token | None:
    """Return the stored Token of an "Authorization: Bearer <token>" header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return Token.objects.select_related("account").filter(digest=Token.digest_of(token)).first()


# Programs send these requests with a token header, not a browser with a session cookie, so
# there is no CSRF token to check (see the lesson on CSRF).
@csrf_exempt
@require_POST
def register(request):
    try:
        username, password = read_credentials(request)
        if not USERNAME.fullmatch(username):
            raise Invalid("A username has 3 to 30 letters, digits or underscores.")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise Invalid(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    except Invalid as error:
        return JsonResponse({"detail": str(error)}, status=400)
    try:
        # atomic(): the failed INSERT is rolled back on its own, leaving the connection usable.
        with transaction.atomic():
            account = Account.objects.create(username=username, password=make_password(password))
    except IntegrityError:
        return JsonResponse({"detail": "That username is taken."}, status=409)
    return JsonResponse(account.as_dict(), status=201)


@csrf_exempt
@require_POST
def login(request):
    try:
        username, password = read_credentials(request)
    except Invalid as error:
        return JsonResponse({"detail": str(error)}, status=400)
    account = Account.objects.filter(username__iexact=username).first()
    if account is None:
        make_password(password)  # costs as long as a check, so a miss is not faster
    if account is None or not check_password(password, account.password):
        return unauthorized("Wrong username or password.")  # the same words for both
    token = secrets.token_urlsafe(32)  # 256 random bits, 43 characters
    Token.objects.create(digest=Token.digest_of(token), account=account)
    return JsonResponse({"token": token})


@require_GET
def me(request):
    token = token_of(request)
    if token is None:
        return unauthorized("Log in and send your token as: Authorization: Bearer <token>.")
    return JsonResponse(token.account.as_dict())


@csrf_exempt
@require_POST
def logout(request):
    token = token_of(request)
    if token is None:
        return unauthorized("Log in and send your token as: Authorization: Bearer <token>.")
    token.delete()  # only this token: other devices stay logged in
    return HttpResponse(status=204)
