"""The one Markdown pipeline: Python-Markdown + pymdown-extensions, then nh3.

Lesson pages, exercise instructions, course and chapter texts and the editor's
live preview all go through `render_lesson` / `render_markdown`, so what an
author previews is exactly what learners get. Markdown passes raw HTML
through, so the sanitizer below, not the Markdown stage, is the security
boundary: it keeps only the tags, attributes, classes and URL schemes that the
extensions in use produce.

Runnable code blocks (```` ```{.python .runnable app=flask requests="GET /"} ````) are written
as lessons.runnable describes: `example=`, `file=`, `app=` and `requests=` in the fence's
braces. In a lesson each such block gets data-run-* attributes on its wrapper (checked again
by the sanitizer), from which the page's script builds Run, Edit and Reset; a block with a
wrong setting shows what is wrong instead. Elsewhere they are plain highlighted code.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import xml.etree.ElementTree as etree

import markdown
import nh3
from django.template.loader import render_to_string
from django.utils.html import escape
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pygments.token import STANDARD_TYPES
from pymdownx.keymap_db import keymap
from pymdownx.superfences import highlight_validator

from lessons.quizzes import QUIZ_FENCE, Question, QuizError, parse_question
from lessons.runnable import (
    BLOCK_KEYS,
    FRAMEWORKS,
    RUNNABLE_CLASS,
    SAFE_PATH,
    CodeBlock,
    code_blocks,
)

# Left out on purpose: `extra` and `fenced_code` (they clash with superfences),
# `md_in_html` and `attr_list` (they let authors put arbitrary attributes on
# elements), and `pymdownx.snippets` / `pymdownx.b64` (they read files from the
# server's disk).
EXTENSIONS = [
    "abbr",
    "admonition",
    "def_list",
    "footnotes",
    "sane_lists",
    "tables",
    "toc",
    "pymdownx.details",
    "pymdownx.highlight",
    "pymdownx.inlinehilite",
    "pymdownx.keys",
    "pymdownx.magiclink",
    "pymdownx.mark",
    "pymdownx.superfences",
    "pymdownx.tabbed",
]

EXTENSION_CONFIGS = {
    "pymdownx.highlight": {
        "use_pygments": True,
        "css_class": "highlight",
        # Guessing is slow and often wrong; an unlabelled fence is plain text.
        "guess_lang": False,
    },
    "pymdownx.tabbed": {"alternate_style": True},
    "pymdownx.superfences": {
        "custom_fences": [
            # Every other fence: highlighted as usual, with the run settings of lessons.runnable.
            {
                "name": "*",
                "class": "highlight",
                "validator": lambda *a, **kw: _code_validator(*a, **kw),
                "format": lambda *a, **kw: _code_fence(*a, **kw),
            },
            {"name": QUIZ_FENCE, "class": "quiz", "format": lambda *a, **kw: _quiz_fence(*a, **kw)},
        ]
    },
    # The align attribute instead of inline styles, which the sanitizer drops.
    "tables": {"use_align_attribute": True},
    "toc": {
        "permalink": "#",
        "permalink_title": "Link to this section",
        # The lesson title is the page's <h1>; the body starts at <h2>.
        "toc_depth": "2-3",
    },
}

ADMONITION_TYPES = frozenset(
    {
        "note",
        "abstract",
        "summary",
        "tldr",
        "info",
        "todo",
        "tip",
        "hint",
        "important",
        "success",
        "check",
        "done",
        "question",
        "help",
        "faq",
        "warning",
        "caution",
        "attention",
        "failure",
        "fail",
        "missing",
        "danger",
        "error",
        "bug",
        "example",
        "quote",
        "cite",
    }
)

_PYGMENTS_CLASSES = {name for name in STANDARD_TYPES.values() if name}
_KEY_CLASSES = {f"key-{name}" for name in keymap}

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "var",
    }
)

# Removed together with everything inside them, not just unwrapped.
REMOVED_WITH_CONTENT = frozenset(
    {
        "button",
        "embed",
        "form",
        "iframe",
        "math",
        "noscript",
        "object",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
    }
)

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

# A runnable block's wrapper names the block and how it runs (lessons.runnable); the page's
# script builds its toolbar from these. Each value is checked in _filter_attribute.
RUN_ATTRIBUTES = frozenset(
    {
        "data-run-block",
        "data-run-kind",
        "data-run-framework",
        "data-run-example",
        "data-run-file",
        "data-run-requests",
    }
)

ALLOWED_ATTRIBUTES = {
    "a": {"href", "id", "title"},
    "abbr": {"title"},
    "div": {"id", *RUN_ATTRIBUTES},
    "img": {"alt", "height", "src", "title", "width"},
    # The radio buttons and labels of tabbed blocks (alternate style).
    "input": {"id", "name"},
    "label": {"for"},
    "li": {"id"},
    "ol": {"start"},
    "sup": {"id"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    **{heading: {"id"} for heading in _HEADINGS},
}

_ALIGN = {"align": {"left", "center", "right"}}
ALLOWED_ATTRIBUTE_VALUES = {
    "details": {"open": {"", "open"}},
    "input": {"checked": {"", "checked"}},
    "td": _ALIGN,
    "th": _ALIGN,
}

ALLOWED_CLASSES = {
    "a": {"footnote-backref", "footnote-ref", "headerlink"},
    "code": {"highlight"},
    "details": set(ADMONITION_TYPES),
    "div": {
        "admonition",
        "footnote",
        "highlight",
        "linenodiv",
        # Set by authors (```{.python .runnable}) on examples readers can run.
        "runnable",
        "tabbed-alternate",
        "tabbed-block",
        "tabbed-content",
        "tabbed-labels",
        "tabbed-set",
        "toc",
        *ADMONITION_TYPES,
    },
    "kbd": _KEY_CLASSES,
    "p": {"admonition-title"},
    "span": {"filename", "hll", "keys", "linenos", "normal", *_PYGMENTS_CLASSES},
    "table": {"highlighttable"},
    "td": {"code", "linenos"},
    "th": {"filename"},
}

URL_SCHEMES = frozenset({"http", "https", "mailto"})

# A code block wider than its column scrolls sideways, which a keyboard can only do in an
# element that takes focus; a focusable element needs a role and a name to be announced.
# "group" rather than "region": a lesson has dozens of blocks, and regions are landmarks,
# which must each have a name of their own. site.js takes the Tab stop off blocks that fit.
CODE_BLOCK_ATTRIBUTES = {"tabindex": "0", "role": "group", "aria-label": "Code"}

_TAB_PREFIX = "__tabbed_"
_SAFE_ID = re.compile(r"\w[\w.:-]{0,127}\Z", re.ASCII)


_RUN_VALUES = {
    "data-run-block": re.compile(r"\d{1,4}\Z"),
    "data-run-kind": re.compile(r"(?:script|app)\Z"),
    "data-run-framework": re.compile(rf"(?:{'|'.join(FRAMEWORKS)})?\Z"),
    "data-run-example": re.compile(r"[A-Za-z0-9_-]{0,40}\Z"),
    "data-run-file": SAFE_PATH,
}
MAX_RUN_REQUESTS_CHARS = 16 * 1024


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep ids plain, run settings well-formed, and tab inputs pointing only at tab inputs."""
    if attribute in RUN_ATTRIBUTES:
        return value if _run_value_ok(attribute, value) else None
    if attribute not in {"id", "name", "for"}:
        return value
    if not _SAFE_ID.match(value):
        return None
    # Inputs exist only as tab switches: one named like a form field (say
    # csrfmiddlewaretoken) could shadow the real one for scripts on the page.
    if tag in {"input", "label"} and not value.startswith(_TAB_PREFIX):
        return None
    return value


def _run_value_ok(attribute: str, value: str) -> bool:
    if attribute != "data-run-requests":
        return bool(_RUN_VALUES[attribute].match(value))
    if len(value) > MAX_RUN_REQUESTS_CHARS:
        return False
    try:
        requests = json.loads(value)
    except ValueError:
        return False
    return isinstance(requests, list) and all(
        isinstance(r, dict) and all(isinstance(v, str) for v in r.values()) for r in requests
    )


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(REMOVED_WITH_CONTENT),
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
    # An <input> can only ever be a radio button; lazy images keep long lessons fast.
    set_tag_attribute_values={
        "input": {"type": "radio"},
        "img": {"loading": "lazy"},
        "pre": CODE_BLOCK_ATTRIBUTES,
    },
    allowed_classes=ALLOWED_CLASSES,
    url_schemes=set(URL_SCHEMES),
    strip_comments=True,
    # On every link, not only external ones: a raw-HTML <a> escapes any
    # Markdown-level check, and on a same-site link the attribute does no harm.
    link_rel="noopener noreferrer",
)


def sanitize(html: str) -> str:
    """Return HTML with everything outside the allow-lists removed."""
    return _CLEANER.clean(html)


class _TabNamespace(Treeprocessor):
    """Prefix tab radio names and ids with a key derived from the source text.

    pymdownx.tabbed numbers tab sets from 1 in every document. Two rendered
    texts on one page (a lesson and an exercise's instructions) would share
    radio groups, and switching a tab in one would blank the other.
    """

    key = ""

    def run(self, root: etree.Element) -> None:
        for element in root.iter("input"):
            for attribute in ("id", "name"):
                self._namespace(element, attribute)
        for element in root.iter("label"):
            self._namespace(element, "for")

    def _namespace(self, element: etree.Element, attribute: str) -> None:
        value = element.get(attribute, "")
        if value.startswith(_TAB_PREFIX):
            element.set(attribute, f"{_TAB_PREFIX}{self.key}_{value[len(_TAB_PREFIX) :]}")


class _TabNamespaceExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_TabNamespace(md), "tab_namespace", 1)


_local = threading.local()


def _markdown() -> markdown.Markdown:
    """Return this thread's Markdown instance, reset for a new document."""
    # Building the instance loads every extension; a Markdown object keeps
    # per-document state, so each thread reuses its own and resets it.
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = markdown.Markdown(
            extensions=[*EXTENSIONS, _TabNamespaceExtension()],
            extension_configs=EXTENSION_CONFIGS,
        )
    return md.reset()


# Quizzes -------------------------------------------------------------------------------------
#
# A quiz is a form, which the sanitizer rightly removes from anything an author writes. So the
# quiz fence leaves a placeholder whose id carries a random key made for this one conversion
# (no text can guess it), and once the body is sanitized each placeholder is replaced by the
# form our own template renders, in which the author's words are rendered and sanitized alone.

_QUIZ_SLOT = re.compile(r'<div id="quizslot-(?P<key>[0-9a-f]{16})-(?P<n>\d+)"></div>')


def _quiz_fence(source: str, language: str, css_class: str, options, md, **kwargs) -> str:
    """Render a quiz fence: a placeholder for the form, or a note saying what is wrong."""
    state = getattr(md, "quiz_state", None)
    if state is None:
        # Texts other than lessons (exercise instructions, course descriptions) have no
        # address that checks answers: there the question shows as the YAML it is.
        return f'<pre class="highlight"><code>{escape(source)}</code></pre>'
    try:
        question = parse_question(source)
    except QuizError as exc:
        return _quiz_problem(exc.message)
    if any(question.id == q.id for q in state["questions"]):
        return _quiz_problem(f'two questions have the id "{question.id}"')
    state["questions"].append(question)
    return f'<div id="quizslot-{state["key"]}-{len(state["questions"]) - 1}"></div>'


def _quiz_problem(message: str) -> str:
    # Shown only while an author previews a broken quiz: the import refuses one.
    return (
        '<div class="admonition danger"><p class="admonition-title">This quiz question cannot '
        f"be shown</p><p>{escape(message)}</p></div>"
    )


# Runnable blocks ------------------------------------------------------------------------------
#
# The settings of a fence (example=, file=, app=, requests=; see lessons.runnable) are not HTML
# attributes: the validator keeps them apart from the highlighter's options, and the formatter
# finds the block they belong to among those lessons.runnable read from the same text (by its
# code, in order), so the page and the service that runs block n agree on what block n is.

_RUN_SETTINGS = "run_settings"


def _code_validator(language: str, inputs: dict, options: dict, attrs: dict, md) -> bool:
    settings = {key: inputs.pop(key) for key in BLOCK_KEYS if key in inputs}
    okay = highlight_validator(language, inputs, options, attrs, md)
    if settings:
        options[_RUN_SETTINGS] = settings
    return okay


def _same_code(a: str, b: str, tab_length: int) -> bool:
    return a.expandtabs(tab_length).rstrip("\n") == b.expandtabs(tab_length).rstrip("\n")


def _take_block(md, src: str) -> CodeBlock | None:
    """Return (and use up) the first block read from the text that holds this code."""
    blocks = getattr(md, "run_blocks", None) or []
    for i, block in enumerate(blocks):
        if _same_code(block.code, src, md.tab_length):
            del blocks[i]
            return block
    return None


def run_attributes(block: CodeBlock) -> dict[str, str]:
    """Return the data attributes that let the page's script run a block."""
    attributes = {
        "data-run-block": str(block.index),
        "data-run-kind": block.kind,
        "data-run-file": block.entry,
    }
    if block.framework:
        attributes["data-run-framework"] = block.framework
    if block.example:
        attributes["data-run-example"] = block.example
    if block.framework:
        requests = [request.as_dict() for request in block.requests]
        attributes["data-run-requests"] = json.dumps(requests)
    return attributes


def _code_fence(src: str, language: str, class_name: str, options: dict, md, **kwargs) -> str:
    """Highlight a fence; give a runnable block of a lesson its run settings, or its problems."""
    settings = options.pop(_RUN_SETTINGS, None)
    classes = kwargs.get("classes") or []
    attrs = dict(kwargs.get("attrs") or {})
    block = None
    if settings or RUNNABLE_CLASS in classes:
        block = _take_block(md, src)
    if block is not None:
        if block.file and "title" not in options:
            options["title"] = block.file
        if block.usable:
            attrs.update({name: escape(value) for name, value in run_attributes(block).items()})
    html = md.preprocessors["fenced_code_block"].highlight(
        src=src,
        language=language,
        options=options,
        md=md,
        classes=classes,
        id_value=kwargs.get("id_value", ""),
        attrs=attrs,
    )
    if block is not None and block.problems:
        html += _run_problem(block.problems)
    return html


def _run_problem(problems: tuple[str, ...]) -> str:
    # Shown while an author previews the lesson; a course import refuses such a block.
    items = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
    return (
        '<div class="admonition danger"><p class="admonition-title">This block cannot be run'
        f"</p><ul>{items}</ul></div>"
    )


_inline_local = threading.local()


def render_fragment(text: str) -> str:
    """Return sanitized HTML for a question, option or explanation; one paragraph unwrapped."""
    md = getattr(_inline_local, "md", None)
    if md is None:
        md = _inline_local.md = markdown.Markdown(extensions=["pymdownx.mark", "sane_lists"])
    html = sanitize(md.reset().convert(text))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def render_question(question: Question) -> str:
    """Return a quiz question's form: its text and inputs, and nothing of its answers."""
    return render_to_string(
        "lessons/_quiz.html",
        {
            "question": question,
            "prompt_html": render_fragment(question.prompt),
            "options_html": [render_fragment(option.text) for option in question.options],
        },
    )


def _fill_quiz_slots(html: str, key: str, questions: list[Question]) -> str:
    def replace(match: re.Match) -> str:
        if match["key"] != key or int(match["n"]) >= len(questions):
            return ""
        return render_question(questions[int(match["n"])])

    return _QUIZ_SLOT.sub(replace, html)


def render_lesson(text: str | None) -> tuple[str, str]:
    """Return sanitized (body HTML, table-of-contents HTML) for a lesson's Markdown."""
    return _render(text, quizzes=True)


def _render(text: str | None, *, quizzes: bool) -> tuple[str, str]:
    text = text or ""
    md = _markdown()
    md.treeprocessors["tab_namespace"].key = hashlib.blake2b(
        text.encode(), digest_size=4
    ).hexdigest()
    state = {"key": secrets.token_hex(8), "questions": []} if quizzes else None
    md.quiz_state = state
    # Only lessons have an address that runs their blocks; elsewhere they are plain code.
    md.run_blocks = code_blocks(text) if quizzes else None
    try:
        body = md.convert(text)
    finally:
        md.quiz_state = None
        md.run_blocks = None
    # A lesson without sections gets no table of contents rather than an empty box.
    toc = sanitize(md.toc) if md.toc_tokens else ""
    body = sanitize(body)
    if state and state["questions"]:
        body = _fill_quiz_slots(body, state["key"], state["questions"])
    return body, toc


def render_markdown(text: str | None) -> str:
    """Return sanitized HTML for Markdown text (quizzes show as their source)."""
    return _render(text, quizzes=False)[0]
