from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"

    def ready(self) -> None:
        from courses import signals  # noqa: F401 - keeps the header's Teach link current
