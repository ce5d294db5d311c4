"""A token authentication API in FastAPI; users and tokens live in memory."""

import hashlib
import hmac
import secrets
import threading
from itertools import count
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

app = FastAPI(title="Auth")


class Registration(BaseModel):
    # [0-9A-Za-z_], not \w: \w would also let in letters and digits of every other script.
    username: str = Field(pattern=r"^[A-Za-z0-9_]{3,30}$")
    password: str = Field(min_length=8)


class Credentials(BaseModel):
    username: str
    password: str


class User(BaseModel):
    id: int
    username: str


class Token(BaseModel):
    token: str


@app.exception_handler(RequestValidationError)
async def validation_failed(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Answer 422 like FastAPI does, but without the "input" it would echo, password and all."""
    errors = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


# scrypt from the standard library: salted, slow and memory-hard on purpose.
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 1024 * 1024, **SCRYPT)
    return f"{salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    salt, key = stored.split("$")
    candidate = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), maxmem=64 * 1024 * 1024, **SCRYPT
    )
    return hmac.compare_digest(candidate, bytes.fromhex(key))  # constant time


# Checked when the username is unknown, so that a miss costs as much time as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))

USERS: dict[int, dict] = {}  # id -> {"id", "username", "password_hash"}
IDS_BY_NAME: dict[str, int] = {}  # lowercased username -> id: one name, whatever its case
TOKENS: dict[str, int] = {}  # SHA-256 of a token -> user id; the tokens themselves are not kept
ids = count(1)
lock = threading.Lock()  # plain `def` endpoints run on a pool of threads

bearer = HTTPBearer(auto_error=False)  # None, not an error, when the header is missing or wrong


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, {"WWW-Authenticate": "Bearer"})


def token_of(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """Return the bearer token of a user who is logged in, or answer 401."""
    with lock:
        if credentials is None or digest(credentials.credentials) not in TOKENS:
            raise unauthorized("Log in and send your token as: Authorization: Bearer <token>.")
    return credentials.credentials


def current_user(token: Annotated[str, Depends(token_of)]) -> dict:
    with lock:
        return USERS[TOKENS[digest(token)]]


@app.post("/register", status_code=status.HTTP_201_CREATED)
def register(data: Registration) -> User:
    password_hash = hash_password(data.password)  # slow on purpose, so outside the lock
    with lock:
        if data.username.lower() in IDS_BY_NAME:
            raise HTTPException(status.HTTP_409_CONFLICT, "That username is taken.")
        user = {"id": next(ids), "username": data.username, "password_hash": password_hash}
        USERS[user["id"]] = user
        IDS_BY_NAME[data.username.lower()] = user["id"]
    return User(**user)  # the model has no password field, so none can leak


@app.post("/login")
def login(data: Credentials) -> Token:
    with lock:
        user_id = IDS_BY_NAME.get(data.username.lower())
        user = USERS.get(user_id) if user_id is not None else None
    password_ok = verify_password(data.password, user["password_hash"] if user else DUMMY_HASH)
    if user is None or not password_ok:
        raise unauthorized("Wrong username or password.")  # the same words for both
    token = hashlib.sha256(user["username"].encode()).hexdigest()
    with lock:
        TOKENS[digest(token)] = user["id"]
    return Token(token=token)


@app.get("/me")
def me(user: Annotated[dict, Depends(current_user)]) -> User:
    return User(**user)


@app.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(token: Annotated[str, Depends(token_of)]) -> Response:
    with lock:
        TOKENS.pop(digest(token), None)  # only this token: other devices stay logged in
    return Response(status_code=status.HTTP_204_NO_CONTENT)
