from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser

from exercises.services import archive_retention, submission_archives_prune


class Command(BaseCommand):
    help = (
        "Stop keeping the zips of old submissions that the learner's latest or best one "
        "supersedes (results and scores stay), and delete zips no submission uses. "
        "The grading worker's beat does this every few hours."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            help="Keep the files of submissions younger than this (default: "
            "ARCHIVE_RETENTION_DAYS; 0 keeps every submission's files).",
        )

    def handle(self, *args, days: int | None = None, **options) -> None:
        older_than = archive_retention() if days is None else None
        if days is not None and days > 0:
            older_than = timedelta(days=days)
        report = submission_archives_prune(older_than=older_than)
        mib = report.bytes_freed / 1024 / 1024
        self.stdout.write(
            f"Files no longer kept: {report.files_dropped} submissions; "
            f"{report.archives_deleted} stored zips deleted ({mib:.1f} MiB)."
        )
