from __future__ import annotations

import html
import re
import threading
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from lessons.markdown import render_lesson, render_markdown, sanitize

FORBIDDEN_ELEMENTS = {
    "applet",
    "base",
    "button",
    "embed",
    "form",
    "frame",
    "frameset",
    "iframe",
    "link",
    "math",
    "meta",
    "noscript",
    "object",
    "script",
    "style",
    "svg",
    "template",
    "textarea",
}
FORBIDDEN_ATTRIBUTES = {"style", "srcdoc", "formaction", "action", "xlink:href", "autofocus"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")

# Each is a way someone has got script into a page through Markdown or HTML.
XSS_PAYLOADS = {
    "script-lower": "<script>alert(1)</script>",
    "script-upper": "<SCRIPT>alert(1)</SCRIPT>",
    "script-mixed-case-src": '<ScRiPt src="https://evil.example/x.js"></ScRiPt>',
    "script-nested-split": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "script-newline-in-tag": "<script\n>alert(1)</script\n>",
    "script-in-paragraph": "Hello <script>alert(1)</script> world",
    "md-link-javascript": "[click](javascript:alert(1))",
    "md-link-javascript-mixed-case": "[click](JaVaScRiPt:alert(1))",
    "md-link-javascript-angle-brackets": "[click](<javascript:alert(1)>)",
    "md-link-decimal-entity": "[click](&#106;avascript:alert(1))",
    "md-link-hex-entities": "[click](&#x6A;avascript&#x3A;alert(1))",
    "md-link-tab-entity": "[click](java&#09;script:alert(1))",
    "md-link-newline-entity": "[click](java&#10;script:alert(1))",
    "md-link-title-breakout": '[x](https://ok.example "t\\" onmouseover=\\"alert(1)")',
    "md-image-javascript": "![img](javascript:alert(1))",
    "md-reference-link": "[click][evil]\n\n[evil]: javascript:alert(1)",
    "md-reference-image": "![img][evil]\n\n[evil]: javascript:alert(1)",
    "md-reference-entity": "[click][evil]\n\n[evil]: &#106;avascript:alert(1)",
    "md-autolink-javascript": "<javascript:alert(1)>",
    "md-autolink-vbscript": "<vbscript:msgbox(1)>",
    "md-link-vbscript": "[click](vbscript:msgbox(1))",
    "md-link-data-html": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "md-image-data-svg": "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "md-image-data-png": "![img](data:image/png;base64,iVBORw0KGgo=)",
    "html-img-onerror": "<img src=x onerror=alert(1)>",
    "html-img-javascript-src": '<IMG SRC="javascript:alert(1)">',
    "html-img-onload-https": '<img src="https://ok.example/a.png" onload="alert(1)">',
    "html-a-decimal-entity": '<a href="&#106;avascript:alert(1)">x</a>',
    "html-a-hex-entities": (
        '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>'
    ),
    "html-a-leading-space": '<a href=" javascript:alert(1)">x</a>',
    "html-a-tab-entity": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "html-a-named-colon-entity": '<a href="javascript&colon;alert(1)">x</a>',
    "html-a-vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "html-a-data": '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "html-a-onclick": '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "html-div-onmouseover": '<div onmouseover="alert(1)">hover</div>',
    "html-p-onclick-upper": "<p ONCLICK=alert(1)>x</p>",
    "html-body-onload": "<body onload=alert(1)>",
    "html-details-ontoggle": "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "html-custom-element-handler": "<xss onpointerenter=alert(1)>x</xss>",
    "html-input-autofocus-onfocus": '<input type="text" onfocus="alert(1)" autofocus>',
    "html-label-onclick": '<label for="__tabbed_1_1" onclick="alert(1)">x</label>',
    "svg-onload": "<svg onload=alert(1)>",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "svg-animate-href": (
        '<svg><a><animate attributeName="href" values="javascript:alert(1)"/>'
        "<text>x</text></a></svg>"
    ),
    "math-href": '<math href="javascript:alert(1)">x</math>',
    "math-mglyph-style-mutation": (
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>"
        "</table></mtext></math>"
    ),
    "comment-open-close": "<!--><script>alert(1)</script>-->",
    "comment-bang-close": "<!-- --!><img src=x onerror=alert(1)>-->",
    "comment-conditional": "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "unclosed-img": "<img src=x onerror=alert(1)",
    "unclosed-a": '<a href="javascript:alert(1)"',
    "unclosed-script": "<script>alert(1)",
    "noscript-mutation": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "template-script": "<template><script>alert(1)</script></template>",
    "iframe-javascript": '<iframe src="javascript:alert(1)"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object-data": '<object data="javascript:alert(1)"></object>',
    "embed-data": '<embed src="data:text/html,<script>alert(1)</script>">',
    "style-element": "<style>body{background:url(javascript:alert(1))}</style>",
    "style-attribute-url": '<div style="background:url(javascript:alert(1))">x</div>',
    "style-attribute-expression": '<p style="width: expression(alert(1))">x</p>',
    "form-action": '<form action="javascript:alert(1)"><input type="submit"></form>',
    "button-formaction": '<button formaction="javascript:alert(1)">x</button>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base-href": '<base href="javascript:alert(1)//">',
    "link-stylesheet": '<link rel="stylesheet" href="javascript:alert(1)">',
    "fence-attribute-onclick": '```{.python onclick="alert(1)" style="color:red"}\nx = 1\n```',
    "fence-attribute-data-url": (
        '```{.python #x onmouseover=alert(1) data-x="javascript:1"}\nx\n```'
    ),
    "fence-title-img": '```python title="<img src=x onerror=alert(1)>"\nx\n```',
    "fence-title-and-onclick": (
        '```{.python title="<svg onload=alert(1)>" onclick="alert(1)"}\nx\n```'
    ),
    "tab-title-img": '=== "<img src=x onerror=alert(1)>"\n\n    body',
    "tab-title-script": '=== "Flask<script>alert(1)</script>"\n\n    body',
    "admonition-title-img": '!!! note "<img src=x onerror=alert(1)>"\n\n    body',
    "details-summary-svg": '??? note "<svg onload=alert(1)>"\n\n    body',
    "heading-img": "## <img src=x onerror=alert(1)>Title",
    "heading-script": "## Title <script>alert(1)</script>",
    "heading-link-javascript": "## [Title](javascript:alert(1))",
    "footnote-img": "Text[^1]\n\n[^1]: <img src=x onerror=alert(1)>",
    "table-cell-img": "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "inline-code-breakout": "`x` <img src=x onerror=alert(1)> `y`",
}


class _HTMLInventory(HTMLParser):
    """Collect every element, with its attributes, and every comment of a fragment."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str]]]] = []
        self.comments: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, [(name, value or "") for name, value in attrs]))

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def attributes_of(self, tag: str) -> list[dict[str, str]]:
        return [dict(attrs) for name, attrs in self.elements if name == tag]


def _scheme_view(url: str) -> str:
    """Return a URL the way a browser reads its scheme: unescaped, no blanks, lower case."""
    return re.sub(r"[\x00-\x20\x7f-\x9f]", "", html.unescape(url)).lower()


def assert_no_executable_content(fragment: str) -> None:
    inventory = _HTMLInventory(fragment)
    assert not FORBIDDEN_ELEMENTS & {tag for tag, _ in inventory.elements}, fragment
    assert not inventory.comments, fragment
    for _, attributes in inventory.elements:
        for name, value in attributes:
            assert not name.startswith("on"), fragment
            assert name not in FORBIDDEN_ATTRIBUTES, fragment
            if name in URL_ATTRIBUTES:
                assert not _scheme_view(value).startswith(DANGEROUS_SCHEMES), fragment


def _as_heading(payload: str) -> str:
    return "## " + payload.replace("\n", " ")


@pytest.mark.parametrize("payload", XSS_PAYLOADS.values(), ids=XSS_PAYLOADS.keys())
def test_render_markdown_leaves_nothing_executable(payload):
    assert_no_executable_content(render_markdown(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS.values(), ids=XSS_PAYLOADS.keys())
def test_render_lesson_body_and_toc_leave_nothing_executable(payload):
    for text in (payload, _as_heading(payload)):
        body, toc = render_lesson(text)
        assert_no_executable_content(body)
        assert_no_executable_content(toc)


@pytest.mark.parametrize("payload", XSS_PAYLOADS.values(), ids=XSS_PAYLOADS.keys())
def test_editor_preview_leaves_nothing_executable(staff_client, payload):
    response = staff_client.post(reverse("markdownx_markdownify"), {"content": payload})
    assert response.status_code == 200
    assert_no_executable_content(response.content.decode())


def test_the_payload_list_is_long_enough_to_mean_something():
    assert len(XSS_PAYLOADS) >= 35


def test_the_checker_catches_what_it_is_meant_to_catch():
    for unsafe in (
        "<script>x</script>",
        '<a href=" JAVA&#9;SCRIPT:x">y</a>',
        '<img src="data:image/png;base64,AA">',
        '<p onclick="x">y</p>',
        '<p style="color:red">y</p>',
        "<!-- x -->",
    ):
        with pytest.raises(AssertionError):
            assert_no_executable_content(unsafe)


def test_python_code_is_highlighted_with_pygments_classes():
    html_out = render_markdown("```python\ndef greet():\n    return 'hi'\n```\n")
    assert '<div class="highlight">' in html_out
    assert '<span class="k">def</span>' in html_out
    assert '<span class="nf">greet</span>' in html_out


def test_inline_code_can_be_highlighted():
    html_out = render_markdown("Call `#!python len(items)` to count.")
    assert '<code class="highlight">' in html_out
    assert '<span class="nb">len</span>' in html_out


def test_code_block_title_and_marked_lines_survive():
    html_out = render_markdown('```python title="app.py" hl_lines="2"\na = 1\nb = 2\n```\n')
    assert '<span class="filename">app.py</span>' in html_out
    assert '<span class="hll">' in html_out


def test_fence_attributes_cannot_add_arbitrary_classes():
    html_out = render_markdown("```{.python .btn-danger .hidden}\nx = 1\n```\n")
    assert '<div class="highlight">' in html_out
    assert "btn-danger" not in html_out
    assert "hidden" not in html_out


def test_the_sanitizer_strips_attributes_smuggled_onto_code_blocks():
    # Should an extension ever pass fence attributes through, they still stop here.
    html_out = sanitize(
        '<div class="highlight" onclick="alert(1)" style="color:red" data-x="1">'
        '<pre tabindex="0"><code class="language-python" onmouseover="alert(1)">x</code></pre>'
        "</div>"
    )
    elements = dict(_HTMLInventory(html_out).elements)
    assert elements["div"] == [("class", "highlight")]
    assert dict(elements["pre"]) == {"tabindex": "0", "role": "group", "aria-label": "Code"}
    assert elements["code"] in ([], [("class", "")])


def test_code_blocks_take_keyboard_focus_with_a_name():
    html_out = render_markdown("```python\nprint(1)\n```\n\n    indented = True\n")
    blocks = _HTMLInventory(html_out).attributes_of("pre")
    assert blocks == [{"tabindex": "0", "role": "group", "aria-label": "Code"}] * 2


def test_authors_cannot_change_how_a_code_block_is_announced():
    html_out = render_markdown('<pre tabindex="-1" role="button" aria-label="Click">x</pre>')
    blocks = _HTMLInventory(html_out).attributes_of("pre")
    assert blocks == [{"tabindex": "0", "role": "group", "aria-label": "Code"}]


def test_fences_can_be_marked_runnable():
    html_out = render_markdown("```{.python .runnable}\nprint(1)\n```\n")
    assert '<div class="runnable highlight">' in html_out


def test_tabs_keep_their_radio_inputs_and_labels():
    text = (
        '=== "Flask"\n\n    Flask code\n\n'
        '=== "Django"\n\n    Django code\n\n'
        '=== "FastAPI"\n\n    FastAPI code\n'
    )
    html_out = render_markdown(text)
    inputs = _HTMLInventory(html_out).attributes_of("input")
    assert len(inputs) == 3
    assert all(attrs["type"] == "radio" for attrs in inputs)
    assert len({attrs["name"] for attrs in inputs}) == 1
    assert "checked" in inputs[0]
    labels = re.findall(r'<label for="([^"]+)">([^<]+)</label>', html_out)
    assert [text for _, text in labels] == ["Flask", "Django", "FastAPI"]
    assert [target for target, _ in labels] == [attrs["id"] for attrs in inputs]
    assert 'class="tabbed-set tabbed-alternate"' in html_out
    assert 'class="tabbed-labels"' in html_out
    assert 'class="tabbed-block"' in html_out


def test_tab_groups_of_different_texts_do_not_share_names():
    first = render_markdown('=== "Flask"\n\n    one\n')
    second = render_markdown('=== "Flask"\n\n    two\n')
    first_names = set(re.findall(r'name="([^"]+)"', first))
    second_names = set(re.findall(r'name="([^"]+)"', second))
    assert first_names and second_names
    assert not first_names & second_names


def test_the_same_text_renders_the_same_html():
    text = '## Setup\n\n=== "Flask"\n\n    one\n'
    assert render_lesson(text) == render_lesson(text)


def test_raw_inputs_cannot_pose_as_form_fields():
    html_out = render_markdown('<input type="text" name="csrfmiddlewaretoken" value="x">')
    assert "csrfmiddlewaretoken" not in html_out
    assert 'type="text"' not in html_out
    assert "value=" not in html_out


def test_admonition_keeps_its_classes_and_title():
    html_out = render_markdown('!!! note "Before you start"\n\n    Install Python.\n')
    assert '<div class="admonition note">' in html_out
    assert '<p class="admonition-title">Before you start</p>' in html_out


def test_collapsible_details_keep_summary_and_open_state():
    html_out = render_markdown('???+ tip "Hint"\n\n    Try a loop.\n')
    assert '<details class="tip" open="open">' in html_out
    assert "<summary>Hint</summary>" in html_out


def test_headings_get_ids_and_the_toc_links_to_them():
    body, toc = render_lesson("## First steps\n\nText.\n\n### Install Flask\n\nMore.\n")
    assert '<h2 id="first-steps">' in body
    assert '<h3 id="install-flask">' in body
    assert '<a href="#first-steps"' in toc
    assert '<a href="#install-flask"' in toc
    assert 'class="toc"' in toc


def test_headings_have_a_titled_permalink():
    body, _ = render_lesson("## First steps\n")
    assert re.search(
        r'<a class="headerlink" href="#first-steps" title="Link to this section"[^>]*>#</a>', body
    )


def test_a_lesson_without_sections_has_no_toc():
    assert render_lesson("Just a paragraph.")[1] == ""


def test_a_previous_document_does_not_leak_into_the_next():
    render_lesson("## Old heading\n\nText[^1]\n\n[^1]: Old note\n")
    body, toc = render_lesson("New text.")
    assert toc == ""
    assert "Old" not in body


def test_tables_render_with_alignment_and_without_inline_styles():
    html_out = render_markdown("| Verb | Safe |\n|:-----|:----:|\n| GET | yes |\n")
    assert "<table>" in html_out
    assert '<th align="left">Verb</th>' in html_out
    assert '<td align="center">yes</td>' in html_out
    assert "style=" not in html_out


def test_safe_links_survive():
    html_out = render_markdown(
        "[docs](https://docs.djangoproject.com/) [next](../routing/) [top](#setup) "
        "[mail](mailto:teacher@example.org) [plain](http://example.org/)"
    )
    assert 'href="https://docs.djangoproject.com/"' in html_out
    assert 'href="../routing/"' in html_out
    assert 'href="#setup"' in html_out
    assert 'href="mailto:teacher@example.org"' in html_out
    assert 'href="http://example.org/"' in html_out


def test_external_links_do_not_give_the_target_page_a_handle_on_ours():
    html_out = render_markdown("[docs](https://flask.palletsprojects.com/)")
    assert 'rel="noopener noreferrer"' in html_out
    assert "target=" not in html_out


def test_images_keep_relative_and_https_sources():
    html_out = render_markdown(
        "![diagram](/media/lesson-images/a.png) ![logo](https://example.org/logo.png)"
    )
    assert 'src="/media/lesson-images/a.png"' in html_out
    assert 'alt="diagram"' in html_out
    assert 'src="https://example.org/logo.png"' in html_out


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
    assert render_lesson(None) == ("", "")


def test_rendering_in_several_threads_gives_the_same_html():
    text = '## Title\n\n```python\nprint(1)\n```\n\n=== "Flask"\n\n    x\n'
    expected = render_lesson(text)
    results: list[tuple[str, str]] = []

    def render() -> None:
        for _ in range(20):
            results.append(render_lesson(text))

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80
    assert all(result == expected for result in results)
