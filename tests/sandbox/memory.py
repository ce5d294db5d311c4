"""Measure the resident memory of a process and all its descendants while something runs.

    with tree_memory() as memory:
        grade_files(...)
    assert memory.above_idle <= 300 * MiB, memory.describe()

A thread reads /proc every `interval` seconds (10 ms by default): each process's resident set,
summed over the tree (as Pss, so pages shared after a fork count once), and each process's own
high-water mark (VmHWM), which catches a spike between two samples as long as the process is
seen once after it. Only this machine's
processes below the root are counted: a learner's container runs under Docker's daemons, not
below the grading process, and is bounded by its own cgroup.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

MiB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class TreeMemory:
    """What a tree_memory() block saw, in bytes."""

    root: int
    idle: int = 0  # the tree's resident memory as the block began
    peak: int = 0  # the most it held at one sample
    samples: int = 0
    # Each process seen: its command and its own peak (VmHWM), the last time it was read.
    processes: dict[int, tuple[str, int]] = field(default_factory=dict)
    seen_at_start: set[int] = field(default_factory=set)

    @property
    def above_idle(self) -> int:
        return self.peak - self.idle

    @property
    def own_peaks_above_idle(self) -> int:
        """Return the sum of the own peaks of processes started in the block (an upper bound)."""
        return sum(
            peak for pid, (_, peak) in self.processes.items() if pid not in self.seen_at_start
        )

    def describe(self) -> str:
        lines = [
            f"peak {self.peak / MiB:.1f} MiB, idle {self.idle / MiB:.1f} MiB, "
            f"above idle {self.above_idle / MiB:.1f} MiB over {self.samples} samples"
        ]
        for pid, (name, peak) in sorted(self.processes.items()):
            lines.append(f"  {pid} {name}: own peak {peak / MiB:.1f} MiB")
        return "\n".join(lines)


PF_FORKNOEXEC = 0x40  # a process's flags: forked, and has not run another program since


def _parents() -> dict[int, int]:
    """Return {pid: parent pid} of every process."""
    return {pid: parent for pid, (parent, _) in _stats().items()}


def _stats() -> dict[int, tuple[int, int]]:
    """Return {pid: (parent pid, kernel flags)} of every process."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[1]), int(fields[6]))
    return found


def descendants(root: int) -> set[int]:
    """Return `root` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    tree, pending = set(), [root]
    while pending:
        pid = pending.pop()
        if pid not in tree:
            tree.add(pid)
            pending.extend(children.get(pid, ()))
    return tree


def _status(pid: int) -> tuple[str, int, int] | None:
    """Return (command, VmRSS, VmHWM) of a process, or None if it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            text = status.read().decode("ascii", "replace")
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        values[name] = value.strip()
    if "VmRSS" not in values:  # a zombie has no memory left
        return None
    return values.get("Name", "?"), _kib(values["VmRSS"]), _kib(values.get("VmHWM", "0 kB"))


def _proportional(pid: int) -> int | None:
    """Return a process's proportional set size (Pss): pages it shares count in part."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return _kib(line.decode()[4:])
    except OSError:
        pass
    return None


def _kib(value: str) -> int:
    return int(value.split()[0]) * 1024


def sample(memory: TreeMemory) -> int:
    """Read the tree once: record each process's own peak; return the tree's resident total.

    The total adds up each process's Pss rather than its RSS, so that pages a forked child
    shares with its parent (the fork server's, say) are not counted twice. A child between
    vfork() and exec() uses its parent's very memory: it is left out (spotted as a child
    that has not run a program of its own and shows its parent's RSS and peak, to the byte).
    """
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    readings: dict[int, tuple[str, int, int]] = {}
    pending = [memory.root]
    while pending:
        pid = pending.pop()
        found = _status(pid)
        if found is not None and pid not in readings:
            readings[pid] = found
        pending.extend(children.get(pid, ()))
    total = 0
    for pid, (name, rss, hwm) in readings.items():
        parent, flags = stats.get(pid, (0, 0))
        if flags & PF_FORKNOEXEC and readings.get(parent, (None, -1, -1))[1:] == (rss, hwm):
            continue
        proportional = _proportional(pid)
        total += rss if proportional is None else proportional
        _, known = memory.processes.get(pid, (name, 0))
        memory.processes[pid] = (name, max(known, hwm))
    return total


@contextlib.contextmanager
def tree_memory(root: int | None = None, interval: float = 0.01) -> Iterator[TreeMemory]:
    """Sample the resident memory of `root` (default: this process) and its descendants."""
    memory = TreeMemory(root=os.getpid() if root is None else root)
    memory.seen_at_start = descendants(memory.root)
    memory.idle = memory.peak = sample(memory)
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            total = sample(memory)
            memory.samples += 1
            memory.peak = max(memory.peak, total)
            stop.wait(interval)

    thread = threading.Thread(target=watch, name="tree-memory", daemon=True)
    thread.start()
    try:
        yield memory
    finally:
        stop.set()
        thread.join()
        memory.peak = max(memory.peak, sample(memory))


def wait_for(condition, timeout: float = 10.0) -> None:
    """Wait until `condition()` is true (checked every 10 ms), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true in time")
        time.sleep(0.01)
