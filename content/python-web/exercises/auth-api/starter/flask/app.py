"""A token authentication API in Flask; users and tokens live in memory."""

import hashlib
import re
import secrets  # noqa: F401  (secrets.token_urlsafe makes good tokens)
import threading
from itertools import count

from flask import Flask, request
from werkzeug.security import check_password_hash, generate_password_hash  # noqa: F401

app = Flask(__name__)

USERNAME = re.compile(r"[A-Za-z0-9_]{3,30}")  # use it with USERNAME.fullmatch(...)
MIN_PASSWORD_LENGTH = 8

USERS: dict[int, dict] = {}  # id -> {"id", "username", "password_hash"}
IDS_BY_NAME: dict[str, int] = {}  # lowercased username -> id
TOKENS: dict[str, int] = {}  # SHA-256 of a token -> user id
ids = count(1)  # next(ids) gives 1, 2, 3...
lock = threading.Lock()  # gunicorn answers several requests at once, on threads


class Invalid(Exception):
    """The request body breaks the rules; answered with 400."""


class NotAuthenticated(Exception):
    """No valid token, or wrong credentials; answered with 401."""


@app.errorhandler(Invalid)
def invalid(error):
    return {"detail": str(error)}, 400


@app.errorhandler(NotAuthenticated)
def not_authenticated(error):
    return {"detail": str(error)}, 401, {"WWW-Authenticate": "Bearer"}


def public(user: dict) -> dict:
    """Return what may be shown of a user: never the password hash."""
    return {"id": user["id"], "username": user["username"]}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_credentials() -> tuple[str, str]:
    """Return (username, password) from the JSON body, or raise Invalid."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object with a username and a password.")
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise Invalid("The username and the password must both be strings.")
    return username, password


def bearer_token() -> str | None:
    """Return the token of an "Authorization: Bearer <token>" header, or None."""
    # TODO: read request.headers.get("Authorization", ""); anything but "Bearer <token>" is None.
    return None


def not_done_yet():
    return {"detail": "Not implemented yet"}, 501


@app.post("/register")
def register():
    # TODO: check the username and password, hash the password, refuse a taken name with 409,
    # answer 201 with public(user).
    return not_done_yet()


@app.post("/login")
def login():
    # TODO: check the password against the stored hash; answer {"token": ...} or 401.
    return not_done_yet()


@app.get("/me")
def me():
    # TODO: find the user of the bearer token, or raise NotAuthenticated.
    return not_done_yet()


@app.post("/logout")
def logout():
    # TODO: forget this one token and answer 204 with an empty body.
    return not_done_yet()
