from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from authoring.content import CourseExportError, course_export
from courses.models import Course


class Command(BaseCommand):
    help = (
        "Write a course as a folder of Markdown and exercise files that import_course reads back. "
        "The folder must be empty or new, unless --force is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="the course's slug")
        parser.add_argument("path", type=Path, help="the folder to write, e.g. content/python-web")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace the course files (index.md, chapter Markdown files, exercises/) of an "
            "existing course folder; other files in it are left alone",
        )

    def handle(self, *args, slug: str, path: Path, force: bool, **options) -> None:
        course = Course.objects.filter(slug=slug).first()
        if course is None:
            known = ", ".join(Course.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(f'No course with the slug "{slug}". Courses: {known or "none yet"}.')
        try:
            written = course_export(course=course, path=path, force=force)
        except CourseExportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f'Course "{course.title}": wrote {len(written)} files to {path}')
        )
