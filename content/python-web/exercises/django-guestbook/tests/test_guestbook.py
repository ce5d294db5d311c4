"""HTTP tests for the guestbook: its page, its form and the entries stored through the ORM."""

from datetime import datetime

import pytest
from grader import CheckFailed, check, expect, parse_html

FIRST_ENTRIES = [
    ("Ada Lovelace", "The Analytical Engine weaves algebraic patterns."),
    ("Grace Hopper", "It's easier to ask forgiveness than it is to get permission."),
]


def home(client):
    """Fetch the guestbook page, check it is HTML, and return it parsed."""
    return parse_html(expect(client.get("/"), status=200, content_type="text/html").text)


def entries(doc):
    """Return (name, message) for each <li> of <ol id="entries">, top to bottom."""
    ol = doc.find("ol", id="entries")
    if ol is None:
        return []
    found = []
    for li in ol.find_all("li"):
        name = li.find(None, cls="name")
        message = li.find(None, cls="message")
        found.append((name.text() if name else None, message.text() if message else None))
    return found


def sign(client, name, message):
    """Post the form the way a browser does: with the CSRF token from the page and its cookie."""
    field = home(client).find("input", name="csrfmiddlewaretoken")
    check(field is not None, "GET /: the form has no CSRF token; add {% csrf_token %} to it")
    data = {"csrfmiddlewaretoken": field.attrs.get("value", ""), "name": name, "message": message}
    return client.post("/", data=data)


# The page ----------------------------------------------------------------------------------


def test_home_page_is_html(client):
    """GET / answers 200 with an HTML page."""
    home(client)


@pytest.mark.points(2)
def test_page_lists_the_entries_from_the_data_migration(client):
    """The page lists the two entries added by the data migration."""
    shown = entries(home(client))
    missing = [entry for entry in FIRST_ENTRIES if entry not in shown]
    check(not missing, f'GET /: expected <ol id="entries"> to list {missing}; it lists {shown}')


def test_form_has_the_fields_and_a_csrf_token(client):
    """The page has a POST form with the fields name and message and a CSRF token."""
    form = home(client).find("form")
    check(
        form is not None and form.attrs.get("method", "").lower() == "post",
        'GET /: expected a <form method="post">',
    )
    names = {e.attrs.get("name") for e in form.iter() if e.tag in ("input", "textarea")}
    missing = sorted({"name", "message", "csrfmiddlewaretoken"} - names)
    check(not missing, f"GET /: the form lacks the field(s) {missing}")


def test_each_entry_shows_when_it_was_written(client):
    """Each entry has a <time datetime="..."> with its date and time."""
    ol = home(client).find("ol", id="entries")
    items = ol.find_all("li") if ol else []
    check(items, 'GET /: expected entries in <ol id="entries">')
    for li in items:
        time = li.find("time")
        stamp = time.attrs.get("datetime", "") if time else ""
        try:
            datetime.fromisoformat(stamp)
        except ValueError:
            raise CheckFailed(
                'GET /: each entry needs a <time datetime="..."> with an ISO date and time, '
                f"got {stamp!r} in {li.text()!r}"
            ) from None


# Signing -----------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_signing_redirects_back_to_the_page(client):
    """Posting a valid entry redirects to /."""
    r = expect(sign(client, "Linus", "Talk is cheap."), status=(302, 303))
    location = r.headers.get("location", "")
    check(
        location in ("/", "http://localhost/"),
        f"POST /: expected a redirect to /, got Location {location!r}",
    )


@pytest.mark.points(2)
def test_new_entry_is_listed_first(client):
    """A new entry is saved and listed first."""
    sign(client, "Margaret Hamilton", "Looking forward to the next mission.")
    shown = entries(home(client))
    first = shown[0] if shown else None
    expected = ("Margaret Hamilton", "Looking forward to the next mission.")
    check(first == expected, f"GET /: expected the newest entry {expected} first, got {first}")


def test_entry_without_a_message_is_not_saved(client):
    """An entry without a message shows the form's errors and is not saved."""
    before = entries(home(client))
    r = expect(sign(client, "Nobody", ""), status=(200, 400))
    check(
        parse_html(r.text).find("ul", cls="errorlist") is not None,
        'POST /: expected the form again, with its errors (<ul class="errorlist">)',
    )
    check(entries(home(client)) == before, "POST /: an entry without a message was saved")


@pytest.mark.visibility("hidden")
def test_name_over_50_characters_is_not_saved(client):
    """An entry with a 51-character name is not saved."""
    before = entries(home(client))
    expect(sign(client, "x" * 51, "Too long a name"), status=(200, 400))
    check(entries(home(client)) == before, "POST /: an entry with a 51-character name was saved")


def test_post_without_csrf_token_is_refused(client):
    """A POST without a CSRF token is refused with 403."""
    expect(client.post("/", data={"name": "Mallory", "message": "No token"}), status=403)


@pytest.mark.visibility("hidden")
@pytest.mark.hint("someone may sign with HTML in their name")
def test_entries_are_escaped(client):
    """Names and messages are shown as text, not run as HTML."""
    sign(client, "<b>Bold</b>", "<script>alert(1)</script>")
    doc = home(client)
    main = doc.find("main") or doc
    check(
        entries(doc)[:1] == [("<b>Bold</b>", "<script>alert(1)</script>")]
        and not main.find_all("script"),
        "GET /: names and messages must be shown as text, not as HTML: "
        "let the template escape them and do not mark them |safe",
    )
