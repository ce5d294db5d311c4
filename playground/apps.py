from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    """Code run from the page: runnable lesson blocks and a learner's live app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "playground"
