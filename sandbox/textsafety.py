"""Text that crosses the site's edge: JSON sent by browsers, and output shown on pages.

Requests: `parse_json` reads JSON from a request with a bound on how deeply it nests,
checked by a scan of the brackets before anything is parsed. Python's parser recurses once
per level and the encoder does again when the value is stored, so a body nested a few
hundred levels deep would otherwise end in a RecursionError (a server error) somewhere
between the request and the database, depending on how deep the stack already is.

Pages: `visible_controls` turns what a learner's app printed into text that shows every
character that could hide, reorder or restyle what is around it, instead of letting the
browser (or a terminal the text is copied into) act on it. `html_to_text` turns a page the app
answered (its 500 error page, quoted in a failure message) into the lines a reader would see,
and `readable_message` does that to the HTML quoted in a message: pages never render it.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from itertools import accumulate
from typing import Any

# Drafts and folder paths nest two levels; a learner never sends anything near this.
MAX_JSON_DEPTH = 32

# A JSON string, from its opening quote to its closing one (or to the end of the text when
# it has none). Possessive, so it never backtracks: the scan stays linear on any input.
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONRefused(ValueError):
    """A JSON text the site does not read; its message says why, to the person who sent it."""


class JSONTooDeep(JSONRefused):
    """A JSON text nests more deeply than the site reads."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"it is nested more than {max_depth} levels deep")
        self.max_depth = max_depth


class JSONNotText(JSONRefused):
    """A JSON string holds a lone surrogate (an escape from \\ud800 to \\udfff not in a pair):
    valid JSON, but not text that can be stored, shown or sent on as UTF-8."""

    def __init__(self) -> None:
        super().__init__("it holds a character that is not text (an unpaired surrogate)")


# An escape of a surrogate: a pair of them is one character once parsed, a lone one is none.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _holds_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_surrogate(item) for item in value)
    return False


def json_depth(text: str) -> int:
    """Return how deeply a JSON text nests arrays and objects, without parsing it."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def parse_json(
    data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, allow_surrogates: bool = False
) -> Any:
    """Parse JSON sent by a client; raise ValueError if it is not JSON, nests too deeply or
    holds a string that is not text.

    JSONTooDeep (a JSONRefused, a ValueError) says the text was refused for its depth, before
    parsing; JSONNotText that a string holds a lone surrogate (unless `allow_surrogates`:
    for a caller that refuses them itself, naming where they are).
    """
    text = data.decode(json.detect_encoding(data)) if isinstance(data, bytes) else data
    # Only a text with more opening brackets than the bound is worth scanning.
    if text.count("[") + text.count("{") > max_depth and json_depth(text) > max_depth:
        raise JSONTooDeep(max_depth)
    value = json.loads(text)
    if not allow_surrogates and _SURROGATE_ESCAPE.search(text) and _holds_surrogate(value):
        raise JSONNotText()
    return value


# Characters that are not what they seem -----------------------------------------------

# Zero-width joiners are part of ordinary writing (emoji sequences, Persian, Indic scripts).
_JOINERS = frozenset("\u200c\u200d")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def hidden_character(text: str) -> str | None:
    """Return the first character of `text` that is invisible or acts on the text around it.

    That is a control character (C0, DEL, C1), a format character (bidirectional controls
    such as U+202E, zero-width spaces, the byte order mark), a lone surrogate, or a line or
    paragraph separator; joiners are allowed.
    """
    for char in text:
        if char not in _JOINERS and unicodedata.category(char) in _HIDDEN_CATEGORIES:
            return char
    return None


def describe_character(char: str) -> str:
    """Return how a message names a character: "U+202E (RIGHT-TO-LEFT OVERRIDE)"."""
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    return f"{code} ({name})" if name else code


def text_problem(text: str) -> str | None:
    """Return why a file's text cannot be stored (a NUL or a lone surrogate), or None."""
    if "\0" in text:
        return "it contains a NUL character (U+0000), which text files cannot hold"
    if surrogate := _SURROGATE.search(text):
        return (
            f"it contains {describe_character(surrogate[0])}, half of a character that is "
            "not valid text"
        )
    return None


# Showing output on pages ----------------------------------------------------------------

# C0 controls and DEL have visible stand-ins, the Unicode control pictures: NUL reads "␀".
CONTROL_PICTURES = {chr(code): chr(0x2400 + code) for code in range(0x20)} | {"\x7f": "\u2421"}
_KEPT = frozenset("\n\t")


def visible_controls(text: str) -> str:
    """Return `text` with every control and format character shown instead of acting.

    C0 controls and DEL become the Unicode control pictures (ESC is "␛", so a colour code
    reads "␛[31m"), other controls, format characters (bidi overrides and isolates,
    zero-width spaces), lone surrogates and line separators become "<U+202E>". Line feeds
    and tabs stay, and so does a carriage return before a line feed (Windows line ends).
    """
    text = text.replace("\r\n", "\n")
    if all(c in _KEPT or c.isprintable() for c in text):
        return text
    out = []
    for char in text:
        if char in _KEPT or char in _JOINERS:
            out.append(char)
        elif char in CONTROL_PICTURES:
            out.append(CONTROL_PICTURES[char])
        elif unicodedata.category(char) in _HIDDEN_CATEGORIES:
            out.append(f"<U+{ord(char):04X}>")
        else:
            out.append(char)
    return "".join(out)


# HTML quoted in messages ------------------------------------------------------------------

# Enough of any page for a message; what follows is never read, so no page is slow to show.
HTML_SOURCE_CHARS = 64 * 1024
HTML_TEXT_CHARS = 1000

_SCRIPT_START = re.compile(r"(?i)<(script|style)\b")
# Not <[^>]*>: on a page of "<<<<…" that tries every "<" to the end, in quadratic time.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*+)?[^<>]*+>")
# Elements that start a line of their own where a browser shows them.
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "head", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "table",
    "tbody", "tfoot", "thead", "title", "tr", "ul",
})  # fmt: skip
# Cells and form controls read as separate words; other inline tags join their text.
_SPACED_TAGS = frozenset({"td", "th", "img", "input", "button", "option"})
# Where a message starts quoting a page: its doctype or <html> tag (then other tags).
_PAGE_START = re.compile(r"(?i)<(?:!doctype\s+html|html)\b[^<>]*+>")
_SPACES = re.compile(r"[ \t\f\v]+")
_TITLE = re.compile(r"(?i)<title\b[^<>]*+>([^<]*+)</title\s*>")


def _without_scripts(text: str) -> str:
    """Return HTML without its scripts and style sheets, in one pass over the text."""
    kept = []
    position = 0
    while start := _SCRIPT_START.search(text, position):
        kept.append(text[position : start.start()])
        end = re.compile(rf"(?i)</{start.group(1)}\s*>").search(text, start.end())
        if end is None:  # unclosed: the rest is script
            return "".join(kept)
        kept.append(" ")
        position = end.end()
    kept.append(text[position:])
    return "".join(kept)


def _tag_to_text(match: re.Match[str]) -> str:
    name = (match.group(2) or "").lower()
    if name in _BLOCK_TAGS:
        return "\n"
    return " " if name in _SPACED_TAGS else ""


def html_to_text(page: str, *, limit: int = HTML_TEXT_CHARS) -> str:
    """Return the text a browser would show of an HTML page, one block (heading, paragraph) a line.

    Scripts, style sheets, comments and tags are dropped and character references decoded.
    Only the first HTML_SOURCE_CHARS of the page are read, and at most `limit` characters
    are returned (ending "…" when cut); the work is linear in the page, whatever it holds.
    """
    text = _without_scripts(page[:HTML_SOURCE_CHARS])
    cut = text.rfind("<")
    if cut != -1 and ">" not in text[cut:]:
        text = text[:cut]  # a tag cut off by whoever quoted the page
    # The title repeats the page's heading ("500 Internal Server Error", then "Internal
    # Server Error"): it is shown only when the page has nothing else to say.
    title = _TITLE.search(text)
    if title is not None:
        text = text[: title.start()] + "\n" + text[title.end() :]
    text = _lines(text) or (_lines(title.group(1)) if title is not None else "")
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _lines(html_text: str) -> str:
    text = html.unescape(_TAG.sub(_tag_to_text, html_text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _more_tags(text: str, position: int) -> bool:
    """Tell whether an element other than <html> follows: a page, not a tag named in words."""
    return any(
        tag.group(1) or (tag.group(2) or "").lower() not in ("", "html")
        for tag in _TAG.finditer(text, position, position + HTML_SOURCE_CHARS)
    )


def readable_message(message: str, *, limit: int = HTML_TEXT_CHARS) -> str:
    """Return a message with the HTML page it quotes (if any) shown as the page's text.

    A page starts at its doctype or <html> tag, followed by more tags: a message that only
    names tags ("expected <title>Books</title>, got 'Shelf'") stays as it is.
    """
    start = _PAGE_START.search(message)
    if start is None or not _more_tags(message, start.end()):
        return message
    page = html_to_text(message[start.start() :], limit=limit)
    before = message[: start.start()].rstrip(" ")
    if not page:
        return before + " (an HTML page without text)" if before else "(an HTML page without text)"
    return f"{before}\n{page}" if before else page


__all__ = [
    "CONTROL_PICTURES",
    "HTML_TEXT_CHARS",
    "MAX_JSON_DEPTH",
    "JSONNotText",
    "JSONRefused",
    "JSONTooDeep",
    "describe_character",
    "hidden_character",
    "html_to_text",
    "json_depth",
    "parse_json",
    "readable_message",
    "text_problem",
    "visible_controls",
]
