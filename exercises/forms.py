"""Forms of the exercise page: a draft from the editor, and a submission from any source."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from exercises.models import Framework
from exercises.uploads import check_upload, pack_editor_files, pack_folder
from sandbox.archive import SubmissionRejected
from sandbox.policy import MiB, SandboxPolicy, policy_for
from sandbox.textsafety import JSONRefused, parse_json

# The largest request body the upload views read. Above the policy's limits (a folder is
# sent unzipped, plus multipart headers), and far below what would hurt the server.
MAX_REQUEST_BYTES = 6 * MiB


def _framework_choices(exercise) -> list[tuple[str, str]]:
    labels = dict(Framework.choices)
    return [(f, labels.get(f, f)) for f in exercise.frameworks]


class ParsedValueField(forms.Field):
    """A value of a JSON body that was already parsed: taken as it is, checked by the form."""

    def to_python(self, value: Any) -> Any:
        return value


class DraftForm(forms.Form):
    """The JSON body of an autosave: {"framework": ..., "files": {path: text}}."""

    NOT_AN_OBJECT = "The draft must be sent as a JSON object."

    framework = forms.ChoiceField(label="Framework")
    files = ParsedValueField(error_messages={"required": "The draft has no files."})

    def __init__(self, payload: Any, *, exercise, unreadable: str = NOT_AN_OBJECT) -> None:
        self.is_object = isinstance(payload, dict)
        self.unreadable = unreadable
        super().__init__(data=payload if self.is_object else {})
        self.fields["framework"].choices = _framework_choices(exercise)

    @classmethod
    def from_body(cls, body: bytes, *, exercise) -> DraftForm:
        """Return the form for a request body (invalid unless it is a JSON object)."""
        try:
            payload = parse_json(body or b"null")
        except JSONRefused as exc:
            return cls(None, exercise=exercise, unreadable=f"The draft could not be read: {exc}.")
        except ValueError:  # not JSON, not UTF-8, or a number too long to read
            payload = None
        return cls(payload, exercise=exercise)

    def clean(self) -> dict[str, Any]:
        if not self.is_object:
            raise ValidationError(self.unreadable)
        return super().clean()

    def clean_files(self) -> Any:
        files = self.cleaned_data["files"]
        if not isinstance(files, dict):
            raise ValidationError("The files must be an object of file paths to text.")
        return files

    def first_error(self) -> str:
        """Return one error message for the learner."""
        return _first_error(self, bare=("files",))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that accepts several files (a folder): cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class SubmissionForm(forms.Form):
    """A submission from the editor (`files`, JSON), a zip (`archive`) or a folder.

    `source` says which one the learner used. A folder comes as many files; browsers send
    only each file's base name, so the page's script adds their paths inside the folder, in
    order, to `paths` (a JSON list). Cleaning packs what was sent into
    `cleaned_data["zip"]`, checked with the grader's rules.
    """

    SOURCES = ("files", "archive", "folder")

    framework = forms.ChoiceField(label="Framework")
    files = forms.CharField(required=False, widget=forms.HiddenInput)
    archive = forms.FileField(required=False, allow_empty_file=True)
    folder = MultipleFileField(required=False, allow_empty_file=True)
    paths = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, exercise, source: str = "files", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source if source in self.SOURCES else "files"
        self.exercise = exercise
        self.policy = policy_for(exercise.limits)
        self.fields["framework"].choices = _framework_choices(exercise)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["zip"] = self._pack(cleaned)
        except SubmissionRejected as exc:
            raise ValidationError(str(exc)) from exc
        return cleaned

    def _pack(self, cleaned: dict[str, Any]) -> bytes:
        source = self.source
        if source == "archive" and cleaned.get("archive"):
            upload = cleaned["archive"]
            limit = self.policy.max_archive_bytes
            too_big = f"The zip is {_size(upload.size)}; uploads may be at most {_size(limit)}."
            return check_upload(_read(upload, limit, too_big), policy=self.policy)
        if source == "folder" and cleaned.get("folder"):
            return pack_folder(self._folder_files(cleaned), policy=self.policy)
        if source == "files" and cleaned.get("files"):
            try:
                # pack_editor_files refuses a file that is not text, naming it.
                files = parse_json(cleaned["files"], allow_surrogates=True)
            except JSONRefused as exc:
                raise SubmissionRejected(f"The editor's files could not be read: {exc}.") from None
            except ValueError:
                raise SubmissionRejected(
                    "The editor's files could not be read. Reload the page and try again."
                ) from None
            return pack_editor_files(files, policy=self.policy)
        return self._nothing_sent(source)

    def _folder_files(self, cleaned: dict[str, Any]) -> list[tuple[str, bytes]]:
        uploads = cleaned["folder"]
        try:
            paths = parse_json(cleaned.get("paths") or "null", max_depth=1)
        except ValueError:  # not JSON, or nested: a list of paths is one level deep
            paths = None
        if (
            not isinstance(paths, list)
            or len(paths) != len(uploads)
            or not all(isinstance(p, str) for p in paths)
        ):
            raise SubmissionRejected(
                "Your browser did not send where each file of the folder belongs. "
                "Zip the folder and upload the zip instead."
            )
        limit = self.policy.max_submission_bytes
        too_big = (
            f"The files in the folder add up to more than {_size(limit)}, which is the limit. "
            "Leave out virtual environments, databases and other generated files."
        )
        remaining = limit
        files = []
        for path, upload in zip(paths, uploads, strict=True):
            data = _read(upload, remaining, too_big)
            remaining -= len(data)
            files.append((path, data))
        return files

    @staticmethod
    def _nothing_sent(source: str) -> bytes:
        raise SubmissionRejected(
            {
                "archive": "Choose a .zip file to upload.",
                "folder": "Choose a folder to upload.",
                "files": "There are no files to submit.",
            }[source]
        )

    def first_error(self) -> str:
        """Return one error message for the learner."""
        return _first_error(self, bare=("files", "archive", "folder", "paths"))


def _first_error(form: forms.Form, *, bare: tuple[str, ...] = ()) -> str:
    """Return the form's first error, the whole-form ones first, labelled by field."""
    errors = form.errors
    if "__all__" in errors:
        return str(errors["__all__"][0])
    for name, messages in errors.items():
        if name in bare:
            return str(messages[0])
        return f"{form.fields[name].label or name}: {messages[0]}"
    return ""


def _read(upload, limit: int, too_big: str) -> bytes:
    """Read an uploaded file, refusing it past `limit` bytes without reading it all."""
    if upload.size is not None and upload.size > limit:
        raise SubmissionRejected(too_big)
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise SubmissionRejected(too_big)
    return data


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{max(1, n // 1024)} KiB"


def request_too_big(content_length: str | None, *, policy: SandboxPolicy) -> str:
    """Return a message if a request announces a body larger than the upload views read."""
    try:
        size = int(content_length or 0)
    except ValueError:
        return ""
    if size <= MAX_REQUEST_BYTES:
        return ""
    return (
        f"The upload is too large to be accepted ({_size(size)}). A submission may hold at "
        f"most {_size(policy.max_submission_bytes)} of files: leave out virtual environments, "
        "databases and other generated files."
    )
