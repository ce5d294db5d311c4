"""HTTP tests for the notes API; the same tests grade the Flask, Django and FastAPI versions.

The tests share one running app, so notes made by one test are still there in the next: each
test creates the notes it needs and uses the ids it gets back.
"""

import pytest
from grader import check, excerpt, expect, precondition

MISSING = 999_999  # an id no test ever creates
INVALID = (400, 422)


def where(r):
    return f"{r.request.method} {r.request.url.path}"


def expect_note(r, title, body):
    """Check that the response is a note with this title and body, and return it."""
    note = r.json()
    check(
        isinstance(note, dict) and {"id", "title", "body"} <= set(note),
        f'{where(r)}: expected a note {{"id": ..., "title": ..., "body": ...}}, got {note!r}',
    )
    note_id = note["id"]
    check(
        isinstance(note_id, int) and not isinstance(note_id, bool) and note_id > 0,
        f"{where(r)}: a note's id must be a positive whole number, got {note_id!r}",
    )
    check(
        (note["title"], note["body"]) == (title, body),
        f"{where(r)}: expected title {title!r} and body {body!r}, "
        f"got title {note['title']!r} and body {note['body']!r}",
    )
    return note


def create(client, title="A note", body="Some text"):
    """Create a note for a test that is about something else; any 2xx status will do here."""
    with precondition("create a note to test with"):
        r = client.post("/notes", json={"title": title, "body": body})
        check(
            r.is_success,
            f"POST /notes: expected a 2xx status, got {r.status_code}. Body: {excerpt(r)}",
            cause=f"POST /notes answered {r.status_code}",
        )
        return expect_note(r, title, body)


def listed_ids(client):
    notes = expect(client.get("/notes"), status=200).json()
    check(isinstance(notes, list), f"GET /notes: expected a JSON list, got {notes!r}")
    return [n.get("id") if isinstance(n, dict) else n for n in notes]


def expect_rejected(r):
    """Invalid input: 400 or 422 with a JSON object saying why."""
    expect(r, status=INVALID)
    detail = r.json()
    check(isinstance(detail, dict), f"{where(r)}: an error must be a JSON object, got {detail!r}")


# Reading and creating ---------------------------------------------------------------------


def test_list_is_empty_at_start(client):
    """GET /notes answers an empty list when no note was created yet."""
    expect(client.get("/notes"), status=200, json=[])


@pytest.mark.points(2)
def test_create_returns_201_and_the_note(client):
    """POST /notes answers 201 with the new note."""
    r = client.post("/notes", json={"title": "Shopping", "body": "Milk, eggs"})
    expect(r, status=201)
    expect_note(r, "Shopping", "Milk, eggs")


def test_create_without_body_defaults_to_empty_string(client):
    """POST /notes without a body stores the body ""."""
    r = client.post("/notes", json={"title": "Just a title"})
    expect(r, status=(200, 201))
    expect_note(r, "Just a title", "")


def test_create_accepts_a_title_of_100_characters(client):
    """POST /notes accepts a title of exactly 100 characters."""
    title = "x" * 100
    r = client.post("/notes", json={"title": title, "body": ""})
    expect(r, status=(200, 201))
    expect_note(r, title, "")


def test_get_returns_the_note(client):
    """GET /notes/<id> answers 200 with the note."""
    note = create(client, "Read me", "Hello")
    r = expect(client.get(f"/notes/{note['id']}"), status=200)
    check(
        expect_note(r, "Read me", "Hello")["id"] == note["id"],
        f"{where(r)}: answered a note with another id: {r.text[:200]}",
    )


def test_get_unknown_note_is_404(client):
    """GET /notes/<id> answers 404 when there is no such note."""
    expect(client.get(f"/notes/{MISSING}"), status=404)


def test_list_holds_every_note(client):
    """GET /notes lists every note created."""
    created = {create(client, f"Listed {i}")["id"] for i in range(3)}
    missing = created - set(listed_ids(client))
    check(not missing, f"GET /notes: notes {sorted(missing)} were created but are not listed")


@pytest.mark.points(2)
def test_list_is_ordered_by_id(client):
    """GET /notes lists the notes ordered by id, smallest first."""
    for i in range(3):
        create(client, f"Ordered {i}")
    ids = listed_ids(client)
    check(ids == sorted(ids), f"GET /notes: expected the notes ordered by id, got the ids {ids}")


def test_ids_are_unique(client):
    """Every new note gets an id of its own."""
    ids = [create(client, f"Unique {i}")["id"] for i in range(3)]
    check(len(set(ids)) == 3, f"POST /notes: three new notes got the ids {ids}")


# Updating ----------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_update_returns_the_updated_note(client):
    """PUT /notes/<id> answers 200 with the updated note."""
    note = create(client, "Draft", "v1")
    r = client.put(f"/notes/{note['id']}", json={"title": "Final", "body": "v2"})
    expect(r, status=200)
    check(
        expect_note(r, "Final", "v2")["id"] == note["id"],
        f"{where(r)}: answered a note with another id: {r.text[:200]}",
    )


def test_update_is_stored(client):
    """After PUT /notes/<id>, GET /notes/<id> shows the new title and body."""
    note = create(client, "Before", "old")
    client.put(f"/notes/{note['id']}", json={"title": "After", "body": "new"})
    expect_note(expect(client.get(f"/notes/{note['id']}"), status=200), "After", "new")


def test_update_unknown_note_is_404(client):
    """PUT /notes/<id> answers 404 when there is no such note."""
    expect(client.put(f"/notes/{MISSING}", json={"title": "Nobody", "body": ""}), status=404)


def test_update_rejects_an_empty_title(client):
    """PUT /notes/<id> with an empty title answers 400 or 422."""
    note = create(client, "Keep my title")
    expect_rejected(client.put(f"/notes/{note['id']}", json={"title": "", "body": "x"}))


# Deleting ----------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_delete_returns_204_with_an_empty_body(client):
    """DELETE /notes/<id> answers 204 with an empty body."""
    note = create(client, "Delete me")
    r = expect(client.delete(f"/notes/{note['id']}"), status=204)
    check(r.content == b"", f"{where(r)}: a 204 answer has no body, got {r.text[:200]!r}")


def test_deleted_note_is_gone(client):
    """A deleted note answers 404 and is no longer listed."""
    note = create(client, "Gone soon")
    client.delete(f"/notes/{note['id']}")
    expect(client.get(f"/notes/{note['id']}"), status=404)
    check(
        note["id"] not in listed_ids(client),
        f"GET /notes: note {note['id']} was deleted but is still listed",
    )


def test_delete_unknown_note_is_404(client):
    """DELETE /notes/<id> answers 404 when there is no such note."""
    expect(client.delete(f"/notes/{MISSING}"), status=404)


@pytest.mark.visibility("hidden")
@pytest.mark.hint("delete the newest note, then create one: which id does it get?")
def test_ids_are_never_reused(client):
    """An id is never given again, even after its note was deleted."""
    seen = [create(client, f"Old {i}")["id"] for i in range(2)]
    seen += listed_ids(client)
    client.delete(f"/notes/{max(seen)}")
    new = create(client, "Newcomer")["id"]
    check(
        new > max(seen),
        f"POST /notes: got the id {new} after note {max(seen)} was deleted; "
        "ids must keep growing and never be used twice",
    )


# Validation --------------------------------------------------------------------------------


def test_create_rejects_a_missing_title(client):
    """POST /notes without a title answers 400 or 422 with a JSON object."""
    expect_rejected(client.post("/notes", json={"body": "No title"}))


def test_create_rejects_an_empty_title(client):
    """POST /notes with an empty title answers 400 or 422 with a JSON object."""
    expect_rejected(client.post("/notes", json={"title": "", "body": "x"}))


@pytest.mark.visibility("hidden")
@pytest.mark.hint("100 characters is the longest title allowed")
def test_create_rejects_a_title_over_100_characters(client):
    """POST /notes with a 101-character title answers 400 or 422 with a JSON object."""
    expect_rejected(client.post("/notes", json={"title": "x" * 101}))


@pytest.mark.visibility("hidden")
@pytest.mark.hint("JSON has numbers too: is 123 a title?")
def test_create_rejects_a_title_that_is_not_a_string(client):
    """POST /notes with the title 123 answers 400 or 422 with a JSON object."""
    expect_rejected(client.post("/notes", json={"title": 123, "body": "x"}))


@pytest.mark.visibility("hidden")
def test_create_rejects_a_body_that_is_not_a_string(client):
    """POST /notes with the body 42 answers 400 or 422 with a JSON object."""
    expect_rejected(client.post("/notes", json={"title": "Numbers", "body": 42}))


@pytest.mark.visibility("hidden")
@pytest.mark.hint("valid JSON need not be an object")
def test_create_rejects_json_that_is_not_an_object(client):
    """POST /notes with a JSON list answers 400 or 422 with a JSON object."""
    expect_rejected(client.post("/notes", json=["title", "body"]))
