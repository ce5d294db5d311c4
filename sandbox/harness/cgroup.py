"""A cgroup of its own for each grading harness: a memory and a process limit for its tree.

The resource limits of sandbox.harness.limits hold for one process each: a harness that
starts processes (a test may) could use RLIMIT_AS many times over, or fork without end. A
cgroup bounds the harness and everything it starts together: MEMORY bytes of memory (swap
included, so it cannot swap instead) and PIDS processes and threads. Past the memory limit
the kernel kills the largest process of the group; past the process limit, fork() fails.

The runner (the worker, root) makes the cgroup before it starts the harness, and removes it
after the harness is gone; the harness joins it first thing in limits.apply(), before it drops
root and before pytest reads a test, so no test code runs outside it. Each cgroup is a child
of the worker's own cgroup, so whatever limits the worker has hold over its harnesses too:

- cgroup v1 (memory and pids hierarchies): <hierarchy>/<worker's cgroup>/webcourse-harness-<run>
  in each, with memory.limit_in_bytes, memory.memsw.limit_in_bytes (where swap is
  accounted) and pids.max;
- cgroup v2: <worker's cgroup>/webcourse-harness-<run>, with memory.max, memory.swap.max = 0
  and pids.max, where the worker's cgroup hands the memory and pids controllers down
  (a delegated subtree).

Where neither can be written (a worker that is not root, a v2 cgroup that holds processes
and so cannot hand controllers down), the harness runs without one, with one warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
PREFIX = "webcourse-harness-"
MEMORY = 512 * MiB  # as much as one harness process may map (limits.ADDRESS_SPACE)
PIDS = 64  # processes and threads: pytest needs one, a test that starts a server a few more
REMOVE_WAIT = 5.0  # seconds to wait for what is killed in a cgroup to leave it

MOUNTINFO = Path("/proc/self/mountinfo")
OWN_CGROUP = Path("/proc/self/cgroup")

_warned = False


@dataclass(frozen=True)
class HarnessCgroup:
    """The cgroup of one harness: one folder per hierarchy (v1: memory and pids; v2: one)."""

    folders: tuple[Path, ...]
    memory: int = MEMORY  # its limits, as create() set them
    pids: int = PIDS

    @classmethod
    def create(
        cls, run_id: str, *, memory: int | None = None, pids: int | None = None
    ) -> HarnessCgroup | None:
        """Make the cgroup of run `run_id` with its limits; None (warned once) where none can be."""
        memory = MEMORY if memory is None else memory
        pids = PIDS if pids is None else pids
        layout = _layout()
        if layout is None:
            _warn("this machine has neither cgroup v1 memory and pids hierarchies nor cgroup v2")
            return None
        version, parents = layout
        group = cls(tuple(parent / f"{PREFIX}{run_id}" for parent in parents), memory, pids)
        try:
            if version == 2:
                _hand_down_controllers(parents[0])
            for folder in group.folders:
                folder.mkdir()
            if version == 1:
                memory_folder, pids_folder = group.folders
                _write(memory_folder / "memory.limit_in_bytes", memory)
                # Memory and swap together: the same limit, so it cannot swap instead.
                with contextlib.suppress(FileNotFoundError):  # swap is not accounted
                    _write(memory_folder / "memory.memsw.limit_in_bytes", memory)
                _write(pids_folder / "pids.max", pids)
            else:
                (folder,) = group.folders
                _write(folder / "memory.max", memory)
                with contextlib.suppress(FileNotFoundError):  # no swap on this machine
                    _write(folder / "memory.swap.max", 0)
                _write(folder / "pids.max", pids)
        except OSError as exc:
            with contextlib.suppress(OSError):
                group.remove()
            _warn(f"its cgroup could not be made in {parents[0]} ({exc.strerror or exc})")
            return None
        return group

    def join(self) -> None:
        """Move this process into the cgroup (what it starts from then on is in it too)."""
        for folder in self.folders:
            _write(folder / "cgroup.procs", os.getpid())

    def processes(self) -> set[int]:
        """Return the processes in the cgroup."""
        found: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError):
                found.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
        return found

    def limit_reached(self) -> str | None:
        """Return "memory" or "processes" when the cgroup killed or refused for that limit."""
        for folder in self.folders:
            if _counter(folder / "memory.oom_control", "oom_kill") or _counter(
                folder / "memory.events", "oom_kill"
            ):
                return "memory"
        for folder in self.folders:
            if _counter(folder / "pids.events", "max"):
                return "processes"
        return None

    def remove(self) -> None:
        """Kill whatever is left in the cgroup, then remove it."""
        deadline = time.monotonic() + REMOVE_WAIT
        for folder in self.folders:
            while folder.is_dir():
                for pid in self.processes():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY until the killed are gone
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)


def from_folders(folders: list[str] | tuple[str, ...]) -> HarnessCgroup | None:
    """Return the cgroup named by these folders (as HarnessLimits carries it), None if none."""
    return HarnessCgroup(tuple(Path(f) for f in folders)) if folders else None


def sweep(older_than: float) -> int:
    """Remove harness cgroups made more than `older_than` seconds ago; return how many.

    A worker that crashed mid-grading leaves its harness's cgroup behind, with the harness
    in it, perhaps. Only cgroups below this process's own cgroup are seen, which is the
    worker's where the sweep runs in a worker.
    """
    layout = _layout()
    if layout is None:
        return 0
    removed = 0
    now = time.time()
    for folders in _orphans(layout[1]):
        try:
            made = min(folder.stat().st_mtime for folder in folders if folder.is_dir())
            if now - made <= older_than:
                continue
            HarnessCgroup(folders).remove()
            removed += 1
        except (OSError, ValueError):  # one stubborn cgroup must not stop the sweep
            logger.exception("Could not remove the cgroup %s", folders[0])
    return removed


def _orphans(parents: tuple[Path, ...]) -> Iterator[tuple[Path, ...]]:
    """Yield the folders of each harness cgroup below `parents`, in every hierarchy."""
    names: set[str] = set()
    for parent in parents:
        with contextlib.suppress(OSError), os.scandir(parent) as entries:
            names.update(
                entry.name
                for entry in entries
                if entry.name.startswith(PREFIX) and entry.is_dir(follow_symlinks=False)
            )
    for name in sorted(names):
        yield tuple(parent / name for parent in parents)


# Where the cgroups go ------------------------------------------------------------------------


def _layout() -> tuple[int, tuple[Path, ...]] | None:
    """Return (1, (memory, pids folders)) or (2, (folder,)) of this process's own cgroup."""
    own = _own_cgroups()
    mounts = _cgroup_mounts()
    v1 = [_folder(mounts, f"cgroup:{name}", own.get(name)) for name in ("memory", "pids")]
    if all(v1):
        return 1, tuple(v1)
    v2 = _folder(mounts, "cgroup2", own.get(""))
    if v2 is not None and {"memory", "pids"} <= set(_read(v2 / "cgroup.controllers").split()):
        return 2, (v2,)
    return None


def _own_cgroups() -> dict[str, str]:
    """Return this process's cgroup path per v1 controller, and under "" its v2 path."""
    found: dict[str, str] = {}
    for line in _read(OWN_CGROUP).splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            found[controller] = path
    return found


def _cgroup_mounts() -> dict[str, tuple[Path, str]]:
    """Return {"cgroup:<controller>" or "cgroup2": (mount point, root of the mount)}."""
    found: dict[str, tuple[Path, str]] = {}
    for line in _read(MOUNTINFO).splitlines():
        fields, _, tail = line.partition(" - ")
        parts, tail_parts = fields.split(), tail.split()
        if len(parts) < 5 or len(tail_parts) < 3:
            continue
        root, point = _unescape(parts[3]), Path(_unescape(parts[4]))
        kind, options = tail_parts[0], tail_parts[2].split(",")
        if kind == "cgroup2":
            found.setdefault("cgroup2", (point, root))
        elif kind == "cgroup":
            for option in options:
                found.setdefault(f"cgroup:{option}", (point, root))
    return found


def _folder(mounts: dict[str, tuple[Path, str]], key: str, path: str | None) -> Path | None:
    """Return where cgroup `path` of a hierarchy is in this machine's folders, if it is."""
    if path is None or key not in mounts:
        return None
    point, root = mounts[key]
    relative = os.path.relpath(path, root)
    if relative.startswith(".."):  # outside what is mounted here
        return None
    return point if relative == "." else point / relative


def _hand_down_controllers(parent: Path) -> None:
    """Let children of a v2 cgroup have memory and pids limits (OSError where it cannot)."""
    wanted = {"memory", "pids"}
    if wanted <= set(_read(parent / "cgroup.subtree_control").split()):
        return
    # Refused (EBUSY) while the parent holds processes of its own, such as this worker.
    _write(parent / "cgroup.subtree_control", " ".join(f"+{name}" for name in sorted(wanted)))


# Small helpers ----------------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: object) -> None:
    # No O_CREAT: these files exist in a cgroup, and a missing one must not be made anywhere.
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def _counter(path: Path, name: str) -> int:
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return 0


def _unescape(text: str) -> str:
    r"""Undo mountinfo's octal escapes (\040 for a space, and so on)."""
    if "\\" not in text:
        return text
    return text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def _warn(reason: str) -> None:
    global _warned
    if _warned:
        logger.debug("no cgroup for the grading harness: %s", reason)
        return
    _warned = True
    logger.warning(
        "The grading harness runs without a cgroup of its own (no memory or process limit "
        "for all it starts together): %s.",
        reason,
    )
