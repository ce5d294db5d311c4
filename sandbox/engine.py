"""The Docker adapter: every call to the Docker engine made by this project lives here.

The rest of the code asks for things in its own words ("start this app container under
this policy", "build this image") and never imports the Docker SDK itself.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
import socket
import subprocess
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Ulimit
from docker.utils.socket import frames_iter

from sandbox import config
from sandbox.policy import SandboxPolicy

SANDBOX_LABEL = "webcourse.sandbox"
RUN_LABEL = "webcourse.run"
CREATED_LABEL = "webcourse.created-at"  # epoch seconds; lets a sweep age containers cheaply
# The grading host that started a container (config's `host`): each host sweeps only its own,
# so hosts sharing an engine never remove each other's runs.
HOST_LABEL = "webcourse.host"


def own_labels() -> dict[str, str]:
    """Return the labels every container this host starts carries: host and creation time."""
    return {HOST_LABEL: config.current().host, CREATED_LABEL: f"{time.time():.3f}"}


class EngineUnavailable(RuntimeError):
    """The Docker engine cannot be reached (a transient problem: try again later)."""


class RunnerImageMissing(EngineUnavailable):
    """The runner image is not built yet on this engine."""


@lru_cache(maxsize=1)
def client() -> docker.DockerClient:
    """Return a client for the local Docker engine, or raise EngineUnavailable."""
    try:
        c = docker.from_env(timeout=120)
        c.ping()
    except (DockerException, OSError) as exc:
        raise EngineUnavailable(
            "The Docker engine is not reachable. Start it (as root: `dockerd &`, or "
            "`systemctl start docker`) and make sure this user may use /var/run/docker.sock. "
            f"Details: {exc}"
        ) from exc
    return c


def ping(*, unless_answered_within: float = 0.0) -> None:
    """Raise EngineUnavailable unless the engine answers now.

    With `unless_answered_within`, return at once if a call from this process got an answer
    that many seconds ago or less.
    """
    if unless_answered_within > 0 and time.monotonic() - _answered_at < unless_answered_within:
        return
    try:
        client().ping()
    except (DockerException, OSError) as exc:
        client.cache_clear()
        raise EngineUnavailable(f"The Docker engine stopped answering: {exc}") from exc
    _answered()


_answered_at = -math.inf  # time.monotonic() of the last call the engine answered


def _answered() -> None:
    global _answered_at
    _answered_at = time.monotonic()


# Images -------------------------------------------------------------------------------


def image_exists(ref: str) -> bool:
    try:
        client().images.get(ref)
    except ImageNotFound:
        return False
    return True


def image_labels(ref: str) -> dict[str, str]:
    return client().images.get(ref).labels or {}


def pull(ref: str) -> bool:
    """Try to pull an image; return False when no registry answers."""
    repository, _, tag = ref.partition(":")
    try:
        client().images.pull(repository, tag=tag or "latest")
    except (APIError, DockerException):
        return False
    return True


def import_rootfs(rootfs: Path, ref: str) -> None:
    """Import a root filesystem folder as an image (like `tar -C ROOTFS -c . | docker import`)."""
    repository, _, tag = ref.partition(":")
    with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
        client().api.import_image_from_stream(tar.stdout, repository=repository, tag=tag)
    if tar.returncode:
        raise RuntimeError(f"tar of {rootfs} failed with exit code {tar.returncode}")


def build(
    context: Path, tag: str, *, labels: dict[str, str], progress: Callable[[str], None]
) -> None:
    """Build an image from a folder holding a Dockerfile, reporting each build line."""
    for chunk in client().api.build(
        path=str(context), tag=tag, labels=labels, rm=True, forcerm=True, decode=True, pull=False
    ):
        if "stream" in chunk and chunk["stream"].strip():
            progress(chunk["stream"].rstrip())
        if "error" in chunk:
            raise RuntimeError(f"docker build failed: {chunk['error'].strip()}")
    if not image_exists(tag):
        raise RuntimeError(f"docker build finished but {tag} is missing")


def run_once(
    image: str,
    command: list[str],
    *,
    timeout: float = 60,
    user: str | None = None,
    volumes: dict[str, dict[str, str]] | None = None,
) -> str:
    """Run a short trusted command in a throwaway container (no network) and return its output."""
    container = client().containers.run(
        image,
        command,
        detach=True,
        network_mode="none",
        user=user,
        volumes=volumes,
        labels={SANDBOX_LABEL: "tool", **own_labels()},
    )
    try:
        container.wait(timeout=timeout)
        return container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        container.remove(force=True)


# Learner containers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    host: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class ContainerState:
    running: bool
    exit_code: int | None
    oom_killed: bool


@dataclass
class AppContainer:
    """A started learner container and the live stream of everything it prints."""

    id: str
    name: str
    output: Iterator[bytes]
    _socket: Any = None

    def close_output(self) -> None:
        """Close the output stream's connection (the reader, if any, sees the end)."""
        raw = getattr(self._socket, "_sock", self._socket)
        with contextlib.suppress(OSError, AttributeError):
            raw.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError, AttributeError):
            self._socket.close()


def _engine_calls(func):
    """Turn a lost connection to the engine into EngineUnavailable."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
        except (requests.exceptions.ConnectionError, ConnectionError) as exc:
            client.cache_clear()
            raise EngineUnavailable(f"The Docker engine stopped answering: {exc}") from exc
        _answered()
        return result

    return wrapper


def _user_ids(user: str) -> tuple[str, str]:
    uid, _, gid = user.partition(":")
    return uid, gid or uid


SECCOMP_DIR = Path(__file__).resolve().parent / "seccomp"
APPARMOR_ENABLED_FILE = Path("/sys/module/apparmor/parameters/enabled")


@lru_cache(maxsize=8)
def seccomp_profile(name: str) -> str:
    """Return a seccomp profile from sandbox/seccomp/ as compact JSON, ready for the engine."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ValueError(f"bad seccomp profile name {name!r}")
    path = SECCOMP_DIR / f"{name}.json"
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no seccomp profile {name!r} in {SECCOMP_DIR}") from None
    if profile.get("defaultAction") not in ("SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS"):
        # An allow-by-default profile filters next to nothing: refuse it rather than run with it.
        raise ValueError(f"seccomp profile {name!r} does not refuse by default")
    return json.dumps(profile, separators=(",", ":"))


def apparmor_enabled() -> bool:
    """Return whether the kernel has AppArmor enabled (the engine runs on the same kernel)."""
    try:
        return APPARMOR_ENABLED_FILE.read_text().strip().upper().startswith("Y")
    except OSError:
        return False


def security_options(policy: SandboxPolicy) -> list[str]:
    """Return the engine's --security-opt values for a learner container under `policy`."""
    options = ["no-new-privileges"] if policy.no_new_privileges else []
    options.append(f"seccomp={seccomp_profile(policy.seccomp_profile)}")
    if apparmor_enabled():
        options.append(f"apparmor={policy.apparmor_profile}")
    return options


@_engine_calls
def start_app_container(
    *,
    image: str,
    policy: SandboxPolicy,
    command: list[str],
    mounts: list[Mount],
    labels: dict[str, str],
    environment: dict[str, str],
    name: str,
) -> AppContainer:
    """Start a learner's app container with every limit of `policy` applied.

    Its output is read through an attach stream opened before the start, so nothing is
    missed and the engine keeps no log of it (log driver "none"): a learner printing
    100 MB costs no disk, and the reader sees the head as well as the tail.
    """
    api = client().api
    ulimits = [
        Ulimit(name="nofile", soft=policy.nofile, hard=policy.nofile),
        Ulimit(name="fsize", soft=policy.fsize_bytes, hard=policy.fsize_bytes),
    ]
    if not policy.core_dumps:
        ulimits.append(Ulimit(name="core", soft=0, hard=0))
    uid, gid = _user_ids(policy.user)
    tmpfs_opts = "rw,nosuid,nodev,noexec"
    host_config = api.create_host_config(
        network_mode="none" if policy.network_disabled else "bridge",
        cap_drop=["ALL"] if policy.cap_drop_all else None,
        security_opt=security_options(policy),
        read_only=policy.read_only_root,
        tmpfs={
            # The image's /scratch is root's; uid/gid make the tmpfs the learner's own
            # (the engine copies the image folder's mode over any mode= given here).
            "/scratch": f"{tmpfs_opts},size={policy.scratch_bytes},uid={uid},gid={gid}",
            "/tmp": f"{tmpfs_opts},size={policy.scratch_bytes // 4},mode=1777",  # noqa: S108
        },
        mem_limit=policy.memory_bytes,
        memswap_limit=policy.memory_bytes,
        nano_cpus=int(policy.cpus * 1_000_000_000),
        pids_limit=policy.pids_limit,
        ulimits=ulimits,
        binds={
            str(m.host): {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in mounts
        },
        log_config=LogConfig(type="none"),
    )
    try:
        container_id = api.create_container(
            image,
            command,
            name=name,
            user=policy.user,
            working_dir="/scratch",
            environment=environment,
            labels={SANDBOX_LABEL: "app", **own_labels(), **labels},
            host_config=host_config,
        )["Id"]
    except ImageNotFound as exc:
        raise RunnerImageMissing(
            f"The runner image {image} is missing. Build it with `python manage.py sandbox_images`."
        ) from exc
    try:
        sock = api.attach_socket(
            container_id, params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 0}
        )
        # The stream stays open for the whole run; the client's request timeout must not cut it.
        for s in (sock, getattr(sock, "_sock", None)):
            if hasattr(s, "settimeout"):
                s.settimeout(None)
        api.start(container_id)
    except BaseException:
        remove(container_id)
        raise
    return AppContainer(id=container_id, name=name, output=_frames(sock), _socket=sock)


@_engine_calls
def attach_output(container_id: str, name: str) -> AppContainer:
    """Follow a running container's output from now on (a warm container, when claimed)."""
    sock = client().api.attach_socket(
        container_id, params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 0}
    )
    for s in (sock, getattr(sock, "_sock", None)):
        if hasattr(s, "settimeout"):
            s.settimeout(None)
    return AppContainer(id=container_id, name=name, output=_frames(sock), _socket=sock)


def _frames(sock) -> Iterator[bytes]:
    try:
        for _stream, data in frames_iter(sock, tty=False):
            if data:
                yield data
    except (OSError, ValueError):
        return  # the connection was closed under the reader


STDOUT, STDERR = 1, 2  # the streams of a container's output


def output_streams(container: AppContainer) -> Iterator[tuple[int, bytes]]:
    """Yield a started container's output as (stream, data), stream STDOUT or STDERR.

    Read either this or `container.output`, not both: they share one connection.
    """
    try:
        for stream, data in frames_iter(container._socket, tty=False):
            if data:
                yield stream, data
    except (OSError, ValueError):
        return  # the connection was closed under the reader


@_engine_calls
def container_state(container_id: str) -> ContainerState:
    """Return whether a container runs, its exit code and whether it was killed for memory."""
    try:
        state = client().api.inspect_container(container_id)["State"]
    except NotFound:
        return ContainerState(running=False, exit_code=None, oom_killed=False)
    return ContainerState(
        running=bool(state.get("Running")),
        exit_code=None if state.get("Running") else state.get("ExitCode"),
        oom_killed=bool(state.get("OOMKilled")),
    )


@_engine_calls
def container_attrs(container_id: str) -> dict:
    """Return the engine's full description of a container (`docker inspect`)."""
    return client().api.inspect_container(container_id)


@_engine_calls
def kill(container_id: str) -> None:
    """Stop a container at once (SIGKILL); a container already gone is fine."""
    with contextlib.suppress(NotFound, APIError):
        client().api.kill(container_id)


@_engine_calls
def remove(container_id: str) -> None:
    """Remove a container whatever its state; a missing container is fine."""
    try:
        client().api.remove_container(container_id, force=True)
    except NotFound:
        pass
    except APIError as exc:
        if "removal of container" not in str(exc) and "already in progress" not in str(exc):
            raise


@_engine_calls
def sandbox_containers(**label_filters: str) -> list[dict]:
    """Return the containers this project started (all states), as the engine lists them."""
    labels = [SANDBOX_LABEL] + [f"{k}={v}" for k, v in label_filters.items()]
    return client().api.containers(all=True, filters={"label": labels})


def remove_stale_containers(
    *, older_than: float, host: str | None = None, keep: Collection[str] = ()
) -> int:
    """Remove a host's sandbox containers created more than `older_than` seconds ago.

    Return how many. `host` defaults to this one (config's `host`); containers of other hosts
    on the same engine are left alone, and so are those whose ids are in `keep`.
    """
    host = config.current().host if host is None else host
    removed = 0
    now = time.time()
    for container in sandbox_containers(**{HOST_LABEL: host}):
        labels = container.get("Labels") or {}
        try:
            created = float(labels.get(CREATED_LABEL) or container.get("Created") or 0)
        except ValueError:
            created = 0.0
        if now - created > older_than and container["Id"] not in keep:
            remove(container["Id"])
            removed += 1
    return removed


@_engine_calls
def clear_folder(folder: Path, *, image: str, user: str, timeout: float = 60) -> None:
    """Empty a host folder as a container's user: what that user made, it may delete.

    A worker that is not root cannot delete what a learner's container left in its socket
    folder when the app made it unreadable (a 0700 folder of its own); a throwaway container
    running as the same user, with no network and every capability dropped, can.
    """
    script = (
        "import os, shutil, sys\n"
        "root = sys.argv[1]\n"
        "for top, dirs, files in os.walk(root):\n"
        "    for name in dirs:\n"
        "        os.chmod(os.path.join(top, name), 0o700)\n"
        "for entry in os.scandir(root):\n"
        "    if entry.is_dir(follow_symlinks=False):\n"
        "        shutil.rmtree(entry.path)\n"
        "    else:\n"
        "        os.unlink(entry.path)\n"
    )
    container = client().containers.run(
        image,
        ["/opt/venv/bin/python", "-c", script, "/folder"],
        detach=True,
        user=user,
        network_mode="none",
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        read_only=True,
        volumes={str(folder): {"bind": "/folder", "mode": "rw"}},
        labels={SANDBOX_LABEL: "tool", **own_labels()},
    )
    try:
        status = container.wait(timeout=timeout)
        if status.get("StatusCode"):
            output = container.logs().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"could not empty {folder}: {output}")
    finally:
        container.remove(force=True)
