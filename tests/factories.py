"""Model factories shared by the tests."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import PREFIX_LENGTH, TOKEN_START, token_hash
from courses.models import Chapter, Course, CourseStaff, Enrollment, Status
from exercises.models import Draft, Exercise, Submission, SubmissionArchive, Verdict
from lessons.models import Lesson
from progress.models import LessonProgress
from sandbox.archive import pack_files
from sandbox.spec import FRAMEWORKS


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"learner{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"teacher{n}")
    is_staff = True
    is_superuser = True


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token whose secret is known to the test (pass `secret=` to choose it)."""

    class Meta:
        model = ApiToken

    class Params:
        secret = factory.Sequence(lambda n: f"{TOKEN_START}test-secret-{n:04d}")

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"computer {n}")
    prefix = factory.LazyAttribute(lambda token: token.secret[:PREFIX_LENGTH])
    key_hash = factory.LazyAttribute(lambda token: token_hash(token.secret))


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    summary = "A course."


class CourseStaffFactory(factory.django.DjangoModelFactory):
    """An instructor (or, with role=CourseStaff.Role.ASSISTANT, an assistant) of a course."""

    class Meta:
        model = CourseStaff

    course = factory.SubFactory(CourseFactory)
    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"instructor{n}"))
    role = CourseStaff.Role.INSTRUCTOR


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    course = factory.SubFactory(CourseFactory)
    learner = factory.SubFactory(UserFactory)


class ChapterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chapter

    course = factory.SubFactory(CourseFactory)
    slug = factory.Sequence(lambda n: f"chapter-{n}")
    title = factory.Sequence(lambda n: f"Chapter {n}")
    order = factory.Sequence(int)


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    chapter = factory.SubFactory(ChapterFactory)
    slug = factory.Sequence(lambda n: f"lesson-{n}")
    title = factory.Sequence(lambda n: f"Lesson {n}")
    order = factory.Sequence(int)
    body = "## Introduction\n\nSome text.\n\n```python\nprint('hi')\n```\n"
    status = Status.PUBLISHED


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exercise

    course = factory.SubFactory(CourseFactory)
    slug = factory.Sequence(lambda n: f"exercise-{n}")
    title = factory.Sequence(lambda n: f"Exercise {n}")
    frameworks = factory.LazyFunction(lambda: list(FRAMEWORKS))


class SubmissionArchiveFactory(factory.django.DjangoModelFactory):
    """A stored zip; pass `data=` for given bytes (stored once, like the site does)."""

    class Meta:
        model = SubmissionArchive
        django_get_or_create = ("sha256",)

    data = factory.Sequence(lambda n: pack_files({"app.py": f"# submission {n}\n"}))
    sha256 = factory.LazyAttribute(lambda archive: hashlib.sha256(archive.data).hexdigest())
    size = factory.LazyAttribute(lambda archive: len(archive.data))


class SubmissionFactory(factory.django.DjangoModelFactory):
    """A queued submission; with `verdict=` a graded one, its result and score to match.

    `verdict=Verdict.PASSED` scores max_score (10 unless given), any other verdict 0.
    """

    class Meta:
        model = Submission

    learner = factory.SubFactory(UserFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    framework = "flask"
    archive = factory.SubFactory(SubmissionArchiveFactory)
    verdict = ""
    state = factory.LazyAttribute(
        lambda s: Submission.State.DONE if s.verdict else Submission.State.QUEUED
    )
    max_score = factory.LazyAttribute(lambda s: 10 if s.verdict else None)
    score = factory.LazyAttribute(
        lambda s: (s.max_score if s.verdict == Verdict.PASSED else 0) if s.verdict else None
    )
    result = factory.LazyAttribute(
        lambda s: (
            {
                "status": str(s.verdict),
                "score": s.score,
                "max_score": s.max_score,
                "message": "",
                "tests": [],
                "log": "",
            }
            if s.verdict
            else None
        )
    )


class DraftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Draft

    learner = factory.SubFactory(UserFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    framework = "flask"
    files = factory.LazyFunction(lambda: {"app.py": "from flask import Flask\n"})


class LessonProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LessonProgress

    learner = factory.SubFactory(UserFactory)
    lesson = factory.SubFactory(LessonFactory)


def make_submission(learner, exercise, *, status="", score=None, state=None, minutes=0):
    """Create a submission `minutes` from now (created and queued then), out of 3 points."""
    submission = SubmissionFactory(
        learner=learner, exercise=exercise, verdict=status, score=score, max_score=3
    )
    moment = timezone.now() + timedelta(minutes=minutes)
    fields = {"created": moment, "queued_at": moment} | ({"state": state} if state else {})
    Submission.objects.filter(pk=submission.pk).update(**fields)
    submission.refresh_from_db()
    return submission
