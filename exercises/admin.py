from __future__ import annotations

import io
import json
import zipfile

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext
from markdownx.admin import MarkdownxModelAdmin

from courses.models import Status
from exercises.models import Exercise, Submission
from exercises.regrades import regrade_start
from exercises.validations import publish_refusal
from lessons.admin import PREVIEW_STYLESHEETS
from sandbox.textsafety import visible_controls


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "learner",
        "exercise",
        "framework",
        "state",
        "verdict_display",
        "score_display",
        "attempt",
        "created",
    )
    list_filter = ("state", "verdict", "framework", "exercise__course", "exercise")
    search_fields = ("learner__username", "learner__email", "exercise__slug", "exercise__title")
    list_select_related = ("learner", "exercise")
    date_hierarchy = "created"
    actions = ("regrade", "regrade_allowing_lower")
    readonly_fields = (
        "learner",
        "exercise",
        "framework",
        "attempt",
        "state",
        "phase",
        "verdict_display",
        "score_display",
        "result_message",
        "result_tests",
        "result_log",
        "result_timings",
        "archive_files",
        "grading_attempts",
        "created",
        "queued_at",
        "started_at",
        "finished_at",
    )
    fieldsets = (
        (None, {"fields": ("learner", "exercise", "framework", "attempt")}),
        (
            "Verdict",
            {
                "fields": (
                    "state",
                    "phase",
                    "verdict_display",
                    "score_display",
                    "result_message",
                    "result_tests",
                    "result_log",
                )
            },
        ),
        ("Files", {"fields": ("archive_files",)}),
        (
            "Grading",
            {
                "classes": ("collapse",),
                "fields": (
                    "grading_attempts",
                    "created",
                    "queued_at",
                    "started_at",
                    "finished_at",
                    "result_timings",
                ),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        # The archive can be megabytes; the list never needs it.
        return super().get_queryset(request).defer("archive")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # submissions come from learners

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a verdict is changed by regrading, never by hand

    @admin.display(description="verdict", ordering="verdict")
    def verdict_display(self, obj: Submission) -> str:
        if obj.state != Submission.State.DONE:
            return obj.get_state_display()
        return obj.get_verdict_display() or "—"

    @admin.display(description="score", ordering="score")
    def score_display(self, obj: Submission) -> str:
        if obj.score is None:
            return "—"
        return f"{obj.score} / {obj.max_score}"

    @admin.display(description="message")
    def result_message(self, obj: Submission) -> str:
        return visible_controls(str((obj.result or {}).get("message") or "—"))

    @admin.display(description="tests")
    def result_tests(self, obj: Submission) -> str:
        tests = (obj.result or {}).get("tests") or []
        if not tests:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} / {}</td><td><pre>{}</pre></td></tr>",
            (
                (
                    visible_controls(str(t.get("name", ""))),
                    t.get("status", ""),
                    t.get("points", 0),
                    t.get("max_points", 0),
                    visible_controls(str(t.get("message", ""))),
                )
                for t in tests
            ),
        )
        return format_html(
            "<table><thead><tr><th>Test</th><th>Status</th><th>Points</th><th>Message</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="app output")
    def result_log(self, obj: Submission) -> str:
        log = (obj.result or {}).get("log") or ""
        return format_html("<pre>{}</pre>", visible_controls(str(log))) if log else "—"

    @admin.display(description="timings")
    def result_timings(self, obj: Submission) -> str:
        timings = (obj.result or {}).get("timings")
        return format_html("<pre>{}</pre>", json.dumps(timings, indent=2)) if timings else "—"

    @admin.display(description="submitted files")
    def archive_files(self, obj: Submission) -> str:
        try:
            with zipfile.ZipFile(io.BytesIO(bytes(obj.archive))) as archive:
                members = [
                    (visible_controls(m.filename), m.file_size) for m in archive.infolist()[:500]
                ]
        except zipfile.BadZipFile:
            return "not a zip archive"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} ({} bytes)</li>", members))

    def has_regrade_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("exercises.change_submission")

    @admin.action(description="Regrade selected submissions", permissions=["regrade"])
    def regrade(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        self._regrade(request, queryset, lower_best=False)

    @admin.action(
        description="Regrade selected submissions, allowing lower scores", permissions=["regrade"]
    )
    def regrade_allowing_lower(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        self._regrade(request, queryset, lower_best=True)

    def _regrade(
        self, request: HttpRequest, queryset: QuerySet[Submission], *, lower_best: bool
    ) -> None:
        """Start one regrade per exercise of the selection (exercises.regrades)."""
        selected = queryset.select_related(None).only("pk", "exercise")
        sent = skipped = 0
        for exercise in Exercise.objects.filter(pk__in=selected.values("exercise")):
            regrade = regrade_start(
                exercise=exercise,
                requested_by=request.user,
                submissions=selected.filter(exercise=exercise),
                lower_best=lower_best,
            )
            sent += regrade.items.count()
            skipped += regrade.skipped
        message = ngettext(
            "%d submission queued for grading again.",
            "%d submissions queued for grading again.",
            sent,
        ) % (sent,)
        if skipped:
            message += " " + ngettext(
                "%d was left out: its files are no longer kept.",
                "%d were left out: their files are no longer kept.",
                skipped,
            ) % (skipped,)
        self.message_user(request, message, messages.SUCCESS)


class ExerciseAdminForm(forms.ModelForm):
    """Publishing here is refused, as in the instructor area, until a version is validated."""

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if status == Status.PUBLISHED and self.instance.pk and self.initial.get("status") != status:
            refusal = publish_refusal(self.instance)
            if refusal is not None:
                raise forms.ValidationError(f"Not published: {refusal}")
        return status


@admin.register(Exercise)
class ExerciseAdmin(MarkdownxModelAdmin):
    """Exercises come from the course's content files; only their texts are edited here."""

    list_display = ["title", "course", "lesson", "points", "order", "status"]
    list_editable = ["order", "status"]
    list_filter = ["status", "course"]
    list_select_related = ["course", "lesson"]
    search_fields = ["title", "slug", "summary", "instructions"]
    readonly_fields = ["slug", "frameworks", "limits", "open_first", "file_listing", "updated"]
    autocomplete_fields = ["lesson"]
    fieldsets = [
        (None, {"fields": ["course", "lesson", "slug", "title", "summary", "order", "status"]}),
        ("Instructions", {"fields": ["instructions"]}),
        (
            "Grading",
            {"fields": ["points", "frameworks", "limits", "open_first", "file_listing", "updated"]},
        ),
    ]

    form = ExerciseAdminForm

    class Media:
        css = PREVIEW_STYLESHEETS

    def get_changelist_form(self, request: HttpRequest, **kwargs):
        return super().get_changelist_form(request, form=ExerciseAdminForm, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Without its tests and starter files an exercise cannot be graded;
        # new exercises are added to the course's content folder and imported.
        return False

    @admin.display(description="files")
    def file_listing(self, exercise: Exercise) -> str:
        if not exercise.files:
            return "No files."
        return format_html_join(
            "",
            "<details><summary>{}</summary><pre>{}</pre></details>",
            sorted(exercise.files.items()),
        )
