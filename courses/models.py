from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Value
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone


class Status(models.TextChoices):
    """Whether learners see a lesson or an exercise: drafts are for course staff only."""

    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Enrolment(models.TextChoices):
    """How learners join a course's roster."""

    OPEN = "open", "Open: any signed-in learner may join"
    INVITE = "invite", "By invitation: learners need the invitation link"


def new_invite_code() -> str:
    return secrets.token_urlsafe(12)


class CourseQuerySet(models.QuerySet):
    def taught_by(self, user) -> CourseQuerySet:
        """Return the courses `user` is on the staff of (every course for a superuser)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(staff__user=user).distinct()

    def with_membership(self, user) -> CourseQuerySet:
        """Annotate `user_enrolled` (on the roster) and `user_teaches` (on the staff)."""
        if not user.is_authenticated:
            return self.annotate(user_enrolled=Value(False), user_teaches=Value(False))
        return self.annotate(
            user_enrolled=Exists(Enrollment.objects.filter(course=OuterRef("pk"), learner=user)),
            user_teaches=Value(True)
            if user.is_superuser
            else Exists(CourseStaff.objects.filter(course=OuterRef("pk"), user=user)),
        )

    def listed(self) -> CourseQuerySet:
        """Return the courses that have at least one published lesson, in catalog order."""
        return (
            self.filter(chapters__lessons__status=Status.PUBLISHED)
            .distinct()
            .order_by("order", "title")
        )


class Course(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    description = models.TextField(blank=True, help_text="Markdown shown on the course page.")
    # Rendered on save by the Markdown pipeline, a layer up (lessons/signals.py).
    description_html = models.TextField(blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)
    enrolment = models.CharField(max_length=10, choices=Enrolment.choices, default=Enrolment.OPEN)
    invite_code = models.CharField(
        max_length=32,
        default=new_invite_code,
        help_text="The secret in the course's invitation link; rotating it retires old links.",
    )
    updated = models.DateTimeField(auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:course", kwargs={"course": self.slug})

    def rotate_invite_code(self) -> None:
        self.invite_code = new_invite_code()
        self.save(update_fields=["invite_code", "updated"])

    @classmethod
    def touch(cls, course_id: int) -> None:
        """Bump a course's `updated` stamp, which versions its cached pages and menus."""
        cls.objects.filter(id=course_id).update(updated=timezone.now())


class Chapter(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="chapters")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    intro = models.TextField(blank=True, help_text="Markdown shown above the chapter's lessons.")
    intro_html = models.TextField(blank=True, editable=False)  # rendered like description_html
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["course", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="unique_chapter_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        Course.touch(self.course_id)


@receiver(post_delete, sender=Chapter)
def _chapter_deleted(sender, instance: Chapter, **kwargs) -> None:
    # A receiver rather than delete(): the admin's bulk delete skips model methods.
    Course.touch(instance.course_id)


class CourseStaff(models.Model):
    """A member of a course's teaching staff."""

    class Role(models.TextChoices):
        INSTRUCTOR = "instructor", "Instructor"  # everything on the course
        ASSISTANT = "assistant", "Assistant"  # reads the gradebook and submissions

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_roles"
    )
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.INSTRUCTOR)
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "course staff"
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="unique_course_staff"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.course.slug})"


class Enrollment(models.Model):
    """A learner on a course's roster: the gradebook has a row for each."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "joined", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "learner"], name="unique_enrollment"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.course.slug}"


class CourseImage(models.Model):
    """An image shown in a course's texts, kept in the database with the course.

    The bytes live in the row, so the site serves them itself (courses.images has the
    rules an image must meet), backups and course exports carry them, and there is no
    media folder to serve or lose.
    """

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="images")
    name = models.CharField(max_length=100)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "name"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="unique_course_image_name"),
        ]

    def __str__(self) -> str:
        return f"{self.course.slug}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse(
            "lessons:course_image", kwargs={"course": self.course.slug, "name": self.name}
        )
