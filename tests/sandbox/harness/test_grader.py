from __future__ import annotations

import pytest

from sandbox.harness.grader import CheckFailed, check, parse_html

PAGE = """<!doctype html>
<html><head><title>Shelf</title><meta charset="utf-8"></head>
<body>
  <ul id="books" class="shelf wide">
    <li class="book">Dune<br>Frank   Herbert</li>
    <li class="book read">Emma</li>
  </ul>
  <p>Stray end tag</span> and <img src="a.png"> an image
</body></html>"""


def test_it_finds_elements_by_tag_class_and_attribute():
    doc = parse_html(PAGE)

    assert doc.find("ul", id="books") is not None
    assert doc.find("ul", cls="wide").attrs["id"] == "books"
    assert [li.text() for li in doc.find_all("li", cls="book")] == ["Dune Frank Herbert", "Emma"]
    assert [li.text() for li in doc.find_all("li", cls="read")] == ["Emma"]
    assert doc.find("table") is None


def test_void_elements_and_stray_end_tags_do_not_swallow_what_follows():
    doc = parse_html(PAGE)

    paragraph = doc.find("p")
    assert paragraph.text() == "Stray end tag and an image"
    assert paragraph.find("img").attrs == {"src": "a.png"}
    assert doc.find("title").text() == "Shelf"


def test_check_fails_with_the_learners_message():
    check(True, "never shown")
    with pytest.raises(CheckFailed, match="the page has no <ul id=books>"):
        check(False, "the page has no <ul id=books>")
