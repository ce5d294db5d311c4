"""The engine's settings: from the environment by default, or from a provider a host registers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sandbox import config, images
from sandbox.config import EngineSettings, default_run_dir, from_environment


def test_the_environment_gives_every_setting():
    environ = {
        "VAR_DIR": "/srv/var",
        "SANDBOX_RUN_DIR": "/srv/runs",
        "SANDBOX_BUILD_DIR": "/srv/build",
        "SANDBOX_IMAGE": "runner:mine",
        "GRADING_HOST_ID": "grader-2",
    }
    assert from_environment(environ) == EngineSettings(
        run_dir=Path("/srv/runs"),
        build_dir=Path("/srv/build"),
        image="runner:mine",
        host="grader-2",
    )


def test_a_host_without_an_id_goes_by_the_machines_name():
    assert from_environment({"VAR_DIR": "/srv/var"}).host == socket.gethostname() != ""


def test_the_defaults_live_under_var_dir():
    engine_settings = from_environment({"VAR_DIR": "/srv/var"})
    assert engine_settings.run_dir == Path("/srv/var/sandbox/runs")
    assert engine_settings.build_dir == Path("/srv/var/sandbox/build")
    assert engine_settings.image == ""


def test_without_var_dir_the_defaults_live_in_the_checkouts_var():
    engine_settings = from_environment({})
    assert engine_settings.build_dir == config.PROJECT_DIR / "var" / "sandbox" / "build"
    assert engine_settings.run_dir.is_absolute()


def test_a_long_var_dir_gets_a_run_dir_short_enough_for_unix_sockets():
    deep = Path("/srv") / ("nested-" * 10) / "var"
    runs = default_run_dir(deep)
    assert len(str(runs)) <= config.MAX_DEFAULT_RUN_DIR
    assert runs == default_run_dir(deep)  # the same folder each time


@pytest.fixture
def restore_provider():
    previous = config._provider
    yield
    config.use(previous)


def test_a_registered_provider_is_asked_at_every_call(restore_provider, tmp_path):
    images_seen = iter(["runner:one", "runner:two"])
    config.use(
        lambda: EngineSettings(run_dir=tmp_path, build_dir=tmp_path, image=next(images_seen))
    )
    assert images.runner_image_tag() == "runner:one"
    assert images.runner_image_tag() == "runner:two"
