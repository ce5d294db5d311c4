"""Text that crosses the site's edge: JSON sent by browsers, and output shown on pages.

Requests: `parse_json` reads JSON from a request with a bound on how deeply it nests,
checked by a scan of the brackets before anything is parsed. Python's parser recurses once
per level and the encoder does again when the value is stored, so a body nested a few
hundred levels deep would otherwise end in a RecursionError (a server error) somewhere
between the request and the database, depending on how deep the stack already is.

Pages: `visible_controls` turns what a learner's app printed into text that shows every
character that could hide, reorder or restyle what is around it, instead of letting the
browser (or a terminal the text is copied into) act on it.
"""

from __future__ import annotations

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


class JSONTooDeep(ValueError):
    """A JSON text nests more deeply than the site reads."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"it is nested more than {max_depth} levels deep")
        self.max_depth = max_depth


def json_depth(text: str) -> int:
    """Return how deeply a JSON text nests arrays and objects, without parsing it."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def parse_json(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON sent by a client; raise ValueError if it is not JSON or nests too deeply.

    JSONTooDeep (a ValueError) says the text was refused for its depth, before parsing.
    """
    text = data.decode(json.detect_encoding(data)) if isinstance(data, bytes) else data
    # Only a text with more opening brackets than the bound is worth scanning.
    if text.count("[") + text.count("{") > max_depth and json_depth(text) > max_depth:
        raise JSONTooDeep(max_depth)
    return json.loads(text)


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
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return (
                f"it contains {describe_character(char)}, half of a character that is "
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


__all__ = [
    "CONTROL_PICTURES",
    "MAX_JSON_DEPTH",
    "JSONTooDeep",
    "describe_character",
    "hidden_character",
    "json_depth",
    "parse_json",
    "text_problem",
    "visible_controls",
]
