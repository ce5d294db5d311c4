"""The site hands the grading engine Django's settings (config/engine.py, config/apps.py)."""

from __future__ import annotations

from sandbox import config as engine_config


def test_the_engine_follows_djangos_settings_as_they_change(settings, tmp_path):
    settings.SANDBOX_RUN_DIR = tmp_path / "runs"
    settings.SANDBOX_BUILD_DIR = str(tmp_path / "build")
    settings.SANDBOX_IMAGE = "runner:from-settings"
    settings.GRADING_HOST_ID = "grader-7"
    assert engine_config.current() == engine_config.EngineSettings(
        run_dir=tmp_path / "runs",
        build_dir=tmp_path / "build",
        image="runner:from-settings",
        host="grader-7",
    )
    settings.SANDBOX_IMAGE = ""
    assert engine_config.current().image == ""
