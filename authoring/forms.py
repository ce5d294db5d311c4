"""The instructor area's exercise form: exercise.toml's fields, README.md and the files."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from authoring.exercises import ExerciseFields, ExerciseInvalid, exercise_zip_read
from courses.models import Status
from lessons.models import Lesson
from sandbox.policy import DEFAULT_POLICY, MiB
from sandbox.spec import FRAMEWORKS, STORED_FOLDERS
from sandbox.textsafety import JSONRefused, parse_json

# The [limits] an exercise may set (SandboxPolicy.OVERRIDABLE), as the form shows them.
LIMIT_LABELS = {
    "memory_mb": ("Memory (MiB)", DEFAULT_POLICY.memory_bytes // MiB),
    "cpus": ("CPU cores", DEFAULT_POLICY.cpus),
    "pids": ("Processes", DEFAULT_POLICY.pids_limit),
    "boot_timeout": ("Start-up time (s)", DEFAULT_POLICY.boot_timeout),
    "wall_timeout": ("Whole run (s)", DEFAULT_POLICY.wall_timeout),
    "request_timeout": ("Per request (s)", DEFAULT_POLICY.request_timeout),
    "max_files": ("Files in a submission", DEFAULT_POLICY.max_files),
}
INTEGER_LIMITS = {"memory_mb", "pids", "max_files"}
MAX_FOLDER_ZIP_BYTES = 8 * MiB


class ExerciseForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=50, help_text="Letters, digits, '-' and '_'; part of the exercise's address."
    )
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    lesson = forms.ModelChoiceField(
        queryset=Lesson.objects.none(),
        required=False,
        empty_label="(none)",
        help_text="The lesson this exercise practises.",
    )
    instructions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown, shown to learners above the editor.",
    )
    frameworks = forms.MultipleChoiceField(
        choices=list(FRAMEWORKS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text="Each needs its starter/<framework>/ and solution/<framework>/ files.",
    )
    points = forms.IntegerField(
        required=False,
        min_value=0,
        help_text="Empty: the points of the tests, set when the exercise is published.",
    )
    status = forms.ChoiceField(
        choices=Status.choices,
        widget=forms.RadioSelect,
        initial=Status.DRAFT,
        help_text="Published once the current version passed validation.",
    )
    files = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        help_text="The files as JSON: path → text.",
    )
    folder_zip = forms.FileField(
        required=False,
        label="Or upload the exercise folder as a zip",
        help_text="exercise.toml, README.md, tests/, starter/, solution/: it replaces "
        "everything above but the status.",
    )

    def __init__(self, *args, course, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.course = course
        self.fields["lesson"].queryset = Lesson.objects.filter(
            chapter__course=course
        ).select_related("chapter")
        for key, (label, default) in LIMIT_LABELS.items():
            _, _, low, high = DEFAULT_POLICY.OVERRIDABLE[key]
            field_class = forms.IntegerField if key in INTEGER_LIMITS else forms.FloatField
            self.fields[f"limit_{key}"] = field_class(
                required=False,
                min_value=low,
                max_value=high,
                label=label,
                help_text=f"From {low:g} to {high:g}; empty: {default:g}",
            )
        self.zip_fields: ExerciseFields | None = None

    def limit_fields(self) -> list[forms.BoundField]:
        return [self[f"limit_{key}"] for key in LIMIT_LABELS]

    def clean_files(self) -> dict[str, str]:
        raw = self.cleaned_data.get("files") or "{}"
        try:
            files = parse_json(raw.encode())
        except JSONRefused as exc:
            raise ValidationError(
                f"The files could not be read: {exc}; nothing was changed."
            ) from exc
        except ValueError as exc:
            raise ValidationError("The files could not be read; nothing was changed.") from exc
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise ValidationError("The files must map file paths to text.")
        outside = sorted(p for p in files if p.split("/", 1)[0] not in STORED_FOLDERS)
        if outside:
            raise ValidationError(
                f"{outside[0]}: files belong in tests/, starter/<framework>/ or "
                "solution/<framework>/."
            )
        return files

    def clean_folder_zip(self):
        upload = self.cleaned_data.get("folder_zip")
        if upload is None:
            return None
        if upload.size > MAX_FOLDER_ZIP_BYTES:
            raise ValidationError(
                f"The zip is larger than {MAX_FOLDER_ZIP_BYTES // MiB} MiB; leave out "
                "virtual environments and other generated files."
            )
        try:
            self.zip_fields = exercise_zip_read(course=self.course, data=upload.read())
        except ExerciseInvalid as exc:
            raise ValidationError(exc.problems) from exc
        return upload

    def clean(self) -> dict[str, Any]:
        if self.zip_fields is not None:
            # The zip stands for everything but the status: skip the typed fields' errors.
            for name in list(self.errors):
                if name not in ("status", "folder_zip"):
                    del self.errors[name]
        return super().clean()

    def exercise_fields(self) -> ExerciseFields:
        """Return what the form sets, from the zip when one was uploaded."""
        if self.zip_fields is not None:
            return self.zip_fields
        data = self.cleaned_data
        limits = {
            key: data[f"limit_{key}"]
            for key in LIMIT_LABELS
            if data.get(f"limit_{key}") is not None
        }
        return ExerciseFields(
            slug=data["slug"],
            title=data["title"],
            summary=data["summary"],
            frameworks=tuple(data["frameworks"]),
            lesson=data["lesson"],
            instructions=data["instructions"],
            points=data["points"],
            limits=limits,
            files=data["files"],
        )

    @property
    def publish(self) -> bool:
        return self.cleaned_data["status"] == Status.PUBLISHED

    @classmethod
    def initial_for(cls, exercise) -> dict[str, Any]:
        """Return the form's initial values for an exercise."""
        initial = {
            "title": exercise.title,
            "slug": exercise.slug,
            "summary": exercise.summary,
            "lesson": exercise.lesson_id,
            "instructions": exercise.instructions,
            "frameworks": list(exercise.frameworks),
            "points": exercise.points or None,
            "status": exercise.status,
            "files": json.dumps(exercise.files),
        }
        for key, value in (exercise.limits or {}).items():
            initial[f"limit_{key}"] = value
        return initial
