"""A notes API in FastAPI; the notes live in memory."""

import threading
from itertools import count

from fastapi import FastAPI, HTTPException, Response, status  # noqa: F401
from pydantic import BaseModel

app = FastAPI(title="Notes")


class NoteIn(BaseModel):
    # TODO: the title must hold 1 to 100 characters; the body is optional.
    title: str
    body: str


class Note(NoteIn):
    id: int


NOTES: dict[int, Note] = {}
ids = count(1)  # next(ids) gives 1, 2, 3... and never the same id twice
lock = threading.Lock()  # plain `def` endpoints run on a pool of threads

NOT_DONE = HTTPException(status_code=501, detail="Not implemented yet")


@app.get("/notes")
def list_notes() -> list[Note]:
    with lock:
        return [NOTES[note_id] for note_id in sorted(NOTES)]


@app.post("/notes")
def create_note(data: NoteIn) -> Note:
    # TODO: store the note and answer 201 with it.
    raise NOT_DONE


@app.get("/notes/{note_id}")
def get_note(note_id: int) -> Note:
    # TODO: answer the note, or 404.
    raise NOT_DONE


@app.put("/notes/{note_id}")
def update_note(note_id: int, data: NoteIn) -> Note:
    # TODO: replace the title and body of the note.
    raise NOT_DONE


@app.delete("/notes/{note_id}")
def delete_note(note_id: int):
    # TODO: remove the note and answer 204 with an empty body.
    raise NOT_DONE
