"""HTTP tests for the bookshelf pages, read through their HTML."""

import pytest
from grader import check, expect, parse_html

BOOKS = [
    (1, "Fluent Python", "Luciano Ramalho", 2022),
    (2, "Flask Web Development", "Miguel Grinberg", 2018),
    (3, "Architecture Patterns with Python", "Harry Percival & Bob Gregory", 2020),
    (4, "Two Scoops of Django", "Audrey & Daniel Feldroy", 2020),
    (5, "Why <script> Tags Need Escaping", "Jo Example", 2024),
    (6, "Test-Driven Development with Python", "Harry Percival", 2017),
]
TITLES = [title for _, title, _, _ in BOOKS]


def page(client, path):
    """Fetch an HTML page, check it answered 200 with HTML, and return it parsed."""
    r = expect(client.get(path), status=200, content_type="text/html")
    return parse_html(r.text)


def text_of(element, missing):
    return element.text() if element is not None else missing


def book_items(doc, path):
    """Return the <li> items of <ul id="books">; fail if the list is missing."""
    ul = doc.find("ul", id="books")
    check(ul is not None, f'GET {path}: the page has no <ul id="books">')
    return ul.find_all("li")


def listed_titles(doc, path):
    return [text_of(li.find("a"), li.text()) for li in book_items(doc, path)]


# The list page -----------------------------------------------------------------------------


def test_book_list_is_an_html_page(client):
    """GET /books answers 200 with an HTML page."""
    page(client, "/books")


def test_book_list_has_title_and_heading(client):
    """The list page has the title and heading "Bookshelf"."""
    doc = page(client, "/books")
    title, h1 = text_of(doc.find("title"), "no <title>"), text_of(doc.find("h1"), "no <h1>")
    check(title == "Bookshelf", f"GET /books: expected <title>Bookshelf</title>, got {title!r}")
    check(h1 == "Bookshelf", f"GET /books: expected <h1>Bookshelf</h1>, got {h1!r}")


@pytest.mark.points(2)
def test_book_list_shows_every_title_in_order(client):
    """The list page shows every book's title, in order."""
    shown = listed_titles(page(client, "/books"), "/books")
    check(shown == TITLES, f"GET /books: expected the titles {TITLES}, got {shown}")


def test_each_book_links_to_its_page(client):
    """Each book's title links to /books/<id>."""
    items = book_items(page(client, "/books"), "/books")
    links = [li.find("a").attrs.get("href") if li.find("a") else None for li in items]
    expected = [f"/books/{book_id}" for book_id, *_ in BOOKS]
    check(links == expected, f"GET /books: expected the links {expected}, got {links}")


def test_each_book_shows_its_author(client):
    """Each book shows its author in <span class="author">."""
    items = book_items(page(client, "/books"), "/books")
    authors = [text_of(li.find("span", cls="author"), None) for li in items]
    expected = [author for _, _, author, _ in BOOKS]
    check(
        authors == expected,
        f'GET /books: expected <span class="author"> to hold {expected}, got {authors}',
    )


# Filtering ---------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_author_filter_shows_only_matching_books(client):
    """GET /books?author=percival lists only the books by Harry Percival."""
    path = "/books?author=percival"
    shown = listed_titles(page(client, path), path)
    expected = [TITLES[2], TITLES[5]]
    check(shown == expected, f"GET {path}: expected {expected}, got {shown}")


def test_author_filter_without_matches_says_so(client):
    """GET /books?author=nobody says "No books found." and lists no book."""
    path = "/books?author=nobody"
    doc = page(client, path)
    empty = text_of(doc.find("p", id="empty"), "no such paragraph")
    check(
        empty == "No books found.",
        f'GET {path}: expected <p id="empty">No books found.</p>, got {empty!r}',
    )
    ul = doc.find("ul", id="books")
    items = [li.text() for li in ul.find_all("li")] if ul else []
    check(not items, f"GET {path}: expected no books listed, got {items}")


# The book page -----------------------------------------------------------------------------


@pytest.mark.points(2)
def test_book_page_shows_title_author_and_year(client):
    """GET /books/2 shows the book's title, author and year."""
    doc = page(client, "/books/2")
    got = (
        text_of(doc.find("h1"), None),
        text_of(doc.find("span", cls="author"), None),
        text_of(doc.find("span", cls="year"), None),
    )
    expected = ("Flask Web Development", "Miguel Grinberg", "2018")
    check(
        got == expected,
        'GET /books/2: expected <h1>, <span class="author"> and <span class="year"> to hold '
        f"{expected}, got {got}",
    )


def test_book_page_title_names_the_book(client):
    """The book page's title is "<book title> | Bookshelf"."""
    title = text_of(page(client, "/books/1").find("title"), "no <title>")
    expected = "Fluent Python | Bookshelf"
    check(title == expected, f"GET /books/1: expected <title>{expected}</title>, got {title!r}")


def test_unknown_book_is_404(client):
    """GET /books/999 answers 404."""
    expect(client.get("/books/999"), status=404)


def test_pages_share_the_header_from_the_base_template(client):
    """Both pages have the <header> of base.html, with its link to /books."""
    for path in ("/books", "/books/3"):
        header = page(client, path).find("header")
        link = header.find("a", href="/books") if header else None
        check(
            link is not None,
            f'GET {path}: expected a <header> with a link to /books, <a href="/books">...</a>',
        )


@pytest.mark.points(2)
@pytest.mark.visibility("hidden")
def test_titles_are_escaped(client):
    """A title containing <script> is shown as text, not run as HTML."""
    doc = page(client, "/books/5")
    check(
        text_of(doc.find("h1"), None) == TITLES[4] and not doc.find_all("script"),
        "GET /books/5: the title must appear as text, not as an HTML tag: "
        "let Jinja escape it and do not mark it |safe",
    )
