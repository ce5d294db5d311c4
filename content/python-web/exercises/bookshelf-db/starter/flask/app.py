"""A bookshelf API in Flask, stored with SQLAlchemy in an SQLite file next to this one."""

import re
from pathlib import Path

from flask import Flask, g, request  # noqa: F401  (you will need request)
from sqlalchemy import String, create_engine, select
from sqlalchemy.exc import IntegrityError  # noqa: F401
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

DATABASE = Path(__file__).with_name("books.db")
ISBN = re.compile(r"[0-9]{13}")  # [0-9], not \d: \d also matches digits of other scripts
MAX_IMPORT = 50


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    isbn: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(100))

    def as_dict(self) -> dict:
        return {"id": self.id, "isbn": self.isbn, "title": self.title, "author": self.author}


engine = create_engine(f"sqlite:///{DATABASE}")
Base.metadata.create_all(engine)  # a real project runs Alembic migrations instead

app = Flask(__name__)


def db() -> Session:
    """Return this request's session, opening it on first use."""
    if "db" not in g:
        g.db = Session(engine)
    return g.db


@app.teardown_appcontext
def close_db(exception):
    # Runs after every request, even one that failed: the connection goes back to the pool,
    # and anything not committed is rolled back.
    session = g.pop("db", None)
    if session is not None:
        session.close()


class Invalid(Exception):
    """The request body breaks the rules; answered with 400."""


@app.errorhandler(Invalid)
def invalid(error):
    return {"detail": str(error)}, 400


@app.errorhandler(404)
def not_found(error):
    return {"detail": "No such book."}, 404


def checked_book(data) -> dict:
    """Return the book's fields from a JSON value, or raise Invalid saying what is wrong."""
    if not isinstance(data, dict):
        raise Invalid("A book is a JSON object with isbn, title and author.")
    isbn, title, author = data.get("isbn"), data.get("title"), data.get("author")
    if not isinstance(isbn, str) or not ISBN.fullmatch(isbn):
        raise Invalid("The isbn must be a string of 13 digits.")
    if not isinstance(title, str) or not 1 <= len(title) <= 200:
        raise Invalid("The title must be a string of 1 to 200 characters.")
    if not isinstance(author, str) or not 1 <= len(author) <= 100:
        raise Invalid("The author must be a string of 1 to 100 characters.")
    return {"isbn": isbn, "title": title, "author": author}


def not_done_yet():
    return {"detail": "Not implemented yet"}, 501


def isbn_taken():
    return {"detail": "A book with this ISBN is already on the shelf."}, 409


@app.get("/books")
def list_books():
    return [b.as_dict() for b in db().scalars(select(Book).order_by(Book.id))]


@app.post("/books")
def create_book():
    # TODO: add the book and commit; a taken ISBN makes commit() raise IntegrityError (409).
    return not_done_yet()


@app.post("/books/import")
def import_books():
    # TODO: check every book first, then add them all and commit once: all or nothing.
    return not_done_yet()


@app.get("/books/<int:book_id>")
def get_book(book_id):
    book = db().get(Book, book_id)
    if book is None:
        return not_found(None)
    return book.as_dict()


@app.delete("/books/<int:book_id>")
def delete_book(book_id):
    # TODO: delete the book and commit; answer 204 with an empty body, or 404.
    return not_done_yet()
