from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from pygments.style import Style
from pygments.token import Comment, Whitespace

from lessons.management.commands.pygments_css import DarkStyle, LightStyle, build_stylesheet

DARK = '[data-theme="dark"] .highlight'
SYSTEM_DARK = ':root:not([data-theme="light"]) .highlight'


def _luminance(colour: str) -> float:
    red, green, blue = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(foreground: str, background: str) -> float:
    """Return the WCAG contrast ratio of two #rrggbb colours."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture
def written(tmp_path) -> str:
    output = tmp_path / "css" / "pygments.css"
    call_command("pygments_css", output=output, stdout=StringIO())
    return output.read_text()


def test_the_command_writes_a_light_and_a_dark_theme(written):
    assert re.search(r"^\.highlight \.k \{", written, re.MULTILINE)
    assert re.search(rf"^{re.escape(DARK)} \.k \{{", written, re.MULTILINE)
    media = written[written.index("@media (prefers-color-scheme: dark) {") :]
    assert re.search(rf"^  {re.escape(SYSTEM_DARK)} \.k \{{", media, re.MULTILINE)
    assert media.rstrip().endswith("}")


def test_the_themes_use_different_colours(written):
    light = re.search(r"^\.highlight \.c \{ color: (#\w+)", written, re.MULTILINE)[1]
    dark = re.search(rf"^{re.escape(DARK)} \.c \{{ color: (#\w+)", written, re.MULTILINE)[1]
    assert light.lower() != dark.lower()


def test_every_rule_is_scoped_to_code_blocks(written):
    rules = [
        line.strip()
        for line in written.splitlines()
        if "{" in line and not line.startswith(("@media", "/*"))
    ]
    assert rules
    assert all(rule.startswith((".highlight", DARK, SYSTEM_DARK)) for rule in rules)


def test_the_checked_in_stylesheet_is_up_to_date():
    checked_in = settings.BASE_DIR / "static" / "css" / "pygments.css"
    assert checked_in.read_text() == build_stylesheet()


def test_the_command_reports_where_it_wrote(tmp_path):
    out = StringIO()
    call_command("pygments_css", output=tmp_path / "p.css", stdout=out)
    assert str(tmp_path / "p.css") in out.getvalue()


@pytest.mark.parametrize("style", [LightStyle, DarkStyle], ids=["light", "dark"])
def test_every_token_is_readable_on_its_background(style: type[Style]):
    for token, definition in style:
        if token in Whitespace or not definition["color"]:
            continue
        background = "#" + definition["bgcolor"] if definition["bgcolor"] else None
        ratio = contrast("#" + definition["color"], background or style.background_color)
        assert ratio >= 4.5, token


@pytest.mark.parametrize("style", [LightStyle, DarkStyle], ids=["light", "dark"])
def test_comments_line_numbers_and_marked_lines_are_readable(style: type[Style]):
    comment = "#" + style.style_for_token(Comment)["color"]
    assert contrast(comment, style.background_color) >= 4.5
    assert contrast(comment, style.highlight_color) >= 4.5
    assert contrast(style.line_number_color, style.background_color) >= 4.5
