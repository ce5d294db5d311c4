"""Where the grading engine keeps its files, and which runner image it starts.

The engine is plain Python so that a grading host can run it without the site: by default it
reads environment variables (SANDBOX_RUN_DIR, SANDBOX_BUILD_DIR, SANDBOX_IMAGE, GRADING_HOST_ID,
and VAR_DIR for the defaults). A host with settings of its own hands the engine a provider with
`use()`; the site registers one that reads Django's settings (config/engine.py). The provider
is asked at every call, not once, so a value changed at run time (as tests do) is seen by the
next run.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Each run's app listens on a Unix socket below the run folder, and a socket's path is limited
# to ~100 bytes (runner.MAX_SOCKET_PATH): past this length the default moves to the temp dir.
MAX_DEFAULT_RUN_DIR = 60


@dataclass(frozen=True)
class EngineSettings:
    """The engine's folders, the runner image to use ("" for the one it builds), and whose
    containers it starts: every container carries `host`, and a sweep removes only its own."""

    run_dir: Path
    build_dir: Path
    image: str = ""
    host: str = ""


def default_host_id() -> str:
    """Return the id a grading host goes by when none is set: the machine's name."""
    return socket.gethostname()


Provider = Callable[[], EngineSettings]


def default_run_dir(var_dir: Path) -> Path:
    """Return var_dir/sandbox/runs, or a short folder in the temp dir when that path is long."""
    runs = Path(var_dir) / "sandbox" / "runs"
    if len(str(runs)) > MAX_DEFAULT_RUN_DIR:
        tag = hashlib.sha256(bytes(runs)).hexdigest()[:8]
        runs = Path(tempfile.gettempdir()) / f"webcourse-{tag}"
    return runs


def from_environment(environ: Mapping[str, str] = os.environ) -> EngineSettings:
    """Return the settings given by environment variables, with defaults under VAR_DIR."""
    # The same default as config/settings.py and scripts/lib.sh: var/ in the checkout.
    var_dir = Path(environ.get("VAR_DIR") or PROJECT_DIR / "var").absolute()
    run_dir = environ.get("SANDBOX_RUN_DIR") or default_run_dir(var_dir)
    build_dir = environ.get("SANDBOX_BUILD_DIR") or var_dir / "sandbox" / "build"
    return EngineSettings(
        run_dir=Path(run_dir),
        build_dir=Path(build_dir),
        image=environ.get("SANDBOX_IMAGE", ""),
        host=environ.get("GRADING_HOST_ID") or default_host_id(),
    )


_provider: Provider = from_environment


def use(provider: Provider) -> None:
    """Make the engine ask `provider` for its settings from now on."""
    global _provider
    _provider = provider


def current() -> EngineSettings:
    """Return the engine's settings as the registered provider gives them now."""
    return _provider()
