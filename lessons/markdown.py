"""The one Markdown pipeline: Python-Markdown + pymdown-extensions, then nh3."""

from __future__ import annotations

import markdown


def _md() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["pymdownx.superfences", "pymdownx.highlight", "toc", "tables"],
        extension_configs={"pymdownx.highlight": {"use_pygments": True, "css_class": "highlight"}},
    )


def render_lesson(text: str) -> tuple[str, str]:
    """Return (body HTML, table-of-contents HTML) for a lesson's Markdown."""
    md = _md()
    html = md.convert(text or "")
    return html, md.toc


def render_markdown(text: str) -> str:
    """Return sanitized HTML for Markdown text."""
    return render_lesson(text)[0]
