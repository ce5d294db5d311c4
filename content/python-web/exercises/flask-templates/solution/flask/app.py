"""A bookshelf: two HTML pages rendered from Jinja templates."""

from flask import Flask, abort, render_template, request

app = Flask(__name__)

BOOKS = [
    {"id": 1, "title": "Fluent Python", "author": "Luciano Ramalho", "year": 2022},
    {"id": 2, "title": "Flask Web Development", "author": "Miguel Grinberg", "year": 2018},
    {
        "id": 3,
        "title": "Architecture Patterns with Python",
        "author": "Harry Percival & Bob Gregory",
        "year": 2020,
    },
    {"id": 4, "title": "Two Scoops of Django", "author": "Audrey & Daniel Feldroy", "year": 2020},
    {"id": 5, "title": "Why <script> Tags Need Escaping", "author": "Jo Example", "year": 2024},
    {
        "id": 6,
        "title": "Test-Driven Development with Python",
        "author": "Harry Percival",
        "year": 2017,
    },
]


@app.get("/books")
def book_list():
    author = request.args.get("author", "").strip()
    books = [b for b in BOOKS if author.lower() in b["author"].lower()]
    return render_template("books.html", books=books, author=author)


@app.get("/books/<int:book_id>")
def book_detail(book_id):
    for book in BOOKS:
        if book["id"] == book_id:
            return render_template("book.html", book=book)
    abort(404)
