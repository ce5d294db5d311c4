"""The lesson editor's form: title, summary, Markdown body, and the version it started from."""

from __future__ import annotations

from datetime import datetime

from django import forms

from lessons.services import LessonText

# Four times the longest lesson of the course today (about 34,000 characters).
MAX_BODY_CHARS = 200_000
# A form post carrying a body that long, percent-encoded (up to 9 bytes per character).
MAX_PREVIEW_REQUEST_BYTES = 2 * 1024 * 1024


def _normalize_newlines(text: str) -> str:
    # Browsers send a textarea's line breaks as CRLF; the stored Markdown uses LF.
    return text.replace("\r\n", "\n").replace("\r", "\n")


class LessonEditForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        error_messages={
            "required": "A lesson needs a title.",
            "max_length": "The title is too long: at most 200 characters.",
        },
    )
    summary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or two sentences, shown under the title and in search results.",
    )
    body = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"spellcheck": "true", "autocapitalize": "sentences"}),
    )
    # The lesson's `updated` stamp when the editor was opened, to notice edits made since.
    loaded = forms.CharField(widget=forms.HiddenInput)

    def clean_summary(self) -> str:
        return _normalize_newlines(self.cleaned_data["summary"])

    def clean_body(self) -> str:
        body = _normalize_newlines(self.cleaned_data["body"])
        if len(body) > MAX_BODY_CHARS:
            raise forms.ValidationError(
                f"The lesson is too long to save: at most {MAX_BODY_CHARS:,} characters, and "
                f"this text has {len(body):,}. Split it into two lessons."
            )
        return body

    def clean_loaded(self) -> datetime:
        try:
            return datetime.fromisoformat(self.cleaned_data["loaded"])
        except ValueError:
            raise forms.ValidationError(
                "The editor lost track of which version it opened. Copy your text, then reload "
                "the page."
            ) from None

    def text(self) -> LessonText:
        """Return the edited text; call after is_valid()."""
        data = self.cleaned_data
        return LessonText(title=data["title"], summary=data["summary"], body=data["body"])
