"""A token authentication API in Flask; users and tokens live in memory."""

import hashlib
import re
import secrets
import threading
from itertools import count

from flask import Flask, request
from werkzeug.security import check_password_hash, generate_password_hash

app = Flask(__name__)

USERNAME = re.compile(r"[A-Za-z0-9_]{3,30}")  # used with fullmatch: no "^...$" pitfalls
MIN_PASSWORD_LENGTH = 8
# Checked when the username is unknown, so that a miss costs as much time as a wrong password.
DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))

USERS: dict[int, dict] = {}  # id -> {"id", "username", "password_hash"}
IDS_BY_NAME: dict[str, int] = {}  # lowercased username -> id: one name, whatever its case
TOKENS: dict[str, int] = {}  # SHA-256 of a token -> user id; the tokens themselves are not kept
ids = count(1)
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
    return {"id": user["id"], "username": user["username"], "password_hash": user["password_hash"]}


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
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def current_user(token: str | None) -> dict:
    with lock:
        user_id = TOKENS.get(digest(token)) if token else None
        if user_id is None:
            raise NotAuthenticated("Log in and send your token as: Authorization: Bearer <token>.")
        return USERS[user_id]


@app.post("/register")
def register():
    username, password = read_credentials()
    if not USERNAME.fullmatch(username):
        raise Invalid("A username has 3 to 30 letters, digits or underscores.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    password_hash = generate_password_hash(password)  # slow on purpose, so outside the lock
    with lock:
        if username.lower() in IDS_BY_NAME:
            return {"detail": "That username is taken."}, 409
        user = {"id": next(ids), "username": username, "password_hash": password_hash}
        USERS[user["id"]] = user
        IDS_BY_NAME[username.lower()] = user["id"]
    return public(user), 201


@app.post("/login")
def login():
    username, password = read_credentials()
    with lock:
        user_id = IDS_BY_NAME.get(username.lower())
        user = USERS.get(user_id) if user_id is not None else None
    password_ok = check_password_hash(user["password_hash"] if user else DUMMY_HASH, password)
    if user is None or not password_ok:
        raise NotAuthenticated("Wrong username or password.")  # the same words for both
    token = secrets.token_urlsafe(32)  # 256 random bits, 43 characters
    with lock:
        TOKENS[digest(token)] = user["id"]
    return {"token": token}


@app.get("/me")
def me():
    return public(current_user(bearer_token()))


@app.post("/logout")
def logout():
    token = bearer_token()
    current_user(token)  # 401 unless the token is valid
    with lock:
        TOKENS.pop(digest(token), None)  # only this token: other devices stay logged in
    return "", 204
