"""Run a lesson's script inside the sandbox container: ``python script.py ENTRY``.

This file is mounted read-only into the container and run there as its command with the runner
image's Python (sandbox.snippets starts it). It imports nothing from the course project. It:

1. copies the read-only files (/files) into the writable scratch dir (/scratch/run), so the
   script may open, change and create files next to it;
2. runs ``python ENTRY`` there as a child process, whose stdout and stderr are the container's
   own (the host reads them apart) and whose stdin is empty;
3. waits for it at most WEBCOURSE_TIME_LIMIT seconds, then ends.

Its exit status is the script's (128 + N when a signal N killed it, as a shell says), or
EXIT_TIMEOUT when the time was up. It is the container's first process: when it exits, the
kernel kills every process the script started, so the container never outlives its time
limit, even when the host that started it is gone. The script runs as the same user, but it
cannot stop this process: the first process of a PID namespace gets no signal it has no
handler for from inside, and it is made undumpable so that it cannot be traced either.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys

FILES_DIR = "/files"
RUN_DIR = "/scratch/run"
TIME_LIMIT_VARIABLE = "WEBCOURSE_TIME_LIMIT"
EXIT_TIMEOUT = 124  # as timeout(1) says it
EXIT_SETUP_FAILED = 125  # the files could not be copied, or Python could not start
# The alarm that ends this process whatever happens fires this long after the time limit.
ALARM_MARGIN = 1.0


def make_undumpable() -> None:
    """Keep same-user processes out of this one's /proc entries and from tracing it."""
    import ctypes

    pr_set_dumpable = 4
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


def end_at(seconds: float) -> None:
    """End this process (and so the container) after `seconds`, whatever it is doing."""

    def expire(signum, frame) -> None:
        os._exit(EXIT_TIMEOUT)

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))


def script_environment() -> dict[str, str]:
    """Return the script's environment: ours without the time limit, output unbuffered."""
    environment = {k: v for k, v in os.environ.items() if k != TIME_LIMIT_VARIABLE}
    # Unbuffered, so what a script printed before it hung or was killed is still seen.
    environment["PYTHONUNBUFFERED"] = "1"
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    environment["HOME"] = RUN_DIR
    return environment


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: script.py ENTRY", file=sys.stderr)
        return EXIT_SETUP_FAILED
    entry = argv[1]
    time_limit = float(os.environ.get(TIME_LIMIT_VARIABLE) or 5)
    make_undumpable()
    end_at(time_limit + ALARM_MARGIN)
    try:
        shutil.copytree(FILES_DIR, RUN_DIR)
    except OSError as exc:
        print(f"The files could not be copied: {exc}", file=sys.stderr)
        return EXIT_SETUP_FAILED
    try:
        child = subprocess.Popen(
            [sys.executable, entry],
            cwd=RUN_DIR,
            env=script_environment(),
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        print(f"Python could not start: {exc}", file=sys.stderr)
        return EXIT_SETUP_FAILED
    try:
        code = child.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        child.kill()
        return EXIT_TIMEOUT
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
