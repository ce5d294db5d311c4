"""A bookshelf API in FastAPI, stored with SQLAlchemy in an SQLite file next to this one."""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Body, Depends, FastAPI, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, create_engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

DATABASE = Path(__file__).with_name("books.db")


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    isbn: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(100))


class BookIn(BaseModel):
    # strict: refuse the number 9780134685991 instead of turning it into a string.
    model_config = ConfigDict(strict=True)

    isbn: str = Field(pattern=r"^[0-9]{13}$")  # [0-9], not \d: \d matches other scripts' digits
    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=100)


class BookOut(BookIn):
    model_config = ConfigDict(from_attributes=True)  # BookOut.model_validate(book_row)

    id: int


engine = create_engine(f"sqlite:///{DATABASE}")
Base.metadata.create_all(engine)  # a real project runs Alembic migrations instead

app = FastAPI(title="Bookshelf")


def get_session() -> Iterator[Session]:
    """One session per request: opened before the endpoint, closed after the response."""
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
ISBN_TAKEN = HTTPException(
    status.HTTP_409_CONFLICT, "A book with this ISBN is already on the shelf."
)


def found(session: Session, book_id: int) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such book.")
    return book


@app.get("/books")
def list_books(session: SessionDep) -> list[BookOut]:
    return session.scalars(select(Book).order_by(Book.id)).all()


@app.post("/books", status_code=status.HTTP_201_CREATED)
def create_book(data: BookIn, session: SessionDep) -> BookOut:
    book = Book(**data.model_dump())
    session.add(book)
    try:
        session.commit()  # the UNIQUE constraint on isbn decides, even for two requests at once
    except IntegrityError:
        session.rollback()
        raise ISBN_TAKEN from None
    return book


@app.post("/books/import", status_code=status.HTTP_201_CREATED)
def import_books(
    items: Annotated[list[BookIn], Body(min_length=1, max_length=50)], session: SessionDep
) -> list[BookOut]:
    books = [Book(**item.model_dump()) for item in items]
    session.add_all(books)
    try:
        session.commit()  # one transaction: every book is stored, or none
    except IntegrityError:
        session.rollback()
        raise ISBN_TAKEN from None
    return books


@app.get("/books/{book_id}")
def get_book(book_id: int, session: SessionDep) -> BookOut:
    return found(session, book_id)


@app.delete("/books/{book_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_book(book_id: int, session: SessionDep) -> Response:
    session.delete(found(session, book_id))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
