"""Give the grading engine its settings from Django's (SANDBOX_RUN_DIR, _BUILD_DIR, _IMAGE,
GRADING_HOST_ID)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from sandbox import config as engine_config


def settings_from_django() -> engine_config.EngineSettings:
    """Return the engine's settings as Django's settings hold them at this moment."""
    return engine_config.EngineSettings(
        run_dir=Path(settings.SANDBOX_RUN_DIR),
        build_dir=Path(settings.SANDBOX_BUILD_DIR),
        image=settings.SANDBOX_IMAGE or "",
        host=settings.GRADING_HOST_ID,
    )


def install() -> None:
    """Make the grading engine read Django's settings, at each call, instead of the environment."""
    engine_config.use(settings_from_django)
