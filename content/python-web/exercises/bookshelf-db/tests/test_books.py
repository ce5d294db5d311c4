"""HTTP tests for the bookshelf API; the same tests grade the Flask, Django and FastAPI versions.

The tests share one running app and its database, so books added by one test are still there
in the next: each test makes up fresh ISBNs and uses the ids it gets back.
"""

import secrets

import pytest
from grader import check, expect, precondition

MISSING = 999_999  # an id no test ever creates
INVALID = (400, 422)


def where(r):
    return f"{r.request.method} {r.request.url.path}"


def isbn():
    """Return 13 random digits, an ISBN no other test uses."""
    return "979" + "".join(secrets.choice("0123456789") for _ in range(10))


def book(title="A book", author="An author"):
    return {"isbn": isbn(), "title": title, "author": author}


def expect_book(r, sent):
    """Check that the answer is the book `sent` with an id, and return it."""
    got = r.json()
    check(
        isinstance(got, dict) and {"id", "isbn", "title", "author"} <= set(got),
        f'{where(r)}: expected a book {{"id", "isbn", "title", "author"}}, got {got!r}',
    )
    check(
        isinstance(got["id"], int) and not isinstance(got["id"], bool) and got["id"] > 0,
        f"{where(r)}: a book's id must be a positive whole number, got {got['id']!r}",
    )
    fields = {k: got[k] for k in ("isbn", "title", "author")}
    check(fields == sent, f"{where(r)}: expected {sent}, got {fields}")
    return got


def add(client, **fields):
    """Add a book for a test that is about something else, and return it."""
    sent = book(**fields)
    with precondition("add a book to test with"):
        return expect_book(expect(client.post("/books", json=sent), status=201), sent)


def listed(client):
    books = expect(client.get("/books"), status=200).json()
    check(isinstance(books, list), f"GET /books: expected a JSON list, got {books!r}")
    return books


def stored_isbns(client):
    return {b.get("isbn") for b in listed(client) if isinstance(b, dict)}


def expect_error_object(r, status):
    expect(r, status=status)
    check(isinstance(r.json(), dict), f"{where(r)}: an error must be a JSON object: {r.text[:200]}")


# One book at a time ----------------------------------------------------------------------


@pytest.mark.points(2)
def test_create_answers_201_with_the_book(client):
    """POST /books answers 201 with the new book and its id."""
    sent = book("Dune", "Frank Herbert")
    r = client.post("/books", json=sent)
    expect(r, status=201)
    expect_book(r, sent)


def test_a_book_can_be_read_back(client):
    """GET /books/<id> answers 200 with the book that was added."""
    added = add(client, title="Emma", author="Jane Austen")
    r = expect(client.get(f"/books/{added['id']}"), status=200)
    check(expect_book(r, {k: added[k] for k in ("isbn", "title", "author")}) == added, r.text)


def test_list_holds_the_books_in_id_order(client):
    """GET /books lists every book, ordered by id (smallest first)."""
    added = [add(client, title=f"Volume {i}") for i in range(3)]
    books = listed(client)
    ids = [b.get("id") for b in books if isinstance(b, dict)]
    check(ids == sorted(ids), f"GET /books: expected the books ordered by id, got ids {ids}")
    for b in added:
        check(b in books, f"GET /books: the book {b} was added but is not listed")


def test_get_unknown_book_is_404(client):
    """GET /books/<id> answers 404 when there is no such book."""
    expect(client.get(f"/books/{MISSING}"), status=404)


@pytest.mark.points(2)
def test_delete_answers_204_and_the_book_is_gone(client):
    """DELETE /books/<id> answers 204; then the book is neither found nor listed."""
    added = add(client, title="Gone soon")
    r = expect(client.delete(f"/books/{added['id']}"), status=204)
    check(r.content == b"", f"{where(r)}: a 204 answer has no body, got {r.text[:200]!r}")
    expect(client.get(f"/books/{added['id']}"), status=404)
    check(added["isbn"] not in stored_isbns(client), "GET /books still lists a deleted book")
    expect(client.delete(f"/books/{added['id']}"), status=404)


@pytest.mark.points(2)
def test_a_taken_isbn_is_409(client):
    """POST /books with an ISBN that is already stored answers 409 with a JSON object."""
    added = add(client)
    again = {"isbn": added["isbn"], "title": "Another title", "author": "Someone else"}
    expect_error_object(client.post("/books", json=again), 409)


@pytest.mark.visibility("hidden")
def test_a_deleted_books_isbn_is_free_again(client):
    """Once a book is deleted, its ISBN can be used for a new book."""
    added = add(client)
    client.delete(f"/books/{added['id']}")
    sent = {"isbn": added["isbn"], "title": "Second edition", "author": "An author"}
    expect_book(expect(client.post("/books", json=sent), status=201), sent)


def test_create_rejects_a_missing_title(client):
    """POST /books without a title answers 400 or 422 with a JSON object."""
    sent = book()
    del sent["title"]
    expect_error_object(client.post("/books", json=sent), INVALID)


@pytest.mark.visibility("hidden")
def test_create_rejects_an_isbn_that_is_not_13_digits(client):
    """POST /books refuses an ISBN that is not exactly 13 ASCII digits."""
    for bad in (
        "978-0-13-468599-1",
        "978013468599",
        "97801346859912",
        "978013468599X",
        "\u0669\u0667\u0668\u0660\u0661\u0663\u0664\u0666\u0668\u0665\u0669\u0669\u0661",
        9780134685991,
    ):
        r = client.post("/books", json={"isbn": bad, "title": "T", "author": "A"})
        check(
            r.status_code in INVALID,
            f"POST /books: the ISBN {bad!r} is not 13 digits 0-9 and must be refused with "
            f"400 or 422; got {r.status_code}",
        )


@pytest.mark.visibility("hidden")
def test_create_rejects_titles_and_authors_of_the_wrong_type_or_length(client):
    """POST /books refuses an empty or too long title or author, and non-strings."""
    for fields in (
        {"title": ""},
        {"title": "x" * 201},
        {"title": 42},
        {"author": ""},
        {"author": "y" * 101},
        {"author": ["Ada"]},
    ):
        r = client.post("/books", json={**book(), **fields})
        check(
            r.status_code in INVALID,
            f"POST /books with {fields}: expected 400 or 422, got {r.status_code}",
        )
    expect(
        client.post("/books", json={**book(), "title": "x" * 200, "author": "y" * 100}), status=201
    )


# Many books in one transaction -----------------------------------------------------------


@pytest.mark.points(2)
def test_import_answers_201_with_every_new_book(client):
    """POST /books/import stores every book and answers 201 with them, in the order sent."""
    sent = [book(f"Series {i}") for i in range(3)]
    r = expect(client.post("/books/import", json=sent), status=201)
    got = r.json()
    check(isinstance(got, list) and len(got) == 3, f"{where(r)}: expected 3 books, got {got!r}")
    for item, wanted in zip(got, sent, strict=True):
        check(isinstance(item, dict), f"{where(r)}: expected books, got {got!r}")
        fields = {k: item.get(k) for k in ("isbn", "title", "author")}
        check(fields == wanted, f"{where(r)}: expected {wanted}, got {fields}")
    check({b["isbn"] for b in sent} <= stored_isbns(client), "GET /books lacks imported books")


@pytest.mark.points(2)
def test_import_with_a_taken_isbn_is_409_and_stores_nothing(client):
    """An import where one ISBN is already stored answers 409 and stores none of its books."""
    taken = add(client)
    new = [book("Fresh 1"), book("Fresh 2")]
    clash = {"isbn": taken["isbn"], "title": "Clash", "author": "Someone"}
    expect_error_object(client.post("/books/import", json=[*new, clash]), 409)
    kept = {b["isbn"] for b in new} & stored_isbns(client)
    check(
        not kept,
        f"POST /books/import failed with 409 but stored the ISBNs {sorted(kept)}: "
        "an import must be all or nothing (one transaction)",
    )


@pytest.mark.points(2)
@pytest.mark.visibility("hidden")
@pytest.mark.hint("an import stores all of its books or none of them")
def test_import_with_an_isbn_twice_is_409_and_stores_nothing(client):
    """An import that holds the same ISBN twice answers 409 and stores none of its books."""
    first = book("First")
    twin = {**first, "title": "Twin"}
    other = book("Other")
    expect_error_object(client.post("/books/import", json=[other, first, twin]), 409)
    kept = {other["isbn"], first["isbn"]} & stored_isbns(client)
    check(not kept, f"POST /books/import failed with 409 but stored the ISBNs {sorted(kept)}")


@pytest.mark.visibility("hidden")
def test_import_with_an_invalid_book_stores_nothing(client):
    """An import where one book is invalid answers 400 or 422 and stores none of them."""
    good = [book("Good 1"), book("Good 2")]
    bad = {"isbn": isbn(), "title": "", "author": "Nobody"}
    expect_error_object(client.post("/books/import", json=[*good, bad]), INVALID)
    kept = {b["isbn"] for b in good} & stored_isbns(client)
    check(not kept, f"POST /books/import was refused but stored the ISBNs {sorted(kept)}")


def test_import_rejects_a_body_that_is_not_a_list(client):
    """POST /books/import with a JSON object instead of a list answers 400 or 422."""
    expect_error_object(client.post("/books/import", json=book()), INVALID)


@pytest.mark.visibility("hidden")
def test_import_takes_1_to_50_books(client):
    """POST /books/import refuses an empty list and a list of 51 books."""
    expect_error_object(client.post("/books/import", json=[]), INVALID)
    many = [book(f"Many {i}") for i in range(51)]
    expect_error_object(client.post("/books/import", json=many), INVALID)
    check(not ({b["isbn"] for b in many} & stored_isbns(client)), "51 books were stored")
