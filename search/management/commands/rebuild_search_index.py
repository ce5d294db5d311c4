"""Refill the search index from the published lessons and exercises."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

from search import index as search


class Command(BaseCommand):
    help = (
        "Re-index every published lesson and exercise for search. Run it after changes "
        "that bypass model signals, such as bulk imports or QuerySet.update()."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: %(default)s)."
        )

    def handle(self, *args: Any, database: str, **options: Any) -> None:
        lessons, exercises = search.backend(database).rebuild()
        counts = f"{_count(lessons, 'lesson')} and {_count(exercises, 'exercise')}"
        if connections[database].vendor == "postgresql":
            self.stdout.write(
                "PostgreSQL searches the lesson tables directly, so there is no index to "
                f"rebuild; {counts} are searchable."
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Indexed {counts}."))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
