"""scripts/lib.sh's supervise: what fails is started again, what ends well is not."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from django.conf import settings

LIB = Path(settings.BASE_DIR) / "scripts" / "lib.sh"


def supervise(command: str, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["bash", "-c", f'source {LIB} && supervise demo bash -c "$0"', command],
        env={**os.environ, "VAR_DIR": str(tmp_path / "var")},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(check, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_a_command_that_stops_on_its_own_is_started_again_after_a_growing_pause(tmp_path):
    runs = tmp_path / "runs"
    supervisor = supervise(f"date +%s.%N >> {runs}; exit 3", tmp_path)
    try:
        wait_for(lambda: runs.exists() and len(runs.read_text().split()) >= 3)
    finally:
        os.killpg(supervisor.pid, signal.SIGKILL)
    output = supervisor.communicate(timeout=10)[0]

    starts = [float(t) for t in runs.read_text().split()]
    assert "demo stopped (exit status 3); starting it again in 1 s" in output
    assert "demo stopped (exit status 3); starting it again in 2 s" in output
    # It waited before each new start: about 1 s, then about 2 s.
    assert starts[1] - starts[0] >= 0.9 and starts[2] - starts[1] >= 1.9


def test_sigterm_reaches_the_command_and_ends_the_supervision(tmp_path):
    ready, ended = tmp_path / "ready", tmp_path / "ended"
    supervisor = supervise(
        f'trap "echo term > {ended}; exit 0" TERM; echo up; touch {ready}; '
        "while :; do sleep 0.05; done",
        tmp_path,
    )
    wait_for(ready.exists)  # its trap is set

    supervisor.terminate()
    output = supervisor.communicate(timeout=10)[0]

    assert supervisor.returncode == 0  # the command's own exit status
    assert ended.read_text() == "term\n"
    assert output.count("up") == 1 and "starting it again" not in output


def test_a_command_that_ends_well_is_not_started_again(tmp_path):
    # A Celery worker ends with 0 after a warm shutdown: Ctrl-C in the terminal running scripts/up.
    supervisor = supervise("echo once", tmp_path)
    output = supervisor.communicate(timeout=20)[0]

    assert supervisor.returncode == 0
    assert output.count("once") == 1 and "starting it again" not in output
