from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.models import Course, CourseStaff
from courses.services import RosterError, staff_add


class Command(BaseCommand):
    help = (
        "Give a user a role on a course's staff (instructor: everything on the course; "
        "assistant: reads the gradebook and submissions), or list a course's staff. "
        "Examples: course_staff python-web ada; course_staff --all ada --role assistant; "
        "course_staff python-web"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="COURSE [USERNAME]")
        parser.add_argument("--all", action="store_true", help="every course (give USERNAME only)")
        parser.add_argument(
            "--role", choices=CourseStaff.Role.values, default=CourseStaff.Role.INSTRUCTOR
        )

    def handle(self, *args, names: list[str], all: bool, role: str, **options) -> None:
        if all:
            if len(names) != 1:
                raise CommandError("With --all, give just the username.")
            courses, username = list(Course.objects.all()), names[0]
        else:
            if not 1 <= len(names) <= 2:
                raise CommandError("Give the course's slug, then optionally a username.")
            slug, username = names[0], (names[1] if len(names) == 2 else None)
            courses = list(Course.objects.filter(slug=slug))
            if not courses:
                known = ", ".join(Course.objects.values_list("slug", flat=True)) or "none yet"
                raise CommandError(f"There is no course “{slug}”. Courses: {known}.")
        for course in courses:
            if username is None:
                staff = course.staff.select_related("user").order_by("role", "user__username")
                for member in staff:
                    self.stdout.write(f"{course.slug}: {member.user.username} ({member.role})")
                continue
            try:
                staff_add(course=course, username=username, role=role)
            except RosterError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{username} is {role} of {course.slug}.")
