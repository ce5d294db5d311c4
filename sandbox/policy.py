"""The sandbox policy: every limit applied to a learner's app, in one frozen object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

MiB = 1024 * 1024


@dataclass(frozen=True)
class SandboxPolicy:
    """Limits for one grading run. The defaults are safe; an exercise may override some."""

    # The learner's container
    user: str = "10001:10001"
    network_disabled: bool = True  # --network none: the app is reached over a Unix socket
    cap_drop_all: bool = True
    no_new_privileges: bool = True
    read_only_root: bool = True
    # Kernel-level confinement. The seccomp profile is a file in sandbox/seccomp/ (name without
    # ".json"), passed to the engine explicitly so every grading host filters the same system
    # calls. The AppArmor profile is applied only where the host has AppArmor enabled.
    seccomp_profile: str = "docker-default"
    apparmor_profile: str = "docker-default"
    memory_bytes: int = 256 * MiB  # memory and memory+swap: no swap at all
    cpus: float = 1.0
    pids_limit: int = 128
    nofile: int = 256
    fsize_bytes: int = 16 * MiB  # largest file the app may write
    scratch_bytes: int = 64 * MiB  # tmpfs holding the app's copy, its SQLite db, /tmp
    # The host folder holding the app's Unix socket is the only one the app can write to;
    # it is meant for the socket alone, and the run is stopped if it grows past this.
    shared_dir_bytes: int = 1 * MiB
    core_dumps: bool = False
    # Time
    boot_timeout: float = 15.0  # from container start until the app answers HTTP
    wall_timeout: float = 60.0  # the whole run: boot + migrations + every test
    request_timeout: float = 5.0  # one HTTP request made by a test
    # Output and submission
    log_limit_bytes: int = 64 * 1024
    max_submission_bytes: int = 2 * MiB  # unpacked
    max_archive_bytes: int = 2 * MiB  # the zip as uploaded
    max_files: int = 200

    # Exercises may change these (within bounds) in exercise.toml [limits].
    OVERRIDABLE = {
        "memory_mb": ("memory_bytes", MiB, 64, 1024),
        "cpus": ("cpus", 1, 0.25, 2),
        "pids": ("pids_limit", 1, 32, 512),
        "boot_timeout": ("boot_timeout", 1, 2, 60),
        "wall_timeout": ("wall_timeout", 1, 5, 300),
        "request_timeout": ("request_timeout", 1, 1, 30),
        "max_files": ("max_files", 1, 10, 2000),
    }

    def with_overrides(self, overrides: dict[str, Any] | None) -> SandboxPolicy:
        """Return a copy with an exercise's `[limits]` applied; raise ValueError on bad values."""
        changes: dict[str, Any] = {}
        for key, value in (overrides or {}).items():
            if key not in self.OVERRIDABLE:
                allowed = ", ".join(sorted(self.OVERRIDABLE))
                raise ValueError(f"unknown limit {key!r} (allowed: {allowed})")
            field, unit, low, high = self.OVERRIDABLE[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"limit {key!r} must be a number, not {value!r}")
            if not low <= value <= high:
                raise ValueError(f"limit {key!r} must be between {low} and {high}, not {value}")
            current = getattr(self, field)
            changes[field] = type(current)(value * unit)
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> dict[str, str]:
        """Return the limits a learner cares about, in words."""
        return {
            "Memory": f"{self.memory_bytes // MiB} MiB (no swap)",
            "CPU": f"{self.cpus:g} core" + ("" if self.cpus <= 1 else "s"),
            "Processes": str(self.pids_limit),
            "Start-up time": f"{self.boot_timeout:g} s",
            "Whole run": f"{self.wall_timeout:g} s",
            "Per request": f"{self.request_timeout:g} s",
            "Submission size": f"{self.max_submission_bytes // MiB} MiB, {self.max_files} files",
            "Network": "none (the app cannot reach the internet)",
        }


DEFAULT_POLICY = SandboxPolicy()


def policy_for(limits: dict[str, Any] | None) -> SandboxPolicy:
    """Return the policy for an exercise's `[limits]`, or the defaults if they are broken.

    A broken table is reported when the exercise is imported; grading, uploads and the API
    fall back to the safe defaults rather than failing a learner's request.
    """
    try:
        return DEFAULT_POLICY.with_overrides(limits)
    except ValueError:
        return DEFAULT_POLICY


__all__ = ["DEFAULT_POLICY", "MiB", "SandboxPolicy", "policy_for"]
