"""Forms of the instructor area's grading pages: starting a regrade, deadlines, extensions."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from exercises.models import Exercise, LatePolicy, Submission

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    """A browser's date and time picker; the value is read in the site's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs, format=DATETIME_FORMAT)


def datetime_field(**options) -> forms.DateTimeField:
    return forms.DateTimeField(
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "Enter a date and time, such as 2026-03-01 23:59."},
        **options,
    )


class RegradeForm(forms.Form):
    """What to regrade on one exercise: one submission, one learner's, or the whole exercise."""

    submission = forms.IntegerField(required=False, widget=forms.HiddenInput)
    learner = forms.CharField(required=False, widget=forms.HiddenInput)
    every = forms.BooleanField(
        required=False,
        label="Every submission, not only each learner's latest and best",
    )
    lower_best = forms.BooleanField(
        required=False,
        label="Allow lower scores",
        help_text="Unticked, a submission whose new score is lower keeps its previous one, "
        "so no learner's best goes down. Ticked, every new score replaces the old one.",
    )

    def __init__(self, *args, exercise: Exercise, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.exercise = exercise

    def clean_submission(self) -> Submission | None:
        pk = self.cleaned_data.get("submission")
        if pk is None:
            return None
        found = Submission.objects.filter(exercise=self.exercise, pk=pk).first()
        if found is None:
            raise forms.ValidationError(
                f"There is no submission #{pk} to this exercise. Go back to the submission "
                "and start the regrade from there."
            )
        return found

    def clean_learner(self):
        username = (self.cleaned_data.get("learner") or "").strip()
        if not username:
            return None
        found = get_user_model().objects.filter(
            username=username, submissions__exercise=self.exercise
        )
        learner = found.first()
        if learner is None:
            raise forms.ValidationError(
                f"“{username}” has made no submission to this exercise, so there is nothing "
                "of theirs to regrade."
            )
        return learner

    def plan_options(self) -> dict:
        """Return the options of regrade_plan and regrade_start that this form chose."""
        data = self.cleaned_data
        return {
            "submission": data.get("submission"),
            "learner": None if data.get("submission") else data.get("learner"),
            "every": bool(data.get("every")),
        }


class DeadlineForm(forms.Form):
    deadline = datetime_field(
        required=False,
        label="Deadline",
        help_text="Leave it empty for no deadline.",
    )
    late_policy = forms.ChoiceField(
        choices=LatePolicy.choices, widget=forms.RadioSelect, label="Late submissions"
    )
    late_penalty = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        label="Penalty (percent of the score)",
        help_text="Used only when late submissions count with a penalty.",
        error_messages={
            "min_value": "The penalty is a percentage from 0 to 100.",
            "max_value": "The penalty is a percentage from 0 to 100.",
            "invalid": "The penalty is a whole number of percent, from 0 to 100.",
        },
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("late_policy") == LatePolicy.PENALTY and data.get("late_penalty") is None:
            self.add_error("late_penalty", "Give the penalty, in percent from 0 to 100.")
        if data.get("late_penalty") is None:
            data["late_penalty"] = 0
        return data


class ExtensionForm(forms.Form):
    username = forms.CharField(label="Learner (username)", max_length=150)
    until = datetime_field(label="New deadline")

    def __init__(self, *args, exercise: Exercise, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.exercise = exercise

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        learner = (
            get_user_model()
            .objects.filter(username=username)
            .filter(
                Q(enrollments__course=self.exercise.course_id)
                | Q(submissions__exercise=self.exercise)
            )
            .first()
        )
        if learner is None:
            raise forms.ValidationError(
                f"No learner “{username}” is on this course's roster or has submitted to this "
                "exercise. Check the spelling of the username."
            )
        return learner

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until is not None and timezone.is_naive(until):
            until = timezone.make_aware(until)
        return until
