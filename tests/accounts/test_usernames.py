from __future__ import annotations

import pytest

from accounts.usernames import hidden_character, look_alike, username_skeleton


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("teacher", "t\u0435acher"),  # Cyrillic small ie
        ("Teacher", "teacher"),  # case, as Django's own check refuses it too
        ("teacher", "\uff54\uff45\uff41\uff43\uff48\uff45\uff52"),  # fullwidth letters
        ("learner1", "learnerl"),
        ("Ian", "lan"),
        ("modern", "rnodern"),
        ("anna", "\u0430nn\u0430"),  # all the a's Cyrillic
    ],
)
def test_look_alike_usernames_share_a_skeleton(one, other):
    assert username_skeleton(one) == username_skeleton(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [("ada", "ada1"), ("jos\u00e9", "jose"), ("\u0432\u0430\u0441\u044f", "bacya"), ("bob", "rob")],
)
def test_usernames_a_reader_tells_apart_do_not(one, other):
    assert username_skeleton(one) != username_skeleton(other)


def test_look_alike_names_the_taken_username():
    assert look_alike("p\u0430yp\u0430l", ["ada", "paypal"]) == "paypal"
    assert look_alike("grace", ["ada", "paypal"]) is None


def test_hidden_characters_are_found():
    assert hidden_character("ada") is None
    assert hidden_character("ad\u200ba") == "\u200b"
    assert hidden_character("ada\x00") == "\x00"
