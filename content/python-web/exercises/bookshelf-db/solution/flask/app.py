"""A bookshelf API in Flask, stored with SQLAlchemy in an SQLite file next to this one."""

import re
from pathlib import Path

from flask import Flask, g, request
from sqlalchemy import String, create_engine, select
from sqlalchemy.exc import IntegrityError
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


def isbn_taken():
    return {"detail": "A book with this ISBN is already on the shelf."}, 409


@app.get("/books")
def list_books():
    return [b.as_dict() for b in db().scalars(select(Book).order_by(Book.id))]


@app.post("/books")
def create_book():
    book = Book(**checked_book(request.get_json(silent=True)))
    session = db()
    session.add(book)
    try:
        session.commit()  # the UNIQUE constraint on isbn decides, even for two requests at once
    except IntegrityError:
        session.rollback()
        return isbn_taken()
    return book.as_dict(), 201


@app.post("/books/import")
def import_books():
    items = request.get_json(silent=True)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_IMPORT:
        raise Invalid(f"Send a JSON list of 1 to {MAX_IMPORT} books.")
    books = [Book(**checked_book(item)) for item in items]  # check them all before writing
    session = db()
    session.add_all(books)
    try:
        session.commit()  # one transaction: every book is stored, or none
    except IntegrityError:
        session.rollback()
        return isbn_taken()
    return [b.as_dict() for b in books], 201


@app.get("/books/<int:book_id>")
def get_book(book_id):
    book = db().get(Book, book_id)
    if book is None:
        return not_found(None)
    return book.as_dict()


@app.delete("/books/<int:book_id>")
def delete_book(book_id):
    session = db()
    book = session.get(Book, book_id)
    if book is None:
        return not_found(None)
    session.delete(book)
    session.commit()
    return "", 204
