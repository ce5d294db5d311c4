"""Sign-ups for an event: validation by Pydantic, documentation by OpenAPI."""

import threading
from itertools import count
from typing import Annotated, Literal  # noqa: F401

from fastapi import FastAPI, HTTPException, Query, status  # noqa: F401
from pydantic import BaseModel, EmailStr, Field  # noqa: F401

# TODO: give the API its title and version; they appear in /openapi.json and /docs.
app = FastAPI()


class SignupIn(BaseModel):
    # TODO: add the rules from the instructions; FastAPI will then answer 422 by itself.
    name: str
    email: str
    age: int
    ticket: str = "standard"


class Signup(SignupIn):
    id: int


SIGNUPS: dict[int, Signup] = {}
ids = count(1)
lock = threading.Lock()  # plain `def` endpoints run on a pool of threads


@app.post("/signups")  # TODO: a new sign-up is "201 Created"
def create_signup(data: SignupIn) -> Signup:
    with lock:
        signup = Signup(id=next(ids), **data.model_dump())
        SIGNUPS[signup.id] = signup
    return signup


@app.get("/signups")
def list_signups() -> list[Signup]:
    # TODO: the query parameters ticket (optional) and limit (1 to 100, default 20).
    with lock:
        return list(SIGNUPS.values())


# TODO: GET /signups/{signup_id}: the sign-up, or 404; document the 404 in OpenAPI.
