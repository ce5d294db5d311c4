"""Model factories shared by the tests."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from accounts.models import ApiToken
from accounts.tokens import PREFIX_LENGTH, TOKEN_START, token_hash
from courses.models import Chapter, Course
from lessons.models import Exercise, Lesson, Status
from progress.models import LessonProgress


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
    frameworks = factory.LazyFunction(lambda: ["flask", "django", "fastapi"])


class LessonProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LessonProgress

    learner = factory.SubFactory(UserFactory)
    lesson = factory.SubFactory(LessonFactory)
