"""A notes API in FastAPI; the notes live in memory."""

import threading
from itertools import count

from fastapi import FastAPI, HTTPException, Response, status
from pydantic import BaseModel, Field

app = FastAPI(title="Notes")


class NoteIn(BaseModel):
    # Pydantic 2 does not turn numbers into strings, so {"title": 123} is refused with a 422.
    title: str = Field(min_length=1, max_length=100)
    body: str = ""


class Note(NoteIn):
    id: int


NOTES: dict[int, Note] = {}
ids = count(1)  # 1, 2, 3... a deleted note's id is never handed out again
lock = threading.Lock()  # plain `def` endpoints run on a pool of threads


def find(note_id: int) -> Note:
    if note_id not in NOTES:
        raise HTTPException(status_code=404, detail="Note not found")
    return NOTES[note_id]


@app.get("/notes")
def list_notes() -> list[Note]:
    with lock:
        return [NOTES[note_id] for note_id in sorted(NOTES)]


@app.post("/notes", status_code=status.HTTP_201_CREATED)
def create_note(data: NoteIn) -> Note:
    # Invalid input never gets here: FastAPI has already answered 422.
    with lock:
        note = Note(id=next(ids), **data.model_dump())
        NOTES[note.id] = note
    return note


@app.get("/notes/{note_id}")
def get_note(note_id: int) -> Note:
    with lock:
        return find(note_id)


@app.put("/notes/{note_id}")
def update_note(note_id: int, data: NoteIn) -> Note:
    with lock:
        find(note_id)
        NOTES[note_id] = Note(id=note_id, **data.model_dump())
        return NOTES[note_id]


@app.delete("/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_note(note_id: int) -> Response:
    with lock:
        find(note_id)
        del NOTES[note_id]
    return Response(status_code=status.HTTP_204_NO_CONTENT)
