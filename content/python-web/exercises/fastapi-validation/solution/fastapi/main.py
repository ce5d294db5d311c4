"""Sign-ups for an event: validation by Pydantic, documentation by OpenAPI."""

import threading
from itertools import count
from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Query, status
from pydantic import BaseModel, EmailStr, Field

app = FastAPI(title="Event sign-ups", version="1.0.0")

Ticket = Literal["standard", "vip"]


class SignupIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    email: EmailStr
    age: int = Field(ge=13, le=120)
    ticket: Ticket = "standard"


class Signup(SignupIn):
    id: int


SIGNUPS: dict[int, Signup] = {}
ids = count(1)
lock = threading.Lock()  # plain `def` endpoints run on a pool of threads


@app.post("/signups", status_code=status.HTTP_201_CREATED)
def create_signup(data: SignupIn) -> Signup:
    with lock:
        signup = Signup(id=next(ids), **data.model_dump())
        SIGNUPS[signup.id] = signup
    return signup


@app.get("/signups")
def list_signups(
    ticket: Ticket | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Signup]:
    with lock:
        found = [s for s in SIGNUPS.values() if ticket is None or s.ticket == ticket]
    return found[:limit]


@app.get("/signups/{signup_id}", responses={404: {"description": "No sign-up has this id"}})
def get_signup(signup_id: int) -> Signup:
    with lock:
        if signup_id not in SIGNUPS:
            raise HTTPException(status_code=404, detail="Sign-up not found")
        return SIGNUPS[signup_id]
