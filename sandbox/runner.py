"""Run a learner's app in a hardened container and grade it with an exercise's hidden tests.

One run, start to finish:

1. Start the harness on this host: a child of the worker's fork server, which has pytest
   imported (sandbox.harness.forkserver), else a fresh ``python -m sandbox.harness``. It
   collects the exercise's tests while the app boots, then waits for "go" on its stdin.
2. Unpack the submission into a per-run folder, mounted read-only at /submission.
3. Start the container: ``--network none``, non-root, read-only root, every limit of the
   policy. boot.py copies the files to the scratch tmpfs and serves the app on a Unix socket
   in a second per-run folder, mounted read-write at /run/app.
4. When boot.py has bound the app's socket and its control socket, seal the socket folder
   and say so on the control socket: only then does boot.py start the learner's code.
5. Wait for boot.py's ready line, the container's exit, or the start-up time limit.
6. Say "go" to the harness, and wait for its report (within the whole-run limit).
7. Remove the container and the per-run folders, whatever happened.

The hidden tests never enter the container: the harness talks HTTP to the app through the
socket file. The socket folder is the only host folder the container can write to, so it is
meant to hold the app's socket and boot.py's control socket and nothing else. It is sealed
(mode 0755, the worker's) before any code of the learner's runs, so the container cannot create
anything there. Where the worker is root it is also a per-run tmpfs (nosuid, nodev, noexec, a
small size and inode cap). A watchdog looks at it every WATCH_INTERVAL seconds from the
container's start and once more after the tests, and kills the container at any other entry
or when the folder cannot be read.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import logging
import os
import queue
import secrets
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox import config, engine, images
from sandbox.archive import SubmissionRejected, unpack_submission
from sandbox.container import boot
from sandbox.harness import cgroup as cgroups
from sandbox.harness import forkserver, limits
from sandbox.policy import DEFAULT_POLICY, MiB, SandboxPolicy
from sandbox.results import (
    TestOutcome,
    empty_timings,
    learner_tests,
    make_result,
    passed_summary,
    timestamp,
)
from sandbox.spec import FRAMEWORKS, ExerciseSpec

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONTAINER_FILES_DIR = Path(__file__).resolve().parent / "container"
# Where things are inside the learner's container (boot.py uses the same paths).
BOOT_DIR = "/opt/webcourse"
SUBMISSION_MOUNT = boot.SUBMISSION_DIR
SOCKET_MOUNT, _, SOCKET_NAME = boot.SOCKET_PATH.rpartition("/")
PYTHON = "/opt/venv/bin/python"

WATCH_INTERVAL = 0.1
CONTROL_NAME = boot.CONTROL_PATH.rpartition("/")[2]
SOCKET_NAMES = frozenset({SOCKET_NAME, CONTROL_NAME})  # all the socket folder may hold
SOCKET_TMPFS_INODES = 8
MAX_SOCKET_PATH = 100  # Unix socket paths are limited to 107 bytes on Linux
STOP_WAIT = 10.0  # how long a stopped harness may take to write its report
# A container ends by itself this long after the run's deadline (boot.py), so that it never
# outlives its time even when the worker that should remove it was killed.
CONTAINER_GRACE = 5.0
MAX_MARKER_LINE = 256 * 1024  # a longer unfinished marker line is dropped

Phase = Callable[[str], None]

# The "error" verdicts that are the grading server's fault, not the learner's (metrics count them).
SANDBOX_START_FAILED = "The sandbox could not start your app; please submit again."
GRADER_FAILED = (
    "The grader itself failed while running the tests, so your app was not "
    "graded. This is not a problem with your code: please try again later."
)


# Per-run folders --------------------------------------------------------------------------


def new_run_id() -> str:
    """Return a fresh run id: 64 random bits, short enough to keep socket paths short."""
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class RunDirs:
    """The host folders of one run: submission/ (read-only mount), sockets/, tests/, harness/."""

    root: Path

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def sockets(self) -> Path:
        return self.root / "sockets"

    @property
    def socket(self) -> Path:
        return self.sockets / SOCKET_NAME

    @property
    def tests(self) -> Path:
        return self.root / "tests"

    @property
    def harness_log(self) -> Path:
        return self.root / "harness.log"

    @property
    def boot(self) -> Path:
        return self.root / "boot"

    @classmethod
    def create(cls, base: Path, run_id: str) -> RunDirs:
        dirs = cls(Path(base).resolve() / run_id)
        if len(str(dirs.socket).encode()) > MAX_SOCKET_PATH:
            raise RuntimeError(
                f"SANDBOX_RUN_DIR={base} is too long a path for a Unix socket "
                f"({dirs.socket}); choose a shorter folder."
            )
        dirs.root.parent.mkdir(parents=True, exist_ok=True)
        harness_user = limits.harness_user()
        if harness_user is not None:
            limits.make_reachable(dirs.root.parent, harness_user)
        dirs.root.mkdir(mode=0o700)
        # The container's user must read the submission; nobody else needs the run folder.
        dirs.submission.mkdir()
        dirs.submission.chmod(0o755)
        dirs.tests.mkdir()
        dirs.tests.chmod(0o755)  # the harness may run as another user: see Harness
        dirs.sockets.mkdir()
        # Writable by the container's user only until the app is up: see seal_sockets().
        dirs.sockets.chmod(0o777)
        # boot.py gets a copy in each run's folder, so that everything a container mounts lies
        # under SANDBOX_RUN_DIR: a worker that runs in a container itself and talks to the
        # host's Docker engine needs only that one folder at the same path on both sides.
        dirs.boot.mkdir()
        dirs.boot.chmod(0o755)
        for name in ("boot.py", "script.py"):  # script.py: a warm container may run a script
            shutil.copyfile(CONTAINER_FILES_DIR / name, dirs.boot / name)
            (dirs.boot / name).chmod(0o644)
        # The only folder the harness may write to (its report; its working folder and HOME).
        harness_folder = dirs.root / Harness.FOLDER
        harness_folder.mkdir(mode=0o700)
        if harness_user is not None:
            os.chown(harness_folder, *harness_user)
        dirs.root.chmod(0o711)
        return dirs

    def mount_sockets_tmpfs(self, size: int) -> bool:
        """Make the socket folder a small tmpfs of its own; False where that is not allowed.

        Mounting needs root (CAP_SYS_ADMIN). The tmpfs bounds what the app can put there, even
        in files it keeps open after deleting them, which no watchdog sees.
        """
        options = f"size={size},nr_inodes={SOCKET_TMPFS_INODES},mode=0777".encode()
        flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
        if _libc().mount(b"tmpfs", bytes(self.sockets), b"tmpfs", flags, options) != 0:
            logger.debug("no tmpfs for the socket folder: %s", os.strerror(ctypes.get_errno()))
            return False
        return True

    def seal_sockets(self) -> None:
        """Stop the container from creating anything more in the socket folder."""
        self.sockets.chmod(0o755)

    def tell_sealed(self, timeout: float = 5.0) -> bool:
        """Tell boot.py that the socket folder is sealed; False if it cannot be reached."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control:
                control.settimeout(timeout)
                control.connect(str(self.sockets / CONTROL_NAME))
                control.sendall(b"sealed\n")
        except OSError:
            logger.warning("Could not reach the control socket of %s", self.root, exc_info=True)
            return False
        return True

    def tell_go(self, command: Mapping[str, Any], timeout: float = 5.0) -> bool:
        """Give a warm container its run (see boot.py); False if it did not take it."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control:
                control.settimeout(timeout)
                control.connect(str(self.sockets / CONTROL_NAME))
                control.sendall(b"go " + json.dumps(dict(command)).encode() + b"\n")
                answer = control.recv(16)
        except OSError:
            logger.warning("Could not start the run of %s", self.root, exc_info=True)
            return False
        return answer.strip() == b"ok"

    def socket_is_real(self) -> bool:
        """Return whether app.sock is a socket (not a link the app planted to elsewhere)."""
        try:
            return stat.S_ISSOCK(os.lstat(self.socket).st_mode)
        except OSError:
            return False

    def write_tests(self, files: Mapping[str, str]) -> None:
        """Write an exercise's test files below tests/: files 0644, folders 0755, whatever umask.

        The harness may run as another user (see Harness), who must read them all.
        """
        for rel, text in files.items():
            path = PurePosixPath(rel)
            if path.is_absolute() or ".." in path.parts:
                raise ValueError(f"unsafe test file path {rel!r}")
            target = self.tests.joinpath(*path.parts)
            for folder in reversed(target.parents):
                if folder.is_relative_to(self.tests) and folder != self.tests:
                    if not folder.is_dir():
                        folder.mkdir()
                    folder.chmod(0o755)
            target.write_text(text, encoding="utf-8")
            target.chmod(0o644)

    def remove(self) -> None:
        """Remove the run's folders, whoever owns what the app left in them.

        A worker that is not root cannot delete what the container's user made unreadable
        (a 0700 folder of its own); that is left to a throwaway container running as the
        container's user (engine.clear_folder).
        """
        if not self.root.exists():
            return
        if os.path.ismount(self.sockets) and _libc().umount2(bytes(self.sockets), _MNT_DETACH):
            raise OSError(ctypes.get_errno(), f"could not unmount {self.sockets}")
        # The app may have left read-only folders in sockets/; make them deletable.
        with contextlib.suppress(OSError):
            self.sockets.chmod(0o755)
        shutil.rmtree(self.root, onerror=_force_remove)
        if self.root.exists():
            engine.clear_folder(
                self.sockets, image=images.runner_image_tag(), user=DEFAULT_POLICY.user
            )
            shutil.rmtree(self.root)


def container_mounts(dirs: RunDirs) -> list[engine.Mount]:
    """Return what a learner's container mounts of its run folder (cold or warm alike)."""
    return [
        engine.Mount(dirs.boot, BOOT_DIR),
        engine.Mount(dirs.submission, SUBMISSION_MOUNT),
        engine.Mount(dirs.sockets, SOCKET_MOUNT, read_only=False),
    ]


def _force_remove(function, path, _excinfo) -> None:
    with contextlib.suppress(OSError):
        os.chmod(os.path.dirname(path), 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
    with contextlib.suppress(OSError):
        function(path)  # what still fails is left for remove()'s second way


_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MNT_DETACH = 2, 4, 8, 2


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def socket_folder_problem(folder: Path) -> str | None:
    """Return what is wrong with the socket folder, or None while it holds only our sockets."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name not in SOCKET_NAMES:
                    return f"it holds {entry.name!r}, which is not the app's socket"
                if not stat.S_ISSOCK(entry.stat(follow_symlinks=False).st_mode):
                    return f"{entry.name} is not a socket"
    except OSError as exc:
        return f"it could not be read ({exc.strerror})"
    return None


# The container's output ----------------------------------------------------------------------


SEGMENT_LIMIT = 8 * 1024  # what is kept of the output printed during one test
MAX_SEGMENTS = 512  # marks beyond this many are ignored (and the output stays unattributed)


class Segment:
    """The output between two marks: its head and tail, and how much there was in all."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.lines = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        self.lines += data.count(b"\n")
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    def text(self) -> str:
        tail = bytes(self.tail[-self.tail_limit :]) if self.tail else b""
        hidden = self.total - len(self.head) - len(tail)
        head_text = self.head.decode("utf-8", "replace")
        tail_text = tail.decode("utf-8", "replace")
        if hidden > 0:
            return (
                head_text.rstrip("\n")
                + f"\n\n[output truncated: {hidden} bytes not shown]\n\n"
                + tail_text.lstrip("\n")
            )
        return head_text + tail_text


class OutputCapture:
    """Read a container's output in a thread: split it at boot's marks, keep heads and tails.

    Only marker lines that carry the run's nonce count (see sandbox/container/boot.py). Events
    go to `events`: ("ready", None) when boot.py says the app is up, ("ended", None) when the
    stream ends (the container exited or was removed). Each "mark" starts a new segment of
    output; `marks` maps a mark's token to the segment it starts, so the runner can tell which
    output was printed during which test. Marks beyond `max_segments` segments are ignored.
    """

    def __init__(
        self,
        stream: Iterator[bytes],
        limit: int,
        events: queue.Queue,
        nonce: str = "",
        *,
        max_segments: int = MAX_SEGMENTS,
    ) -> None:
        self.stream = stream
        self.max_segments = max_segments
        self.limit = limit
        self.events = events
        self.prefix = b"\n" + (boot.MARKER + (f"{nonce}:" if nonce else "")).encode()
        self.segments = [Segment(limit)]
        self.marks: dict[str, int] = {}
        self.total = 0
        self.failure: dict[str, Any] | None = None
        self.ready = False
        self.ended = threading.Event()
        self._pending = b""  # what may be the start of a marker line
        self._last = b"\n"  # the last byte kept: a marker's own newline is dropped after one
        self._thread = threading.Thread(target=self._read, name="sandbox-output", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _read(self) -> None:
        try:
            for chunk in self.stream:
                self.feed(chunk)
        except Exception:  # the engine dropped the stream: treat it as the end
            logger.debug("output stream ended with an error", exc_info=True)
        finally:
            self.ended.set()
            self.events.put(("ended", None))

    def feed(self, chunk: bytes) -> None:
        """Take one piece of output."""
        self.total += len(chunk)
        data = self._pending + chunk
        self._pending = b""
        start = kept = 0
        while True:
            found = data.find(self.prefix, start)
            if found < 0:
                break
            end = data.find(b"\n", found + 1)
            if end < 0:
                if len(data) - found <= MAX_MARKER_LINE:
                    self._keep(data[kept:found])
                    self._pending = data[found:]  # an unfinished marker line
                    return
                break  # too long to be one of ours: plain output
            self._keep(data[kept : found + 1], before_marker=True)
            self._on_marker(data[found + len(self.prefix) : end])
            start, kept = end, end + 1  # that newline may begin the next marker line
        rest = data[kept:]
        # Hold back a tail that may be the start of the next marker line.
        for size in range(min(len(self.prefix) - 1, len(rest)), 0, -1):
            if self.prefix.startswith(rest[-size:]):
                self._pending = rest[-size:]
                rest = rest[:-size]
                break
        self._keep(rest)

    def _keep(self, data: bytes, *, before_marker: bool = False) -> None:
        if before_marker and (data[-2:-1] or self._last) == b"\n":
            data = data[:-1]  # the empty line boot.py writes before a marker
        if not data:
            return
        self.segments[-1].add(data)
        self._last = data[-1:]

    def _on_marker(self, line: bytes) -> None:
        name, _, payload = line.decode("utf-8", "replace").partition(" ")
        if name == "sockets":
            self.events.put(("sockets", None))
        elif name == "warm":
            self.events.put(("warm", None))
        elif name == "ready" and not self.ready:
            self.ready = True
            self.events.put(("ready", None))
        elif name == "fail" and self.failure is None:
            try:
                failure = json.loads(payload)
            except ValueError:
                return
            if isinstance(failure, dict):
                self.failure = failure
        elif (
            name == "mark" and payload not in self.marks and len(self.segments) < self.max_segments
        ):
            self.segments.append(Segment(SEGMENT_LIMIT))
            self.marks[payload] = len(self.segments) - 1
            self._last = b"\n"

    def text(self, segments: Iterable[int] | None = None) -> str:
        """Return the output for the learner (markers removed, paths shortened, cut if long).

        `segments` picks which segments to show (default: all of them).
        """
        chosen = range(len(self.segments)) if segments is None else segments
        text = "".join(self.segments[i].text() for i in chosen)
        if len(text) > self.limit + 256:  # many segments: each is cut already, cut the whole
            text = text[: self.limit // 2] + "\n\n[output truncated]\n\n" + text[-self.limit // 2 :]
        return clean_log(text)

    def tail_lines(self, count: int) -> str:
        lines = [line for line in self.text().splitlines() if line.strip()]
        return "\n".join(lines[-count:])


def clean_log(text: str) -> str:
    """Show paths relative to the learner's app, without blank lines at either end."""
    return shorten_paths(text).strip("\n")


def shorten_paths(text: str) -> str:
    return text.replace(boot.APP_DIR.rstrip("/") + "/", "").replace(
        "/opt/venv/lib/python3.11/site-packages/", ""
    )


# Watching the socket folder ----------------------------------------------------------------


class SharedDirWatch:
    """Kill the container when the socket folder holds anything but the app's sockets."""

    def __init__(self, folder: Path, on_overflow: Callable[[], None]) -> None:
        self.folder = folder
        self.on_overflow = on_overflow
        self.tripped = False
        self.problem: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sandbox-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def check(self) -> bool:
        """Look once; return True (and act) when the folder holds something it should not."""
        if self.tripped:
            return True
        problem = socket_folder_problem(self.folder)
        if problem is not None:
            self.tripped, self.problem = True, problem
            self.on_overflow()
        return self.tripped

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL):
            try:
                if self.check():
                    return
            except Exception:  # a watchdog must never die quietly mid-run
                logger.exception("socket folder watchdog failed")


# The harness process --------------------------------------------------------------------------


class Harness:
    """The pytest process that runs the hidden tests on this host, against the app's socket.

    It collects the tests at once, runs them on go(), and says "done" on a pipe once its
    report is final; wait() watches that pipe, which also ends when the harness dies. It is
    a child of this worker process's fork server (sandbox.harness.forkserver: pytest already
    imported), or a fresh ``python -m sandbox.harness`` if no fork server can start it.

    It runs under the limits of sandbox.harness.limits: address space, CPU time, file size,
    and, when this process is root, as nobody, who may write only in its own folder of the
    run folder (FOLDER: its report, working folder and HOME). What it writes there is read
    without following links, and only so much of it. Where this process may make one, it
    also runs in a cgroup of its own (sandbox.harness.cgroup: memory and processes for all
    it starts), which it joins before it reads a test; kill() removes it.
    """

    FOLDER = "harness"
    MAX_REPORT_BYTES = limits.FILE_SIZE

    def __init__(self, dirs: RunDirs, policy: SandboxPolicy) -> None:
        self.dirs = dirs
        self.folder = dirs.root / self.FOLDER
        self.report_path = self.folder / "report.json"
        self.cgroup = cgroups.HarnessCgroup.create(dirs.root.name)
        self.limits = limits.HarnessLimits.for_run(policy.wall_timeout, self.cgroup)
        argv = [
            str(dirs.tests), str(dirs.socket), str(self.report_path),
            "--request-timeout", f"{policy.request_timeout:g}",
            "--wait-for-go",
            # tmp_path in FOLDER too: not in a /tmp/pytest-of-nobody every run shares and leaves.
            "--basetemp", str(self.folder / "tmp"),
            *self.limits.as_args(),
        ]  # fmt: skip
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(PROJECT_DIR),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "LANG": "C.UTF-8",
            "HOME": str(self.folder),
        }
        self.process: subprocess.Popen | None = None  # only when started without fork server
        # "go" (or "stop") goes down one pipe; the harness says "done" on the other.
        go_read, self._go_write = os.pipe()
        self._done_read, done_write = os.pipe()
        try:
            try:
                self.pid = forkserver.spawn(
                    argv=argv,
                    cwd=str(self.folder),
                    log=str(dirs.harness_log),
                    environment=environment,
                    server_cwd=PROJECT_DIR,
                    go=go_read,
                    done=done_write,
                )
            except forkserver.ForkServerError:
                logger.warning(
                    "The grading harness's fork server failed; starting a fresh interpreter.",
                    exc_info=True,
                )
                self._start_subprocess(argv, environment, go_read, done_write)
        except BaseException:
            self._close("_go_write")
            self._close("_done_read")
            with contextlib.suppress(OSError):  # what failed to start matters more
                self._remove_cgroup()
            raise
        finally:
            os.close(go_read)
            os.close(done_write)

    def _start_subprocess(
        self, argv: list[str], environment: dict[str, str], go_read: int, done_write: int
    ) -> None:
        with self.dirs.harness_log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sandbox.harness", *argv, "--done-fd", str(done_write)],
                stdin=go_read,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env=environment,
                pass_fds=(done_write,),
                start_new_session=True,  # its own process group, so a kill takes everything
            )
        self.pid = self.process.pid

    def _close(self, name: str) -> None:
        """Close one of our pipe ends, once: a closed fd number may soon name another file."""
        fd = getattr(self, name)
        if fd is not None:
            setattr(self, name, None)
            with contextlib.suppress(OSError):
                os.close(fd)

    def _say(self, word: str) -> None:
        if self._go_write is not None:
            with contextlib.suppress(OSError):
                os.write(self._go_write, word.encode() + b"\n")
            self._close("_go_write")

    def go(self) -> None:
        self._say("go")

    def stop(self) -> None:
        self._say("stop")

    def wait(self, timeout: float) -> bool:
        """Wait until the report is final (or the harness died); False after `timeout` seconds."""
        if self._done_read is None:  # killed: it is over
            return True
        poller = select.poll()  # not select.select: a busy worker may hold fds past 1024
        poller.register(self._done_read, select.POLLIN)
        return bool(poller.poll(max(timeout, 0) * 1000))

    def kill(self) -> None:
        """Kill the harness and all it started, wait until they are gone, remove its cgroup.

        Once is enough; again does nothing.
        """
        self._close("_go_write")
        if self._done_read is None:
            return
        try:
            self._kill()
        finally:
            self._remove_cgroup()

    def _kill(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.process.wait()
        elif not self._ended(0):
            # Not our child, so no waitpid: the done pipe ends when the harness is gone.
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                # Killed so soon that it has not made its own process group yet.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            if not self._ended(STOP_WAIT):  # SIGKILL cannot be ignored: this is not expected
                logger.error("The grading harness (pid %s) did not end when killed.", self.pid)
        self._close("_done_read")

    def _remove_cgroup(self) -> None:
        # Also kills what left the harness's process group (setsid) but not its cgroup.
        if self.cgroup is not None:
            cgroup, self.cgroup = self.cgroup, None
            cgroup.remove()

    def limit_reached(self) -> str | None:
        """Return which limit stopped a harness that died: "memory", "processes", "CPU time".

        None when no limit says so (or the harness has not ended). Ask before kill(), which
        removes the cgroup that counts.
        """
        if self.cgroup is not None:
            reached = self.cgroup.limit_reached()
            if reached is not None:
                return reached
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                if self.process.wait(1) == -signal.SIGXCPU:
                    return "CPU time"
        return None

    def _ended(self, timeout: float) -> bool:
        """Return whether every holder of the done pipe is gone, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        poller = select.poll()
        poller.register(self._done_read, select.POLLIN)
        while True:
            if not poller.poll(max(deadline - time.monotonic(), 0) * 1000):
                return False
            try:
                if not os.read(self._done_read, 4096):
                    return True
            except OSError:
                return True

    def report(self) -> dict[str, Any] | None:
        try:
            data = self._read(self.report_path, self.MAX_REPORT_BYTES + 1)
            if len(data) > self.MAX_REPORT_BYTES:
                return None
            report = json.loads(data)
        except (OSError, ValueError):
            return None
        return report if isinstance(report, dict) else None

    def log_tail(self, limit: int = 4000) -> str:
        try:
            data = self._read(self.dirs.harness_log, 4 * limit, tail=True)
        except OSError:
            return ""
        return data.decode("utf-8", errors="replace")[-limit:]

    @staticmethod
    def _read(path: Path, limit: int, *, tail: bool = False) -> bytes:
        """Return up to `limit` bytes of a regular file (its start, or its end), not via a link."""
        # O_NONBLOCK: a FIFO in the place of the file must not hang this process.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(f"{path} is not a regular file")
            if tail:
                file.seek(max(info.st_size - limit, 0))
            return file.read(limit)


def outcomes(
    report: dict[str, Any] | None,
    *,
    unfinished: str = "",
    not_run: str = "",
    outputs: Mapping[str, str] | None = None,
) -> list[TestOutcome]:
    """Turn the harness report into the learner's view of each test (see learner_tests).

    A test still "running" (stopped by a time limit) becomes an error with `unfinished` as
    its message; a test that never started is skipped. `outputs` holds what the app printed
    during each visible test, by test id.
    """
    tests = []
    for test in (report or {}).get("tests", []):
        max_points = int(test.get("points", 1))
        status = test.get("status", "pending")
        message = test.get("message", "")
        if status == "running":
            status, message = "error", unfinished
        elif status not in ("passed", "failed", "error", "skipped"):
            status, message = "skipped", not_run
        tests.append(
            {
                "name": test.get("name") or test.get("id", "test"),
                "status": status,
                "points": max_points,
                "max_points": max_points,
                "message": message,
                "output": (outputs or {}).get(test.get("id", ""), ""),
                "hidden": bool(test.get("hidden")),
                "hint": test.get("hint", ""),
                "cause": test.get("cause", "") if status == test.get("status") else "",
                # What a visible test sent and got (the harness records none for hidden ones).
                "exchanges": test.get("exchanges", []),
                "more_exchanges": test.get("more_exchanges", 0),
            }
        )
    return learner_tests(tests)


@dataclass(frozen=True)
class OutputView:
    """What the learner may see of the app's output: per visible test, and the rest."""

    tests: dict[str, str]
    log: str


def attribute_output(capture: OutputCapture, report: dict[str, Any] | None) -> OutputView:
    """Split the app's output between the tests during which it was printed.

    The harness asks for a mark as each test starts and ends (see boot.py); the output between
    a test's marks is that test's. Output during a visible test is shown with it; output during
    a hidden test, or next to one, is never shown, only counted. Where marks are missing (the
    app broke the control socket), nothing printed after start-up is shown.
    """
    tests = [t for t in (report or {}).get("tests", []) if t.get("status") != "pending"]
    owner: dict[int, dict[str, Any]] = {}  # segment → the test during which it was printed
    complete = True
    for test in tests:
        marks = test.get("marks") or {}
        first = capture.marks.get(marks.get("start", ""))
        last = capture.marks.get(marks.get("end", ""))
        if first is None or (last is None and test.get("status") != "running"):
            complete = False
            break
        for index in range(first, len(capture.segments) if last is None else last):
            owner[index] = test
    shown: list[int] = [0]
    per_test: dict[str, list[int]] = {}
    if complete:
        previous: dict[str, Any] | None = None
        for index in range(1, len(capture.segments)):
            test = owner.get(index)
            if test is not None:
                previous = test
                if not test.get("hidden"):
                    per_test.setdefault(test["id"], []).append(index)
                continue
            following = next(
                (owner[i] for i in range(index + 1, len(capture.segments)) if i in owner), None
            )
            if not any(t is not None and t.get("hidden") for t in (previous, following)):
                shown.append(index)
    counted = set(shown).union(*per_test.values())
    unseen = sum(
        capture.segments[i].lines for i in range(len(capture.segments)) if i not in counted
    )
    log = capture.text(shown)
    if unseen:
        during = "during hidden tests" if complete else "during the tests"
        log += (
            f"\n\n[your app printed {unseen} line{'s' if unseen != 1 else ''} {during}: not shown]"
        )
    return OutputView(
        tests={test_id: capture.text(indexes) for test_id, indexes in per_test.items()},
        log=log.strip("\n"),
    )


# One grading run -----------------------------------------------------------------------------


class GradingRun:
    """Everything one grading owns; `run()` returns the result and always cleans up."""

    def __init__(
        self,
        *,
        archive: bytes,
        tests: Mapping[str, str],
        framework: str,
        policy: SandboxPolicy,
        on_phase: Phase | None,
        queued_at: datetime | None,
        image: str | None,
    ) -> None:
        self.archive = archive
        self.test_files = tests
        self.framework = framework
        self.policy = policy
        self.on_phase = on_phase
        self.timings = empty_timings(queued_at)
        self.image = image
        self.run_id = new_run_id()
        self.dirs: RunDirs | None = None
        self.harness: Harness | None = None
        self.container: engine.AppContainer | None = None
        self.container_removed = False
        self.capture: OutputCapture | None = None
        self.watch: SharedDirWatch | None = None
        self.events: queue.Queue = queue.Queue()
        self.deadline = 0.0
        self.nonce = secrets.token_hex(16)  # only boot.py's supervisor knows it in the container
        self.tests_started = False
        self.warm = None  # the pool's entry (sandbox.pool.WarmEntry) when a warm container runs it

    # Driving -------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self.timings["started"] = timestamp()
        self.deadline = time.monotonic() + self.policy.wall_timeout
        engine.client()  # EngineUnavailable now, before anything is created
        image = self.image or images.runner_image_tag()
        try:
            self._claim_warm(image)
            if self.warm is None:
                self.dirs = RunDirs.create(config.current().run_dir, self.run_id)
                self.dirs.mount_sockets_tmpfs(self.policy.shared_dir_bytes)
            result = self._grade(image)
        finally:
            try:
                self._clean_up()
            except engine.EngineUnavailable:
                raise
            except Exception:  # the verdict stands; the sweep removes what is left
                logger.exception("Cleaning up grading run %s failed", self.run_id)
        result["timings"] = {**self.timings, "finished": timestamp()}
        return result

    def _phase(self, name: str) -> None:
        if self.on_phase is None:
            return
        try:
            self.on_phase(name)
        except Exception:  # reporting progress must not break a grading
            logger.exception("on_phase(%r) failed", name)

    def _grade(self, image: str) -> dict[str, Any]:
        dirs = self.dirs
        dirs.write_tests(self.test_files)
        self.harness = Harness(dirs, self.policy)
        try:
            unpack_submission(self.archive, dirs.submission, policy=self.policy)
        except SubmissionRejected as exc:
            return self._not_run("error", str(exc))

        self._phase("booting")
        if self.warm is None:
            self.container = engine.start_app_container(
                image=image,
                policy=self.policy,
                command=[PYTHON, f"{BOOT_DIR}/boot.py", self.framework],
                mounts=container_mounts(dirs),
                labels={engine.RUN_LABEL: self.run_id, engine.CREATED_LABEL: f"{time.time():.3f}"},
                environment={
                    boot.NONCE_VARIABLE: self.nonce,
                    boot.DEADLINE_VARIABLE: f"{self._container_seconds():.1f}",
                },
                name=f"webcourse-run-{self.run_id}",
            )
        else:
            self.container = engine.attach_output(self.warm.container_id, self.warm.run_id)
        self.capture = OutputCapture(
            self.container.output, self.policy.log_limit_bytes, self.events, self.nonce
        )
        self.capture.start()
        self.watch = SharedDirWatch(dirs.sockets, self._kill_container)
        self.watch.start()
        if self.warm is not None and not self._say_go():
            return self._not_run("error", SANDBOX_START_FAILED)

        booted = self._wait_for_boot()
        if booted is not None:
            return booted
        self.timings["booted"] = timestamp()

        self._phase("testing")
        self.tests_started = True
        self.harness.go()
        if not self.harness.wait(self.deadline - time.monotonic()):
            self.harness.kill()
            return self._timed_out_in_tests()
        self.timings["tested"] = timestamp()
        return self._verdict_after_tests()

    def _container_seconds(self) -> float:
        """Return how long the container may live: the run's time, and a little grace."""
        return self.deadline - time.monotonic() + CONTAINER_GRACE

    # A warm container ------------------------------------------------------------------------

    def _claim_warm(self, image: str) -> None:
        """Take a warm container of this host's pool for this run, if one fits and is ready.

        Any doubt (none ready, another policy or image, one that died waiting) means a cold
        start, at once: a run never waits for the pool.
        """
        from sandbox import pool  # the pool starts its containers through this module

        try:
            entry = pool.claim(policy=self.policy, image=image, framework=self.framework)
        except Exception:
            logger.warning("Could not look at the warm pool; starting cold", exc_info=True)
            return
        if entry is None:
            return
        dirs = RunDirs(Path(entry.root))
        if not pool.usable(entry, dirs):
            logger.warning("Warm container %s was not usable; starting cold", entry.run_id)
            try:
                pool.discard(entry)
            finally:
                pool.release(entry)
            return
        self.warm = entry
        self.run_id, self.nonce, self.dirs = entry.run_id, entry.nonce, dirs
        self.timings["warm"] = True

    def _say_go(self) -> bool:
        """Start the learner's app in the claimed warm container; False if it did not answer."""
        command = {
            "mode": "app",
            "framework": self.framework,
            "deadline": round(self._container_seconds(), 1),
        }
        return self.dirs.tell_go(command)

    def _wait_for_boot(self) -> dict[str, Any] | None:
        """Return None once the app answers, else the result that ends the run."""
        boot_deadline = time.monotonic() + self.policy.boot_timeout
        deadline = min(boot_deadline, self.deadline)
        while True:
            try:
                event, _ = self.events.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                return self._boot_timed_out(whole_run=boot_deadline > self.deadline)
            if self.watch.tripped:
                return self._wrote_too_much()
            if event == "sockets":
                # boot.py has bound both sockets and runs no code of the learner's until the
                # folder is sealed: from now on nothing in the container can add to it.
                self.dirs.seal_sockets()
                if self.watch.check():
                    return self._wrote_too_much()
                if not self.dirs.tell_sealed():
                    return self._not_run("error", SANDBOX_START_FAILED)
            if event == "ready":
                if self.watch.check():
                    return self._wrote_too_much()
                if self.dirs.socket_is_real():
                    return None
                return self._not_run(
                    "error",
                    "Your app said it was ready, but no server socket was there. "
                    "Does your code print lines starting with @@webcourse?",
                )
            if event == "ended":
                return self._stopped_while_booting()

    # Verdicts ------------------------------------------------------------------------------

    def _not_run(self, status: str, message: str) -> dict[str, Any]:
        """End a run whose tests cannot run: collect them for the score, mark them skipped.

        Only for what is decided before the tests start: after "go", a run ends in a verdict
        that counts (see _spoiled_after_start).
        """
        report = None
        if self.harness is not None:
            self.harness.stop()
        log = self._log()  # stops the container while the harness finishes collecting
        if self.harness is not None and self.harness.wait(
            min(STOP_WAIT, max(self.deadline - time.monotonic(), 1.0))
        ):
            report = self.harness.report()
        tests = outcomes(report, not_run="not run")
        return make_result(status=status, message=message, tests=tests, log=log, score=0)

    def _stop_and_view(self, report: dict[str, Any] | None) -> OutputView:
        """Stop the container and return what the learner may see of its output."""
        self._stop_container()
        if self.capture is None:
            return OutputView(tests={}, log="")
        self.capture.join(timeout=2)
        if not self.tests_started:
            return OutputView(tests={}, log=self.capture.text())
        return attribute_output(self.capture, report)

    def _log(self) -> str:
        """Stop the container and return the output the learner may see (no per-test part)."""
        report = self.harness.report() if self.harness is not None else None
        return self._stop_and_view(report).log

    def _boot_timed_out(self, *, whole_run: bool) -> dict[str, Any]:
        if whole_run:
            message = (
                f"Your app did not start within the whole-run time limit "
                f"({self.policy.wall_timeout:g} s)."
            )
        else:
            message = (
                f"Your app did not start within the start-up time limit "
                f"({self.policy.boot_timeout:g} s). Does something run forever when it is "
                "imported (a loop, app.run(), input(), a long computation)?"
            )
        return self._not_run("timeout", message)

    def _socket_folder_message(self) -> str:
        problem = self.watch.problem if self.watch is not None else None
        return (
            f"Your app put something other than its server socket into {SOCKET_MOUNT}, the "
            f"folder of that socket ({problem or 'it was changed'}), so it was stopped. "
            "Write files under /tmp or your app's own folder instead."
        )

    def _wrote_too_much(self) -> dict[str, Any]:
        if self.tests_started:
            return self._spoiled_after_start(self._socket_folder_message())
        return self._not_run("error", self._socket_folder_message())

    def _spoiled_after_start(self, message: str) -> dict[str, Any]:
        """End a run the app broke after its tests started: an attempt that scores nothing.

        Its tests are shown as not counted, so breaking a run reveals no more than a normal
        result would, and costs an attempt like one.
        """
        report = self.harness.report() if self.harness is not None else None
        view = self._stop_and_view(report)
        tests = [
            TestOutcome(
                name=t.name, status="skipped", points=0, max_points=t.max_points,
                message="not counted: the run was stopped", hidden=t.hidden,
            )
            for t in outcomes(report)
        ]  # fmt: skip
        return make_result(status="failed", message=message, tests=tests, log=view.log, score=0)

    def _stopped_while_booting(self) -> dict[str, Any]:
        self.capture.join(timeout=2)
        if self.watch.check():
            return self._wrote_too_much()
        failure = self.capture.failure
        if failure is not None:
            return self._not_run("error", self._failure_message(failure))
        state = engine.container_state(self.container.id)
        if state.oom_killed or state.exit_code == 137:
            return self._not_run(
                "error",
                f"Your app ran out of memory ({self.policy.memory_bytes // MiB} MiB) while "
                "starting, so it was stopped.",
            )
        tail = self.capture.tail_lines(15)
        message = f"Your app stopped while starting (exit code {state.exit_code})"
        message += f":\n{tail}" if tail else ", without printing anything."
        return self._not_run("error", self._with_hints(message))

    def _with_hints(self, message: str) -> str:
        """Add what a learner may not know about the sandbox to a crash message."""
        if "Resource temporarily unavailable" in message or "BlockingIOError" in message:
            message = message.rstrip("\n") + (
                f"\n(The sandbox allows at most {self.policy.pids_limit} processes and threads.)"
            )
        if "Read-only file system" in message:
            message = message.rstrip("\n") + (
                "\n(Only your app's own folder and /tmp can be written to in the sandbox.)"
            )
        return message

    def _failure_message(self, failure: dict[str, Any]) -> str:
        kind = failure.get("kind")
        if kind == "missing-packages":
            names = ", ".join(str(p) for p in failure.get("packages", []))
            return (
                f"Not gradable: these packages are not available in the sandbox: {names} — "
                "the sandbox has no network, so it can only use the packages it comes with "
                "(listed on the exercise page). Remove them from requirements.txt, or "
                "solve the exercise without them."
            )
        message = shorten_paths(str(failure.get("message", "")))
        if kind in ("import", "migrate"):
            return self._with_hints(f"Your app stopped while starting. {message}")
        return message or "Your app could not be started."

    def _timed_out_in_tests(self) -> dict[str, Any]:
        limit = f"the whole-run time limit ({self.policy.wall_timeout:g} s)"
        report = self.harness.report()
        view = self._stop_and_view(report)
        tests = outcomes(
            report,
            unfinished=f"not finished when {limit} was reached",
            not_run=f"not run: {limit} was reached",
            outputs=view.tests,
        )
        missing = sum(t.status not in ("passed", "failed") for t in tests)
        message = f"The grading was stopped at {limit}"
        if missing:
            message += f"; {missing} test{'s' if missing > 1 else ''} did not finish."
        else:
            message += "."
        return make_result(status="timeout", message=message, tests=tests, log=view.log)

    def _verdict_after_tests(self) -> dict[str, Any]:
        report = self.harness.report()
        if report is None or report.get("state") not in ("done", "running"):
            return self._grader_failed(report)
        if not report.get("tests"):
            return make_result(
                status="error",
                message="This exercise has no tests to run; please tell your teacher.",
                log=self._log(),
            )
        if self.watch.check():  # one last look: writes made after the tests count too
            return self._wrote_too_much()
        if report["state"] == "running":  # it ended without saying "done": it was killed
            return self._harness_stopped(report)
        # Did the app die during the tests? Ask before the container is removed.
        state = engine.container_state(self.container.id) if self.capture.ended.is_set() else None
        view = self._stop_and_view(report)
        tests = outcomes(report, unfinished="did not finish", not_run="not run", outputs=view.tests)
        passed = all(t.status == "passed" for t in tests)
        # All the output, hidden tests' too: the note names a limit, not what a test sent.
        notes = self._notes_after_tests(state, self.capture.text())
        message = " ".join([passed_summary(tests), *notes])
        return make_result(
            status="passed" if passed else "failed", message=message, tests=tests, log=view.log
        )

    def _harness_stopped(self, report: dict[str, Any]) -> dict[str, Any]:
        """End a run whose harness was killed mid-test (by its limits, most likely).

        Like a run stopped at the time limit, it counts as an attempt: the tests that finished
        show what they would have, the one that was running did not finish, and the rest did
        not run. The message says which limit, where the harness's cgroup or exit tells.
        """
        logger.warning(
            "The grading harness of run %s was killed during the tests:\n%s",
            self.run_id,
            self.harness.log_tail(),
        )
        view = self._stop_and_view(report)
        unfinished = "did not finish: the grader stopped during this test"
        tests = outcomes(report, unfinished=unfinished, not_run="not run", outputs=view.tests)
        running = next((t for t in report.get("tests", []) if t.get("status") == "running"), None)
        if running is None:
            during = "the tests"
        elif running.get("hidden"):
            during = "a hidden test"
        else:
            during = f"the test “{running.get('name') or running.get('id')}”"
        why = self._why_the_harness_stopped(self.harness.limit_reached())
        message = (
            f"{passed_summary(tests)} The grader stopped while running {during}{why}, so the "
            "run ended there. Look for answers that are very large, deeply nested or endless."
        )
        return make_result(status="failed", message=message, tests=tests, log=view.log)

    def _why_the_harness_stopped(self, reached: str | None) -> str:
        """Return the end of "The grader stopped while running X…": which limit, if known."""
        harness, cgroup = self.harness.limits, self.harness.cgroup
        memory = (cgroup.memory if cgroup is not None else harness.address_space) // MiB
        pids = cgroup.pids if cgroup is not None else cgroups.PIDS
        limit = {
            "memory": f"memory limit ({memory} MiB)",
            "processes": f"limit of {pids} processes and threads",
            "CPU time": f"CPU time limit ({harness.cpu_seconds} s)",
        }.get(reached or "")
        if limit is not None:
            return f": your app's answers made it use more than its {limit}"
        processes = f", {pids} processes" if cgroup is not None else ""
        return (
            ", most likely because your app's answers made it use more than its limits "
            f"({memory} MiB of memory, {harness.cpu_seconds} s of CPU time{processes})"
        )

    def _notes_after_tests(self, state: engine.ContainerState | None, log: str) -> list[str]:
        """Explain a crash during the tests: the failed tests alone do not say it."""
        memory = f"{self.policy.memory_bytes // MiB} MiB"
        if state is not None:
            if state.oom_killed or state.exit_code == 137:
                return [f"Your app ran out of memory ({memory}) during the tests and was stopped."]
            return [f"Your app stopped during the tests (exit code {state.exit_code})."]
        if "Perhaps out of memory?" in log:  # gunicorn's words when its worker was killed
            return [
                "Your app's server process was killed during the tests, most likely for using "
                f"more than {memory} of memory."
            ]
        return []

    def _grader_failed(self, report: dict[str, Any] | None) -> dict[str, Any]:
        if report is not None and report.get("state") == "collect-error":
            logger.error(
                "The tests of this exercise could not be loaded:\n%s",
                "\n".join(report.get("collect_errors", [])),
            )
            message = (
                "The tests of this exercise could not be loaded, so your app was not "
                "graded. This is a problem with the exercise, not your code: please tell "
                "your teacher."
            )
        else:
            logger.error("The grading harness failed:\n%s", self.harness.log_tail())
            message = GRADER_FAILED
        # Not counted, so it shows no test's outcome: a free verdict must reveal nothing.
        tests = [
            TestOutcome(name=t.name, status="skipped", points=0, max_points=t.max_points,
                        message="not run", hidden=t.hidden)
            for t in outcomes(report)
        ]  # fmt: skip
        return make_result(status="error", message=message, tests=tests, log=self._log(), score=0)

    # Cleaning up ---------------------------------------------------------------------------

    def _kill_container(self) -> None:
        if self.container is not None:
            engine.kill(self.container.id)

    def _stop_container(self) -> None:
        """Remove the container now (once); its output stream then ends."""
        if self.container is not None and not self.container_removed:
            self.container_removed = True
            try:
                engine.remove(self.container.id)
            finally:
                self.container.close_output()

    def _clean_up(self) -> None:
        """Remove the container and the run's folders; stop the harness and the threads."""
        errors: list[BaseException] = []
        if self.harness is not None:
            try:
                self.harness.kill()
            except Exception as exc:
                errors.append(exc)
        if self.watch is not None:
            self.watch.stop()
        try:
            self._stop_container()
        except Exception as exc:
            errors.append(exc)
        if self.capture is not None:
            self.capture.join(timeout=2)
        if self.dirs is not None:
            try:
                self.dirs.remove()
            except Exception as exc:
                errors.append(exc)
        if self.warm is not None:
            from sandbox import pool

            pool.release(self.warm)
        if errors:
            raise errors[0]


def run_submission(
    *,
    archive: bytes,
    tests: Mapping[str, str],
    framework: str,
    policy: SandboxPolicy = DEFAULT_POLICY,
    on_phase: Phase | None = None,
    queued_at: datetime | None = None,
    image: str | None = None,
) -> dict[str, Any]:
    """Grade one submission (a zip) with an exercise's test files; return the result dict.

    Raise engine.EngineUnavailable when Docker cannot be reached (or the runner image is
    missing); anything the learner's files do ends in a result instead.
    """
    return GradingRun(
        archive=archive,
        tests=tests,
        framework=framework,
        policy=policy,
        on_phase=on_phase,
        queued_at=queued_at,
        image=image,
    ).run()


def grade(
    *,
    spec: ExerciseSpec,
    archive: bytes,
    framework: str,
    on_phase: Phase | None = None,
    queued_at: datetime | None = None,
) -> dict[str, Any]:
    """Grade a submission (zip bytes) against an exercise's hidden tests; return the result.

    Like `run_submission`, with the exercise's tests and policy, after checking that the
    exercise offers `framework`: an exercise re-imported with fewer frameworks may still
    have submissions waiting in the queue, and those end in an "error" result.
    """
    if framework not in spec.frameworks:
        offered = ", ".join(FRAMEWORKS.get(f, f) for f in spec.frameworks)
        chosen = FRAMEWORKS.get(framework, framework)
        timings = {**empty_timings(queued_at), "started": timestamp()}
        timings["finished"] = timings["started"]
        return make_result(
            status="error",
            message=f"This exercise is graded with {offered}; {chosen} is not one of them.",
            timings=timings,
        )
    return run_submission(
        archive=archive,
        tests=spec.tests,
        framework=framework,
        policy=spec.policy,
        on_phase=on_phase,
        queued_at=queued_at,
    )


# Sweeping and measuring ----------------------------------------------------------------------


def sweep_orphans(max_age: float | timedelta, *, cgroup_age: float | None = None) -> int:
    """Remove this host's sandbox containers, run folders and harness cgroups older than `max_age`.

    Return how many containers were removed. A worker that crashed mid-grading leaves all
    three behind; every container carries the webcourse.sandbox label, the host that started
    it and its creation time, so this finds them without a database, and never touches
    another host's containers on a shared engine. Run folders are looked for in this host's
    own run folder. Harness cgroups carry no host, so they are swept at `cgroup_age`
    (default: `max_age`): a grading host starting up removes all its containers and folders
    at once, but only cgroups older than any grading. A harness still in such a cgroup is
    killed.
    """
    from sandbox import pool

    seconds = max_age.total_seconds() if isinstance(max_age, timedelta) else float(max_age)
    # Warm containers waiting in this host's pool, or claimed by a run still in time, are not
    # orphans however old; at a host's start (max_age 0) its earlier pool is.
    if seconds > 0:
        live = pool.live_runs(claimed_within=seconds)
        pool.forget_stale(claimed_before=seconds)
    else:
        pool.forget_all()
        live = {}
    removed = engine.remove_stale_containers(
        older_than=seconds, host=config.current().host, keep=set(live.values())
    )
    cgroups_removed = cgroups.sweep(older_than=seconds if cgroup_age is None else cgroup_age)
    if cgroups_removed:
        logger.info("Removed %d orphaned harness cgroups.", cgroups_removed)
    base = config.current().run_dir
    if base.is_dir():
        now = time.time()
        for folder in base.iterdir():
            if folder.name in live or folder.name.startswith(pool.FOLDER_PREFIX):
                continue
            try:
                old = now - folder.lstat().st_mtime > seconds
            except OSError:
                continue
            if old and folder.is_dir() and not folder.is_symlink():
                try:
                    RunDirs(folder).remove()
                except Exception:  # one stubborn folder must not stop the sweep
                    logger.exception("Could not remove the run folder %s", folder)
    return removed


def floor_probe(
    app_dir: Path,
    framework: str,
    policy: SandboxPolicy = DEFAULT_POLICY,
    *,
    image: str | None = None,
) -> float:
    """Return the seconds a bare hardened container takes to boot an app and answer one GET.

    Same limits and socket set-up as a grading, but no boot.py, no copy, no tests: the server
    runs straight from the read-only app folder. Measures start → first answer → removal.
    """
    import httpx

    app_dir = Path(app_dir).resolve()
    image = image or images.runner_image_tag()
    run_id = new_run_id()
    socket_path = f"{SOCKET_MOUNT}/{SOCKET_NAME}"
    gunicorn = [
        "/opt/venv/bin/gunicorn", "--bind", f"unix:{socket_path}", "--workers", "1",
        "--threads", "4", "--worker-class", "gthread", "--chdir", SUBMISSION_MOUNT,
    ]  # fmt: skip
    uvicorn = ["/opt/venv/bin/uvicorn", "--uds", socket_path, "--app-dir", SUBMISSION_MOUNT]
    if framework in ("flask", "wsgi"):
        command = [*gunicorn, "app:app"]
    elif framework == "fastapi":
        command = [*uvicorn, "main:app"]
    elif framework == "asgi":
        command = [*uvicorn, "app:app"]
    elif framework == "django":
        settings_module = boot.settings_module_from_manage((app_dir / "manage.py").read_text())
        project = (settings_module or "").rpartition(".")[0]
        command = [*gunicorn, f"{project}.wsgi:application"]
    else:
        raise ValueError(f"unknown framework {framework!r}")
    engine.client()
    dirs = RunDirs.create(config.current().run_dir, run_id)
    container = None
    started = time.perf_counter()
    try:
        container = engine.start_app_container(
            image=image,
            policy=policy,
            command=command,
            mounts=[
                engine.Mount(app_dir, SUBMISSION_MOUNT),
                engine.Mount(dirs.sockets, SOCKET_MOUNT, read_only=False),
            ],
            labels={engine.RUN_LABEL: run_id, engine.CREATED_LABEL: f"{time.time():.3f}"},
            environment={},
            name=f"webcourse-floor-{run_id}",
        )
        limit = started + policy.boot_timeout
        with httpx.Client(
            transport=httpx.HTTPTransport(uds=str(dirs.socket), verify=False),
            base_url="http://localhost",
            timeout=policy.request_timeout,
        ) as client:
            while True:
                if time.perf_counter() > limit:
                    raise RuntimeError(f"the app did not answer within {policy.boot_timeout:g} s")
                if dirs.socket.exists():
                    try:
                        client.get("/")
                        break
                    except httpx.TransportError:
                        pass
                time.sleep(0.005)
        engine.remove(container.id)
        container.close_output()
        container = None
        return time.perf_counter() - started
    finally:
        if container is not None:
            engine.remove(container.id)
            container.close_output()
        dirs.remove()
