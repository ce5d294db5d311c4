from __future__ import annotations

from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The project package as an app, so wiring that needs the app registry has a ready()."""

    name = "config"
    verbose_name = "Site"

    def ready(self) -> None:
        # Every Django process (runserver, gunicorn, manage.py, the Celery worker through its
        # Django fixup, pytest-django) calls setup(), so this reaches them all; the engine itself
        # imports no Django.
        from config import engine

        engine.install()
