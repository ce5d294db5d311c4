"""A notes API in Flask; the notes live in memory."""

import threading
from itertools import count

from flask import Flask, abort, request  # noqa: F401  (you will need abort and request)

app = Flask(__name__)

NOTES: dict[int, dict] = {}
ids = count(1)  # next(ids) gives 1, 2, 3... and never the same id twice
lock = threading.Lock()  # the server may answer several requests at once, on threads


def not_done_yet():
    return {"detail": "Not implemented yet"}, 501


@app.get("/notes")
def list_notes():
    with lock:
        return [dict(NOTES[note_id]) for note_id in sorted(NOTES)]


@app.post("/notes")
def create_note():
    # TODO: validate the JSON body, store the note, answer 201 with it.
    return not_done_yet()


@app.get("/notes/<int:note_id>")
def get_note(note_id):
    # TODO: answer the note, or 404 with a JSON object.
    return not_done_yet()


@app.put("/notes/<int:note_id>")
def update_note(note_id):
    # TODO: validate like create_note, then replace the title and body.
    return not_done_yet()


@app.delete("/notes/<int:note_id>")
def delete_note(note_id):
    # TODO: remove the note and answer 204 with an empty body.
    return not_done_yet()
