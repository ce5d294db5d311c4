"""Usernames that cannot pass for someone else's: no hidden characters, no look-alikes.

Two usernames are look-alikes when they have the same skeleton, as Unicode's security
mechanisms (UTS #39, section 4) define it: each character is replaced by the one character
its whole class of confusables maps to, so "teacher" spelt with a Cyrillic e (U+0435) and
"teacher" meet. The classes come from Unicode's confusables table as the confusable_homoglyphs
package ships it. On top of UTS #39 the skeleton is taken again after case folding, since
the site already treats usernames that differ only in case as the same (Django's
UserCreationForm refuses them).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from confusable_homoglyphs.confusables import confusables_data

# Hidden from a reader, or acting on the text around them: controls, format characters
# (bidi overrides, zero-width spaces), surrogates, line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# The package's table keeps the left-to-right marks that wrap right-to-left characters in
# the comments of Unicode's file; they are not part of the characters.
_DISPLAY_MARKS = "\u200e\u200f"


def hidden_character(username: str) -> str | None:
    """Return the first control, format or separator character of a username, if any."""
    return next((c for c in username if unicodedata.category(c) in HIDDEN_CATEGORIES), None)


def username_skeleton(username: str) -> str:
    """Return what a username looks like: equal for usernames a reader could mistake."""
    text = unicodedata.normalize("NFKC", username)
    return _skeleton(_skeleton(text).casefold())


def look_alike(username: str, taken: Iterable[str]) -> str | None:
    """Return the first of the `taken` usernames that looks like `username`, if any."""
    skeleton = username_skeleton(username)
    return next((other for other in taken if username_skeleton(other) == skeleton), None)


def _skeleton(text: str) -> str:
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


@cache
def _prototypes() -> dict[str, str]:
    """Map each confusable character to the text its class of confusables is shown as.

    The table pairs each character with its confusables, in both directions, so a class is
    a connected group of pairs. A class that holds a sequence ("rn" for "m") is shown as
    that sequence; otherwise as its lowest code point.
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        root = node
        while parent.setdefault(root, root) != root:
            root = parent[root]
        parent[node] = root
        return root

    for char, entries in confusables_data.items():
        char = char.strip(_DISPLAY_MARKS)
        for entry in entries:
            other = entry["c"].strip(_DISPLAY_MARKS)
            if char and other:
                first, second = sorted((find(char), find(other)))
                parent[second] = first

    classes: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        classes[find(node)].append(node)
    lowest = {
        node: min((m for m in members if len(m) == 1), default=node)
        for members in classes.values()
        for node in members
    }
    prototypes = {}
    for members in classes.values():
        sequences = sorted(m for m in members if len(m) > 1)
        shown = "".join(lowest.get(c, c) for c in sequences[0]) if sequences else min(members)
        prototypes.update((m, shown) for m in members if len(m) == 1)
    return prototypes


__all__ = ["hidden_character", "look_alike", "username_skeleton"]
