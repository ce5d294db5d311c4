from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from authoring.content import UPDATED, CourseConflictError, CourseContentError, course_import


class Command(BaseCommand):
    help = (
        "Create or update a course from its folder (index.md, chapter folders, lesson files, "
        "exercises/, images/). Every file is checked first; on any problem nothing is imported. "
        "Lessons and exercises no longer in the files become drafts unless --prune is given. "
        "Rows edited in the browser since the last import or export are never overwritten "
        "without --force; if their files changed too, nothing is imported unless "
        "--skip-conflicts or --force is given."
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
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--force",
            action="store_true",
            help="take the files' version of every row, overwriting edits made in the browser",
        )
        mode.add_argument(
            "--skip-conflicts",
            action="store_true",
            help="import everything that does not conflict with an edit made in the browser, "
            "and list what was skipped",
        )

    def handle(
        self,
        *args,
        path: Path,
        prune: bool,
        dry_run: bool,
        force: bool,
        skip_conflicts: bool,
        **options,
    ) -> None:
        try:
            report = course_import(
                path=path,
                prune=prune,
                dry_run=dry_run,
                force=force,
                skip_conflicts=skip_conflicts,
            )
        except (CourseContentError, CourseConflictError) as exc:
            raise CommandError(str(exc)) from exc
        style = self.style.SUCCESS if report.changed else self.style.NOTICE
        self.stdout.write(style(report.summary()))
        for note in report.notes():
            self.stdout.write(self.style.WARNING(note))
        if options["verbosity"] >= 2:
            for change in report.changes:
                if change.action == UPDATED and change.fields:
                    fields = ", ".join(change.fields)
                    self.stdout.write(f"  {change.kind} {change.slug}: {fields} changed")
