"""A small pool of warm sandbox containers per grading host, each used for one run.

A warm container is a learner's container started before any learner needs it: the same
image, policy, mounts and socket folder as a cold run (sandbox.runner), with an empty
submission folder and ``boot.py --warm FRAMEWORK``. The folder is sealed before its server
starts, the server imports the framework the recent runs used most, and then waits. A grading
(or a lesson's script run, see launch_script) that finds one ready claims it, writes the
learner's files into its submission folder and says "go" (see boot.py); the rest of the run
is a cold run's, and the container is removed at its end like any other. A container is
never handed out twice: the claim is an ``os.rename`` of its entry, which one process wins,
and boot.py takes "go" once.

The entries live in a folder of this host's own inside its run folder (``.pool-<host>``),
one JSON file each, readable by this host's processes only (they hold the run's nonce):
``ready/`` holds the containers waiting, ``claimed/`` those in use, and ``demand/`` one file
per framework that each run adds a byte to. Nothing else is needed to claim one, so every
worker process of the host shares the pool without talking to the others.

A keeper (PoolKeeper, a thread of the host's main process) keeps between MIN_SIZE and the
pool's maximum ready: one more than the most gradings that ran at once in the last minute.
It retires a container that waited MAX_AGE seconds unclaimed (boot.py ends it by itself soon
after, should the keeper be gone), and at a clean stop removes them all. Only runs whose
policy is the pool's (CONTAINER_FIELDS) and whose image is the pool's take a warm container;
the others, and every run that finds none ready, start cold at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from sandbox import config, engine, images
from sandbox.container import boot
from sandbox.policy import DEFAULT_POLICY, SandboxPolicy
from sandbox.spec import FRAMEWORKS

logger = logging.getLogger(__name__)

WARM_LABEL = "webcourse.warm"
MAX_VARIABLE = "SANDBOX_WARM_POOL_MAX"
MIN_SIZE = 1  # kept ready whenever the pool is on, demand or not
MAX_AGE = 60.0  # seconds a warm container waits unclaimed before it is retired
# A warm container ends by itself this long after MAX_AGE (boot.py's deadline), which leaves
# a claim made just before MAX_AGE the time to say "go": "go" then sets the run's own deadline.
CLAIM_MARGIN = 15.0
DEMAND_WINDOW = 60.0  # seconds of gradings the pool's size follows
DEFAULT_FRAMEWORK = "flask"  # what a warm container expects when no run has said otherwise
MAX_DEMAND_BYTES = 1024  # a demand file is emptied when it grows past this
TICK = 0.2  # how often the keeper looks at the demand and the pool
RETRY_AFTER = 5.0  # the keeper's pause after a warm container failed to start
# The policy fields applied when a container is created. A run whose policy differs in any
# of them cannot use the pool's containers; the others (time limits, sizes checked on this
# host) are the run's own whichever container it gets.
CONTAINER_FIELDS = (
    "user", "network_disabled", "cap_drop_all", "no_new_privileges", "read_only_root",
    "seccomp_profile", "apparmor_profile", "memory_bytes", "cpus", "pids_limit", "nofile",
    "fsize_bytes", "scratch_bytes", "shared_dir_bytes", "core_dumps", "log_limit_bytes",
)  # fmt: skip


def max_size(environ: Mapping[str, str] = os.environ) -> int:
    """Return the pool's maximum: SANDBOX_WARM_POOL_MAX, else the host's cores (0: no pool)."""
    raw = environ.get(MAX_VARIABLE, "")
    if raw == "":
        return max(1, min(os.cpu_count() or 1, 4))
    if not raw.isdigit():
        raise ValueError(f"{MAX_VARIABLE} must be a whole number ≥ 0, not {raw!r}")
    return int(raw)


def policy_key(policy: SandboxPolicy) -> str:
    """Return what a run's policy must share with a warm container's to use it."""
    fields = {name: getattr(policy, name) for name in CONTAINER_FIELDS}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class WarmEntry:
    """What a claimer needs of a warm container: its ids, its nonce, its run folder."""

    run_id: str
    container_id: str
    nonce: str
    root: str
    image: str
    policy: str  # policy_key
    created: float  # epoch seconds
    framework: str = ""  # the one its server imported ahead (any other still runs)

    @property
    def file_name(self) -> str:
        return f"{self.created:.3f}-{self.run_id}.json"

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.created


# The folder of entries -----------------------------------------------------------------------


def folder() -> Path:
    """Return this host's pool folder (inside its run folder)."""
    settings = config.current()
    return folder_of(settings.run_dir, settings.host)


def folder_of(run_dir: Path | str, host: str) -> Path:
    """Return the pool folder of a host with this run folder and id."""
    tag = hashlib.sha256(host.encode()).hexdigest()[:12]
    return Path(run_dir).resolve() / f"{FOLDER_PREFIX}{tag}"


FOLDER_PREFIX = ".pool-"


def _ready() -> Path:
    return folder() / "ready"


def _claimed() -> Path:
    return folder() / "claimed"


def _demand() -> Path:
    return folder() / "demand"


def _make_folders() -> None:
    for path in (folder(), _ready(), _claimed(), _demand()):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _read(path: Path) -> WarmEntry | None:
    try:
        with path.open(encoding="utf-8") as file:
            return WarmEntry(**json.loads(file.read(4096)))
    except (OSError, ValueError, TypeError):
        return None


def ready_entries() -> list[WarmEntry]:
    """Return the warm containers waiting, oldest first."""
    try:
        names = sorted(os.listdir(_ready()))
    except FileNotFoundError:
        return []
    return [entry for name in names if (entry := _read(_ready() / name)) is not None]


def claimed_entries() -> list[tuple[WarmEntry, float]]:
    """Return the warm containers in use, with when each was claimed (epoch seconds)."""
    try:
        paths = list(_claimed().iterdir())
    except FileNotFoundError:
        return []
    found = []
    for path in paths:
        entry = _read(path)
        with contextlib.suppress(OSError):
            if entry is not None:
                found.append((entry, path.stat().st_mtime))
    return found


def claim(*, policy: SandboxPolicy, image: str, framework: str = "") -> WarmEntry | None:
    """Take a ready warm container for one run, or None (then the run starts cold).

    Atomic across this host's processes: the entry is renamed into claimed/, which only one
    process can do. One that imported `framework` ahead is taken first. An entry that has
    waited MAX_AGE is left to the keeper, which retires it. The framework asked for is noted,
    so that the keeper warms what the runs use.
    """
    if framework:
        note_demand(framework)
    key = policy_key(policy)
    now = time.time()
    entries = ready_entries()
    entries.sort(key=lambda e: e.framework != framework)  # stable: oldest first within each
    for entry in entries:
        if entry.policy != key or entry.image != image or entry.age(now) > MAX_AGE:
            continue
        target = _claimed() / entry.file_name
        try:
            os.rename(_ready() / entry.file_name, target)
        except FileNotFoundError:  # another process was first
            continue
        with contextlib.suppress(OSError):
            os.utime(target)  # its mtime says when it was claimed (see live_runs)
        return entry
    return None


def note_demand(framework: str) -> None:
    """Count a run of `framework` (one byte appended to its demand file); only with a pool."""
    if framework not in FRAMEWORKS or not folder().is_dir():
        return
    with contextlib.suppress(OSError):
        fd = os.open(_demand() / framework, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b".")
        finally:
            os.close(fd)


def release(entry: WarmEntry) -> None:
    """Forget a claimed entry once its run has removed the container and the folders."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_claimed() / entry.file_name)


def live_runs(claimed_within: float) -> dict[str, str]:
    """Return {run id: container id} of the warm containers a sweep must leave alone.

    Those waiting (until their own deadline), and those claimed less than `claimed_within`
    seconds ago (a run in progress: its container may be older than any run, not its claim).
    """
    now = time.time()
    live = {
        e.run_id: e.container_id for e in ready_entries() if e.age(now) <= MAX_AGE + CLAIM_MARGIN
    }
    for entry, claimed_at in claimed_entries():
        if now - claimed_at <= claimed_within:
            live[entry.run_id] = entry.container_id
    return live


def forget_stale(claimed_before: float) -> int:
    """Drop the entries of runs claimed more than `claimed_before` seconds ago; return how many.

    Their run ended long ago, or its worker died (the sweep removes what it left).
    """
    now = time.time()
    dropped = 0
    with contextlib.suppress(FileNotFoundError):
        for path in _claimed().iterdir():
            with contextlib.suppress(FileNotFoundError):
                if now - path.stat().st_mtime > claimed_before:
                    path.unlink()
                    dropped += 1
    return dropped


def forget_all() -> int:
    """Drop every entry (a host starting: its earlier pool is gone); return how many."""
    dropped = 0
    for sub in (_ready(), _claimed()):
        with contextlib.suppress(FileNotFoundError):
            for path in sub.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    dropped += 1
    return dropped


# Starting and retiring warm containers --------------------------------------------------------


class WarmStartFailed(RuntimeError):
    """A warm container did not get ready (the keeper tries again later)."""


def start_warm(
    *,
    policy: SandboxPolicy = DEFAULT_POLICY,
    image: str | None = None,
    max_age: float = MAX_AGE,
    framework: str = DEFAULT_FRAMEWORK,
) -> WarmEntry:
    """Start one warm container, wait until its server has imported `framework`, list it.

    Raise WarmStartFailed (or engine.EngineUnavailable) when it does not get ready; nothing
    of it is left then.
    """
    from sandbox import runner  # runner claims from this module: import it when used

    image = image or images.runner_image_tag()
    run_id = runner.new_run_id()
    nonce = secrets.token_hex(16)
    dirs = runner.RunDirs.create(config.current().run_dir, run_id)
    container = None
    try:
        dirs.mount_sockets_tmpfs(policy.shared_dir_bytes)
        created = time.time()
        container = engine.start_app_container(
            image=image,
            policy=policy,
            command=[runner.PYTHON, f"{runner.BOOT_DIR}/boot.py", "--warm", framework],
            mounts=runner.container_mounts(dirs),
            labels={
                engine.RUN_LABEL: run_id,
                engine.CREATED_LABEL: f"{created:.3f}",
                WARM_LABEL: "1",
            },
            environment={
                boot.NONCE_VARIABLE: nonce,
                boot.DEADLINE_VARIABLE: f"{max_age + CLAIM_MARGIN:.1f}",
            },
            name=f"webcourse-run-{run_id}",
        )
        _wait_until_warm(container, dirs, policy, nonce)
        entry = WarmEntry(
            run_id=run_id,
            container_id=container.id,
            nonce=nonce,
            root=str(dirs.root),
            image=image,
            policy=policy_key(policy),
            created=created,
            framework=framework,
        )
        _publish(entry)
    except BaseException:
        with contextlib.suppress(Exception):
            if container is not None:
                engine.remove(container.id)
                container.close_output()
        with contextlib.suppress(Exception):
            dirs.remove()
        raise
    return entry


def _wait_until_warm(container, dirs, policy: SandboxPolicy, nonce: str) -> None:
    """Seal the socket folder when boot.py asks, then wait for "warm"; stop reading after."""
    from sandbox import runner

    events: queue.Queue = queue.Queue()
    capture = runner.OutputCapture(container.output, policy.log_limit_bytes, events, nonce)
    capture.start()
    deadline = time.monotonic() + policy.boot_timeout
    try:
        while True:
            try:
                event, _ = events.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise WarmStartFailed("the warm container did not get ready in time") from None
            if event == "sockets":
                dirs.seal_sockets()
                problem = runner.socket_folder_problem(dirs.sockets)
                if problem is not None or not dirs.tell_sealed():
                    raise WarmStartFailed(f"the socket folder: {problem or 'not sealed'}")
            elif event == "warm":
                problem = runner.socket_folder_problem(dirs.sockets)
                if problem is not None or not dirs.socket_is_real():
                    raise WarmStartFailed(f"the socket folder: {problem or 'no app socket'}")
                return
            elif event == "ended":
                raise WarmStartFailed(
                    "the warm container ended while starting: " + capture.tail_lines(10)
                )
    finally:
        # Its output is read by the run that claims it, from then on; until then it prints
        # nothing (the engine keeps no log of it: log driver "none").
        container.close_output()
        capture.join(timeout=2)


def _publish(entry: WarmEntry) -> None:
    """Make an entry claimable: written whole in claimed/ (no claimer looks there), then moved."""
    _make_folders()
    staged = _claimed() / f"new-{entry.file_name}"
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(asdict(entry), file)
    os.rename(staged, _ready() / entry.file_name)


def retire(entry: WarmEntry) -> bool:
    """Take a ready entry out of the pool and remove its container; False if it was claimed."""
    target = _claimed() / f"retired-{entry.file_name}"
    try:
        os.rename(_ready() / entry.file_name, target)
    except FileNotFoundError:
        return False
    try:
        discard(entry)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
    return True


def discard(entry: WarmEntry) -> None:
    """Remove a warm container and its run folder (claimed or retired: no longer listed)."""
    from sandbox import runner

    try:
        engine.remove(entry.container_id)
    finally:
        runner.RunDirs(Path(entry.root)).remove()


# Scripts in warm containers ------------------------------------------------------------------

SCRIPT_GRACE = 2.0  # a script's container ends by itself this long after its time limit


def launch_script(files, entry: str, *, policy: SandboxPolicy, image: str):
    """Start a script run (sandbox.snippets) in a warm container, or cold when none is ready.

    A `snippets.Launch`: the files are written into the claimed container's submission folder
    and boot.py runs them as script.py does in a cold script container (see boot.py).
    """
    from sandbox import runner, snippets

    claimed = claim(policy=policy, image=image)
    if claimed is None:
        return snippets.start_cold(files, entry, policy=policy, image=image)
    dirs = runner.RunDirs(Path(claimed.root))
    container = None
    try:
        if not usable(claimed, dirs):
            raise WarmStartFailed("the warm container is not usable")
        _write_files(dirs.submission, files)
        container = engine.attach_output(claimed.container_id, claimed.run_id)
        command = {
            "mode": "script",
            "entry": entry,
            "time_limit": policy.wall_timeout,
            "deadline": policy.wall_timeout + SCRIPT_GRACE,
        }
        if not dirs.tell_go(command):
            raise WarmStartFailed("the warm container did not take the script")
    except Exception:
        logger.warning("Warm container %s failed; running cold", claimed.run_id, exc_info=True)
        if container is not None:
            container.close_output()
        _drop(claimed)
        return snippets.start_cold(files, entry, policy=policy, image=image)

    def clean_up() -> None:
        try:
            container.close_output()
        finally:
            _drop(claimed)

    return snippets.Started(container=container, run_id=claimed.run_id, clean_up=clean_up)


def usable(entry: WarmEntry, dirs) -> bool:
    """Return whether a claimed warm container still runs, its socket folder as it was left."""
    from sandbox import runner

    return (
        engine.container_state(entry.container_id).running
        and runner.socket_folder_problem(dirs.sockets) is None
        and dirs.socket_is_real()
    )


def _write_files(folder: Path, files) -> None:
    """Write checked files (relative PurePosixPaths) below `folder`: 0644, folders 0755."""
    for path, text in files.items():
        target = folder.joinpath(*path.parts)
        for parent in reversed(target.parents):
            if parent.is_relative_to(folder) and parent != folder and not parent.is_dir():
                parent.mkdir()
                parent.chmod(0o755)
        target.write_text(text, encoding="utf-8")
        target.chmod(0o644)


def _drop(entry: WarmEntry) -> None:
    try:
        discard(entry)
    finally:
        release(entry)


# Keeping the pool filled ---------------------------------------------------------------------


class PoolKeeper:
    """Keep the pool between MIN_SIZE and `maximum` warm containers, following the demand.

    `running()` says how many gradings run now on this host; the target is one more than the
    most seen in the last DEMAND_WINDOW seconds. Containers start one at a time in this
    thread, off every grading's path; `stop()` removes the ones still waiting.
    """

    def __init__(
        self,
        *,
        maximum: int,
        running: Callable[[], int],
        policy: SandboxPolicy = DEFAULT_POLICY,
        image: str | None = None,
        max_age: float = MAX_AGE,
        window: float = DEMAND_WINDOW,
    ) -> None:
        self.maximum = maximum
        self.running = running
        self.policy = policy
        self.image = image
        self.max_age = max_age
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()
        self.demand: deque[tuple[float, str, int]] = deque()  # (when, framework, runs)
        self._demand_seen: dict[str, int] = {}
        self.started = 0  # warm containers started (for tests and the logs)
        self.retired = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-warm-pool", daemon=True)

    @property
    def enabled(self) -> bool:
        return self.maximum > 0

    def target(self, now: float | None = None) -> int:
        """Return how many warm containers to keep ready now."""
        if not self.enabled:
            return 0
        now = time.monotonic() if now is None else now
        while self.samples and now - self.samples[0][0] > self.window:
            self.samples.popleft()
        peak = max((n for _, n in self.samples), default=0)
        return min(self.maximum, max(MIN_SIZE, peak + 1))

    def expected(self, now: float | None = None) -> str:
        """Return the framework the runs of the last DEMAND_WINDOW seconds asked for most."""
        now = time.monotonic() if now is None else now
        try:
            for path in _demand().iterdir():
                size = path.stat().st_size
                new = size - self._demand_seen.get(path.name, 0)
                if new < 0:  # emptied: count it afresh
                    new = size
                if new:
                    self.demand.append((now, path.name, new))
                if size > MAX_DEMAND_BYTES:
                    os.truncate(path, 0)
                    size = 0
                self._demand_seen[path.name] = size
        except OSError:
            pass
        while self.demand and now - self.demand[0][0] > self.window:
            self.demand.popleft()
        counts: dict[str, int] = {}
        for _, framework, runs in self.demand:
            counts[framework] = counts.get(framework, 0) + runs
        return max(counts, key=counts.__getitem__, default=DEFAULT_FRAMEWORK)

    def observe(self, now: float | None = None) -> None:
        """Note how many gradings run now."""
        try:
            running = int(self.running())
        except Exception:  # demand is a hint: without it the pool keeps its minimum
            logger.debug("could not count the running gradings", exc_info=True)
            return
        self.samples.append((time.monotonic() if now is None else now, running))

    def step(self) -> bool:
        """Retire what waited too long, then start or retire one container; True if it did."""
        image = self.image or images.runner_image_tag()
        key = policy_key(self.policy)
        now = time.time()
        ours = []
        for entry in ready_entries():
            if entry.policy != key or entry.image != image or entry.age(now) > self.max_age:
                if retire(entry):
                    self.retired += 1
            else:
                ours.append(entry)
        target = self.target()
        if len(ours) < target:
            start_warm(
                policy=self.policy, image=image, max_age=self.max_age, framework=self.expected()
            )
            self.started += 1
            return True
        if len(ours) > target and retire(ours[0]):  # the oldest: it would be retired first
            self.retired += 1
            return True
        return False

    def start(self) -> None:
        if self.enabled:
            self._thread.start()

    def stop(self) -> None:
        """Stop filling and remove the warm containers still waiting."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        for entry in ready_entries():
            try:
                if retire(entry):
                    self.retired += 1
            except Exception:  # the next start's sweep removes what is left
                logger.warning("Could not retire warm container %s", entry.run_id, exc_info=True)

    def _loop(self) -> None:
        while not self._stop.wait(TICK):
            self.observe()
            try:
                while self.step() and not self._stop.is_set():
                    self.observe()
            except Exception:  # the engine or the image is missing: try again later
                logger.warning("The warm pool could not be filled", exc_info=True)
                self._stop.wait(RETRY_AFTER)
