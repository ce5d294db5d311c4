"""Forms of the instructor area's course overview."""

from __future__ import annotations

from django import forms

from courses.models import Chapter, Course, CourseStaff, Enrolment, Status


class ChapterForm(forms.Form):
    title = forms.CharField(label="Chapter title", max_length=200)


class LessonForm(forms.Form):
    chapter = forms.ModelChoiceField(
        label="In chapter",
        queryset=Chapter.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the course's chapters."},
    )
    title = forms.CharField(label="Lesson title", max_length=200)

    def __init__(self, *args, course: Course, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["chapter"].queryset = course.chapters.order_by("order", "id")


class EnrolmentForm(forms.Form):
    enrolment = forms.ChoiceField(
        label="Who may join", choices=Enrolment.choices, widget=forms.RadioSelect
    )


class StaffForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150)
    role = forms.ChoiceField(
        label="Role", choices=CourseStaff.Role.choices, initial=CourseStaff.Role.ASSISTANT
    )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])


class LessonStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
