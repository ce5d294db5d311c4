from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Full-text search over lessons and exercises: above both, so each stays unaware of it."""

    name = "search"

    def ready(self) -> None:
        from search import index  # noqa: F401 - connects the index's signals
