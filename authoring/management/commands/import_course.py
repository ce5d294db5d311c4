from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from authoring.content import UPDATED, CourseContentError, course_import


class Command(BaseCommand):
    help = (
        "Create or update a course from its folder (index.md, chapter folders, lesson files, "
        "exercises/). Every file is checked first; on any problem nothing is imported. "
        "Lessons and exercises no longer in the files become drafts unless --prune is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="the course folder, e.g. content/python-web")
        parser.add_argument(
            "--prune",
            action="store_true",
            help="delete chapters, lessons and exercises that are no longer in the files "
            "(with the learners' submissions to those exercises)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the files and report; save nothing"
        )

    def handle(self, *args, path: Path, prune: bool, dry_run: bool, **options) -> None:
        try:
            report = course_import(path=path, prune=prune, dry_run=dry_run)
        except CourseContentError as exc:
            raise CommandError(str(exc)) from exc
        style = self.style.SUCCESS if report.changed else self.style.NOTICE
        self.stdout.write(style(report.summary()))
        if options["verbosity"] >= 2:
            for change in report.changes:
                if change.action == UPDATED:
                    fields = ", ".join(change.fields)
                    self.stdout.write(f"  {change.kind} {change.slug}: {fields} changed")
