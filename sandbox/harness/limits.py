"""Resource limits, and an unprivileged user, for the grading harness process.

The harness parses whatever the learner's app answers. sandbox.harness.grader keeps each
answer small and short; these limits bound the process whatever happens anyway (a bug, a
test that keeps too much), so that one grading cannot take the grading host down with it:

- address space (RLIMIT_AS): memory the process may map, pytest and all; past it,
  allocations fail with MemoryError (the test fails) instead of the host swapping;
- CPU time (RLIMIT_CPU): a little more than the run's whole-run limit, which the runner
  enforces first; a harness spinning past it is killed (SIGXCPU, then SIGKILL);
- file size (RLIMIT_FSIZE): room for its report and log; past it, a write fails with
  "File too large" (Python ignores SIGXFSZ); no core files either;
- user: when started as root, it becomes ``nobody`` (uid/gid 65534, no other groups, no way
  to gain privileges back). It then reads the tests (world-readable), connects to the app's
  socket (which the app's server makes connectable by anyone) and writes only in the folder
  the runner gives it (see sandbox.runner.RunDirs.create);
- cgroup: where the runner could make one (sandbox.harness.cgroup), the harness joins it
  first, so that it and everything it starts share one memory and one process limit. That
  also bounds a harness that stays root because nobody cannot read its Python.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import logging
import math
import os
import resource
import stat
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from sandbox.harness import cgroup as cgroups

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
PROJECT_DIR = Path(__file__).resolve().parents[2]

HARNESS_USER = (65534, 65534)  # nobody:nogroup
ADDRESS_SPACE = 512 * MiB  # a harness maps about 45 MiB; threads take 8 MiB (stack) each
FILE_SIZE = 16 * MiB
CPU_MARGIN = 5  # seconds past the whole-run limit; as much again before SIGKILL
PR_SET_NO_NEW_PRIVS = 38


def harness_user() -> tuple[int, int] | None:
    """Return the (uid, gid) the harness runs as: nobody when this process is root, else None.

    Also None (with a warning, once) when nobody could not read the Python it would run: the
    standard library, the installed packages or this project (say, Python installed below
    /root), since every import after the switch would fail.
    """
    if os.geteuid() != 0:
        return None
    return HARNESS_USER if _can_run_python(HARNESS_USER) else None


@functools.cache
def _can_run_python(user: tuple[int, int]) -> bool:
    paths = sysconfig.get_paths()
    needed = {paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"]}
    needed.add(str(PROJECT_DIR))
    for folder in sorted(needed):
        blocked = _blocked(Path(folder), user)
        if blocked is not None:
            logger.warning(
                "The grading harness runs as root, not as uid %s: that user cannot read %s "
                "(in %s). Install Python and the project where every user may read them.",
                user[0],
                blocked,
                folder,
            )
            return False
    return True


def _blocked(folder: Path, user: tuple[int, int]) -> Path | None:
    """Return the first folder on the way to `folder` (itself included) `user` cannot use."""
    for path in (*reversed(folder.parents), folder):
        try:
            info = path.stat()
        except OSError:
            return path
        if not _may(info, user, 0o1):
            return path
    return None if _may(folder.stat(), user, 0o4) else folder


@dataclass(frozen=True)
class HarnessLimits:
    """The limits of one harness process."""

    cpu_seconds: int
    address_space: int = ADDRESS_SPACE
    file_size: int = FILE_SIZE
    user: tuple[int, int] | None = None
    cgroup: tuple[str, ...] = ()  # the folders of its cgroup (sandbox.harness.cgroup)

    @classmethod
    def for_run(
        cls, wall_timeout: float, cgroup: cgroups.HarnessCgroup | None = None
    ) -> HarnessLimits:
        """Return the limits of a harness serving a run with this whole-run limit (seconds)."""
        return cls(
            cpu_seconds=math.ceil(wall_timeout) + CPU_MARGIN,
            user=harness_user(),
            cgroup=tuple(str(folder) for folder in cgroup.folders) if cgroup else (),
        )

    def as_args(self) -> list[str]:
        """Return the command-line options of ``python -m sandbox.harness`` that set these."""
        args = [
            "--max-cpu-seconds", str(self.cpu_seconds),
            "--max-address-space", str(self.address_space),
            "--max-file-size", str(self.file_size),
        ]  # fmt: skip
        if self.user is not None:
            args += ["--user", f"{self.user[0]}:{self.user[1]}"]
        for folder in self.cgroup:
            args += ["--cgroup", folder]
        return args

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> HarnessLimits | None:
        """Return the limits given on the command line (see add_arguments), or None if none were."""
        if args.max_cpu_seconds is None:
            return None
        return cls(
            cpu_seconds=args.max_cpu_seconds,
            address_space=args.max_address_space,
            file_size=args.max_file_size,
            user=args.user,
            cgroup=tuple(args.cgroup or ()),
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of HarnessLimits.as_args() to a command line."""
    group = parser.add_argument_group("limits (all or none; the runner always sets them)")
    group.add_argument("--max-cpu-seconds", type=int, help="CPU time, then SIGXCPU")
    group.add_argument("--max-address-space", type=int, default=ADDRESS_SPACE, help="bytes")
    group.add_argument("--max-file-size", type=int, default=FILE_SIZE, help="bytes")
    group.add_argument("--user", type=_user, help="UID:GID to switch to (needs root)")
    group.add_argument(
        "--cgroup", action="append", help="a folder of the cgroup to join (once per hierarchy)"
    )


def _user(text: str) -> tuple[int, int]:
    uid, _, gid = text.partition(":")
    return int(uid), int(gid or uid)


def apply(limits: HarnessLimits) -> None:
    """Limit this process (and what it starts) for good: cgroup, hard limits, then no root."""
    group = cgroups.from_folders(limits.cgroup)
    if group is not None:
        group.join()  # first, and while still root: the cgroup's files are root's
    resource.setrlimit(resource.RLIMIT_AS, (limits.address_space, limits.address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + CPU_MARGIN))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.user is not None:
        uid, gid = limits.user
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)  # last: after it, nothing above can be undone
        if os.getuid() != uid or os.geteuid() != uid or os.getegid() != gid:
            raise RuntimeError(f"could not become user {uid}:{gid}")
    # Nor can a setuid program it runs give privileges back.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def make_reachable(folder: Path, user: tuple[int, int]) -> None:
    """Let `user` pass through `folder` and the folders above it, or say why it cannot.

    A folder of this process's that `user` may not enter (say, made by mkdtemp) gets the
    permission to pass through, without listing it; a folder above that is not ours is left
    as it is and raises RuntimeError.
    """
    for path in (folder, *folder.parents):
        info = path.stat()
        if _may(info, user, 0o1):
            continue
        if path == folder and info.st_uid == os.geteuid():
            path.chmod(stat.S_IMODE(info.st_mode) | 0o001)
            continue
        raise RuntimeError(
            f"The grading harness runs as uid {user[0]}, which cannot enter {path} to reach "
            f"its run folder in {folder}: let it pass (chmod o+x {path}) or set "
            "SANDBOX_RUN_DIR to another folder."
        )


def _may(info: os.stat_result, user: tuple[int, int], bits: int) -> bool:
    """Return whether `user` (no other groups) has permission `bits` (4 read, 1 enter) on a file."""
    uid, gid = user
    if info.st_uid == uid:
        return info.st_mode >> 6 & bits == bits
    if info.st_gid == gid:
        return info.st_mode >> 3 & bits == bits
    return info.st_mode & bits == bits
