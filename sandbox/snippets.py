"""Run a lesson's script once in a hardened container, and keep what it printed.

``run_script(files, entry)`` runs ``python ENTRY`` on a copy of `files` with the isolation of a
grading (engine.start_app_container: no network, read-only root, a writable scratch tmpfs, a
user that is not root, every capability dropped, seccomp, memory, process and CPU limits) and
the tighter time limit of SCRIPT_POLICY. The files are written to a per-run folder below the
engine's run folder and mounted read-only; sandbox/container/script.py, mounted beside them,
copies them to /scratch/run, runs the script there and ends the container at its time limit
even when nobody is left on the host to stop it.

What comes back (`ScriptRun`) is bounded: the head of stdout and of stderr (OUTPUT_LIMIT each,
then a note), the exit status, and whether the script ran out of time or memory. A script that
prints more than MAX_OUTPUT_READ in all is stopped: reading a flood costs the host and the
engine, and nobody reads past the first screens of it anyway. The container and the run folder
are removed whatever happens; the host's orphan sweep finds any a dead worker left (labels).

Where the container comes from is a seam (`launch`): by default a fresh one is started for the
run (`start_cold`); a pool of containers started ahead could hand one in instead. The result is
handed to `on_result` as soon as it is known, before the clean-up, so a reader need not wait
for the container's removal.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Protocol

from sandbox import config, engine, images
from sandbox.container import script as container_script
from sandbox.policy import DEFAULT_POLICY, MiB, SandboxPolicy

logger = logging.getLogger(__name__)

# A script gets a grading's limits, and five seconds of wall time (policy.wall_timeout).
SCRIPT_POLICY = replace(DEFAULT_POLICY, wall_timeout=5.0)
OUTPUT_LIMIT = 16 * 1024  # kept of stdout, and of stderr
MAX_OUTPUT_READ = 1 * MiB  # read of both streams together; a script printing more is stopped
# The host stops the container itself this long after the script's time limit, if script.py has
# not ended it by then (it always should: this is for a container the engine cannot stop).
HOST_GRACE = 2.0
EXIT_WAIT = 2.0  # how long the engine may take to say a container that ended has exited
MAX_FILES = 50
MAX_FILES_BYTES = 1 * MiB

PYTHON = "/opt/venv/bin/python"
SCRIPT_DIR = "/opt/webcourse"
CONTAINER_FILES_DIR = Path(__file__).resolve().parent / "container"
EXIT_TIMEOUT = container_script.EXIT_TIMEOUT


class ScriptRejected(ValueError):
    """The files of a run cannot be run (bad paths, too many, too large); says why in words."""


@dataclass(frozen=True)
class ScriptRun:
    """What running a script gave: its output, exit status, and how it ended."""

    stdout: str
    stderr: str
    exit_code: int | None  # None when it was stopped (time, output) before it could exit
    timed_out: bool = False
    out_of_memory: bool = False
    output_stopped: bool = False  # it printed more than MAX_OUTPUT_READ and was stopped
    duration: float = 0.0  # seconds, from the container's start to the script's end
    time_limit: float = SCRIPT_POLICY.wall_timeout
    memory_bytes: int = SCRIPT_POLICY.memory_bytes

    @property
    def status(self) -> str:
        """Return "timeout" when the script ran out of time, else "ok" (it ran)."""
        return "timeout" if self.timed_out else "ok"

    @property
    def message(self) -> str:
        """Return what a reader should know about how the run ended, in words ("" if nothing)."""
        if self.timed_out:
            return (
                f"Your code was stopped after {self.time_limit:g} seconds, its time limit. "
                "Does it loop forever, or sleep too long?"
            )
        if self.out_of_memory:
            return (
                f"Your code ran out of memory (the limit is {self.memory_bytes // MiB} MiB) "
                "and was stopped."
            )
        if self.output_stopped:
            return (
                f"Your code printed more than {MAX_OUTPUT_READ // MiB} MiB, so it was stopped. "
                "Only the beginning of its output is shown."
            )
        # A failure of script.py itself says why on stderr; its exit status may also be the
        # script's own, so it is not told apart here.
        return ""


# The files of a run ---------------------------------------------------------------------------


def check_files(files: Mapping[str, str], entry: str) -> dict[PurePosixPath, str]:
    """Return the files by relative path; raise ScriptRejected when they cannot be run."""
    if not files or len(files) > MAX_FILES:
        raise ScriptRejected(f"A run needs between 1 and {MAX_FILES} files.")
    checked: dict[PurePosixPath, str] = {}
    size = 0
    for name, text in files.items():
        path = PurePosixPath(name) if isinstance(name, str) else None
        if (
            path is None
            or not name
            or path.is_absolute()
            # A leading "-" would make the entry an option of python's command line.
            or any(part in ("", ".", "..") or part.startswith("-") for part in path.parts)
            or "\x00" in name
            or len(name) > 200
        ):
            raise ScriptRejected(f"{str(name)[:60]!r} is not a file path a run may use.")
        if not isinstance(text, str):
            raise ScriptRejected(f"{name} must be text.")
        size += len(name.encode()) + len(text.encode())
        if path in checked:
            raise ScriptRejected(f"{name} is given twice.")
        checked[path] = text
    if size > MAX_FILES_BYTES:
        raise ScriptRejected(f"The files come to more than {MAX_FILES_BYTES // 1024} KiB.")
    folders = {parent for path in checked for parent in path.parents}
    clash = next((path for path in checked if path in folders), None)
    if clash is not None:
        raise ScriptRejected(f"{clash} is both a file and a folder.")
    if PurePosixPath(entry) not in checked or not entry.endswith(".py"):
        raise ScriptRejected(f"{entry[:60]!r} is not one of the Python files of the run.")
    return checked


@dataclass(frozen=True)
class ScriptDirs:
    """The host folders of one script run: files/ (the script's, mounted read-only) and bin/."""

    root: Path

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @classmethod
    def create(cls, base: Path, run_id: str, files: Mapping[PurePosixPath, str]) -> ScriptDirs:
        """Write the files (0644, folders 0755, whatever the umask) and script.py."""
        dirs = cls(Path(base).resolve() / f"script-{run_id}")
        dirs.root.parent.mkdir(parents=True, exist_ok=True)
        dirs.root.mkdir(mode=0o700)
        for folder in (dirs.files, dirs.bin):
            folder.mkdir()
            folder.chmod(0o755)
        for path, text in files.items():
            target = dirs.files.joinpath(*path.parts)
            for folder in reversed(target.parents):
                if folder.is_relative_to(dirs.files) and not folder.is_dir():
                    folder.mkdir()
                    folder.chmod(0o755)
            target.write_text(text, encoding="utf-8")
            target.chmod(0o644)
        # Each run gets a copy, so that everything a container mounts lies below the run folder
        # (as for a grading: see runner.RunDirs).
        shutil.copyfile(CONTAINER_FILES_DIR / "script.py", dirs.bin / "script.py")
        (dirs.bin / "script.py").chmod(0o644)
        dirs.root.chmod(0o711)  # the container's user reaches the mounts, and lists nothing
        return dirs

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


# Starting the container -----------------------------------------------------------------------


@dataclass
class Started:
    """A container running a script, and how to remove it and whatever it needed."""

    container: engine.AppContainer
    run_id: str
    clean_up: Callable[[], None]


class Launch(Protocol):
    """Start a container that runs `entry` of `files` under `policy` (its time limit included)."""

    def __call__(
        self, files: Mapping[PurePosixPath, str], entry: str, *, policy: SandboxPolicy, image: str
    ) -> Started: ...


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def start_cold(
    files: Mapping[PurePosixPath, str], entry: str, *, policy: SandboxPolicy, image: str
) -> Started:
    """Write the files to a new run folder and start a fresh container on them."""
    run_id = new_run_id()
    dirs = ScriptDirs.create(config.current().run_dir, run_id, files)
    container: engine.AppContainer | None = None

    def clean_up() -> None:
        try:
            if container is not None:
                # Unread output would hold up the engine's removal of the container.
                container.close_output()
                engine.remove(container.id)
        finally:
            dirs.remove()

    try:
        container = engine.start_app_container(
            image=image,
            policy=policy,
            # -I -S: script.py needs only the standard library, and starts sooner without site.
            command=[PYTHON, "-I", "-S", f"{SCRIPT_DIR}/script.py", entry],
            mounts=[
                engine.Mount(dirs.bin, SCRIPT_DIR),
                engine.Mount(dirs.files, container_script.FILES_DIR),
            ],
            labels={engine.RUN_LABEL: run_id},
            environment={container_script.TIME_LIMIT_VARIABLE: f"{policy.wall_timeout:g}"},
            name=f"webcourse-script-{run_id}",
        )
    except BaseException:
        dirs.remove()
        raise
    return Started(container=container, run_id=run_id, clean_up=clean_up)


# Reading what it printed ----------------------------------------------------------------------


class StreamHead:
    """The first `limit` bytes of one stream, and how many bytes it had in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.head = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit - len(self.head)
        if room > 0:
            self.head += data[:room]

    def text(self) -> str:
        text = self.head.decode("utf-8", "replace")
        if self.total > len(self.head):
            note = f"… output cut at {self.limit // 1024} KiB"
            return text + ("" if text.endswith("\n") else "\n") + note
        return text


class OutputReader:
    """Read a container's stdout and stderr apart, in a thread; stop the container on a flood."""

    def __init__(
        self, frames: Iterator[tuple[int, bytes]], *, on_flood: Callable[[], None]
    ) -> None:
        self.frames = frames
        self.on_flood = on_flood
        self.stdout = StreamHead(OUTPUT_LIMIT)
        self.stderr = StreamHead(OUTPUT_LIMIT)
        self.flooded = False
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._read, name="script-output", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _read(self) -> None:
        try:
            for stream, data in self.frames:
                (self.stderr if stream == engine.STDERR else self.stdout).add(data)
                if self.stdout.total + self.stderr.total > MAX_OUTPUT_READ:
                    self.flooded = True
                    self.on_flood()
                    break
        except Exception:  # the engine dropped the stream: treat it as the end
            logger.debug("script output ended with an error", exc_info=True)
        finally:
            self.ended.set()


# One run --------------------------------------------------------------------------------------


def run_script(
    files: Mapping[str, str],
    entry: str,
    *,
    policy: SandboxPolicy = SCRIPT_POLICY,
    image: str | None = None,
    launch: Launch = start_cold,
    on_result: Callable[[ScriptRun], None] | None = None,
) -> ScriptRun:
    """Run ``python ENTRY`` on a copy of `files` in a hardened container; return what it gave.

    The script's time limit is `policy.wall_timeout`. `on_result` is called with the result
    before the container and the run folder are removed, so that the reader need not wait for
    that. Raise ScriptRejected for files that cannot be run, and engine.EngineUnavailable when
    the Docker engine does not answer.
    """
    checked = check_files(files, entry)
    engine.client()  # EngineUnavailable now, before anything is created
    image = image or images.runner_image_tag()
    started = launch(checked, entry, policy=policy, image=image)
    began = time.monotonic()  # the container runs: its time counts from here, however slow
    try:
        ran = _collect(started, policy=policy, began=began)
        if on_result is not None:
            on_result(ran)
        return ran
    finally:
        try:
            started.clean_up()
        except Exception:  # what ran stands; the host's orphan sweep removes what is left
            logger.exception("Cleaning up script run %s failed", started.run_id)


def _collect(started: Started, *, policy: SandboxPolicy, began: float) -> ScriptRun:
    container = started.container

    def stop() -> None:
        # Close the stream first: the engine waits for output nobody reads before it stops.
        container.close_output()
        engine.kill(container.id)

    reader = OutputReader(engine.output_streams(container), on_flood=stop)
    reader.start()
    deadline = began + policy.wall_timeout + HOST_GRACE
    ended = reader.ended.wait(max(deadline - time.monotonic(), 0))
    duration = time.monotonic() - began
    if not ended:
        stop()
        reader.ended.wait(EXIT_WAIT)
    state = _final_state(container.id)
    timed_out = not ended or (state.exit_code == EXIT_TIMEOUT and duration >= policy.wall_timeout)
    stopped = timed_out or reader.flooded
    return ScriptRun(
        stdout=reader.stdout.text(),
        stderr=reader.stderr.text(),
        exit_code=None if stopped else state.exit_code,
        timed_out=timed_out,
        out_of_memory=state.oom_killed and not timed_out,
        output_stopped=reader.flooded and not timed_out,
        duration=min(duration, policy.wall_timeout) if timed_out else duration,
        time_limit=policy.wall_timeout,
        memory_bytes=policy.memory_bytes,
    )


def _final_state(container_id: str) -> engine.ContainerState:
    """Return the state of a container whose output ended, once the engine says it exited."""
    give_up = time.monotonic() + EXIT_WAIT
    while True:
        state = engine.container_state(container_id)
        if not state.running or time.monotonic() >= give_up:
            return state
        time.sleep(0.01)


__all__ = [
    "MAX_OUTPUT_READ",
    "OUTPUT_LIMIT",
    "SCRIPT_POLICY",
    "ScriptRejected",
    "ScriptRun",
    "Started",
    "check_files",
    "run_script",
    "start_cold",
]
