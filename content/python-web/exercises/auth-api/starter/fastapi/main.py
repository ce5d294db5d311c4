"""A token authentication API in FastAPI; users and tokens live in memory."""

import hashlib
import hmac  # noqa: F401  (hmac.compare_digest compares hashes in constant time)
import secrets  # noqa: F401  (secrets.token_urlsafe makes good tokens)
import threading
from itertools import count
from typing import Annotated  # noqa: F401

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status  # noqa: F401
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer  # noqa: F401
from pydantic import BaseModel

app = FastAPI(title="Auth")


class Registration(BaseModel):
    # TODO: 3 to 30 ASCII letters, digits or "_" (Field(pattern=...)); at least 8 characters.
    username: str
    password: str


class Credentials(BaseModel):
    username: str
    password: str


class User(BaseModel):
    id: int
    username: str


class Token(BaseModel):
    token: str


USERS: dict[int, dict] = {}  # id -> {"id", "username", "password_hash"}
IDS_BY_NAME: dict[str, int] = {}  # lowercased username -> id
TOKENS: dict[str, int] = {}  # SHA-256 of a token -> user id
ids = count(1)  # next(ids) gives 1, 2, 3...
lock = threading.Lock()  # plain `def` endpoints run on a pool of threads

bearer = HTTPBearer(auto_error=False)  # gives None when the header is missing or not Bearer


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    # TODO: hashlib.scrypt with a random salt; keep the salt next to the hash.
    raise NotImplementedError


def verify_password(password: str, stored: str) -> bool:
    # TODO: hash the password again with the stored salt and compare with hmac.compare_digest.
    raise NotImplementedError


NOT_DONE = HTTPException(status_code=501, detail="Not implemented yet")


@app.post("/register", status_code=status.HTTP_201_CREATED)
def register(data: Registration) -> User:
    # TODO: hash the password, refuse a taken name (in any case) with 409, store the user.
    raise NOT_DONE


@app.post("/login")
def login(data: Credentials) -> Token:
    # TODO: answer a new random token, or 401 for a wrong password or an unknown user.
    raise NOT_DONE


@app.get("/me")
def me() -> User:
    # TODO: a dependency that turns the bearer token into the user, or answers 401.
    raise NOT_DONE


@app.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout():
    # TODO: forget this one token.
    raise NOT_DONE
