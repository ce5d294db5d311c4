"""A notes API in Flask; the notes live in memory."""

import threading
from itertools import count

from flask import Flask, abort, request

app = Flask(__name__)

NOTES: dict[int, dict] = {}
ids = count(1)  # 1, 2, 3... a deleted note's id is never handed out again
lock = threading.Lock()  # the server may answer several requests at once, on threads


@app.errorhandler(404)
def not_found(error):
    # Answer JSON, not Flask's default HTML error page.
    return {"detail": "Note not found"}, 404


def read_note():
    """Return the title and body sent in the request, or answer 422 with the reasons."""
    data = request.get_json(silent=True)  # None instead of an error page
    if not isinstance(data, dict):
        abort(422, 'Send a JSON object such as {"title": "Shopping", "body": "Milk"}.')
    errors = {}
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 100:
        errors["title"] = "Give a title of 1 to 100 characters."
    body = data.get("body", "")
    if not isinstance(body, str):
        errors["body"] = "The body must be a string."
    if errors:
        abort(422, errors)
    return {"title": title, "body": body}


@app.errorhandler(422)
def invalid(error):
    return {"detail": error.description}, 422


def find(note_id):
    if note_id not in NOTES:
        abort(404)
    return NOTES[note_id]


@app.get("/notes")
def list_notes():
    with lock:
        # Copies, because Flask turns them into JSON after the lock is released.
        return [dict(NOTES[note_id]) for note_id in sorted(NOTES)]


@app.post("/notes")
def create_note():
    fields = read_note()
    with lock:
        note = {"id": next(ids), **fields}
        NOTES[note["id"]] = note
    return note, 201


@app.get("/notes/<int:note_id>")
def get_note(note_id):
    with lock:
        return dict(find(note_id))


@app.put("/notes/<int:note_id>")
def update_note(note_id):
    fields = read_note()
    with lock:
        note = find(note_id)
        note.update(fields)
        return dict(note)


@app.delete("/notes/<int:note_id>")
def delete_note(note_id):
    with lock:
        find(note_id)
        del NOTES[note_id]
    return "", 204
