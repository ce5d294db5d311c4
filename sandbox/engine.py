"""The Docker adapter: every call to the Docker engine made by this project lives here.

The rest of the code asks for things in its own words ("start this app container under
this policy", "build this image") and never imports the Docker SDK itself.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Ulimit

from sandbox.policy import SandboxPolicy

SANDBOX_LABEL = "webcourse.sandbox"


class EngineUnavailable(RuntimeError):
    """The Docker engine cannot be reached."""


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


def ping() -> None:
    """Raise EngineUnavailable unless the engine answers now."""
    try:
        client().ping()
    except (DockerException, OSError) as exc:
        client.cache_clear()
        raise EngineUnavailable(f"The Docker engine stopped answering: {exc}") from exc


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


def build(context: Path, tag: str, *, labels: dict[str, str], progress: Callable[[str], None]) -> None:
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


def run_once(image: str, command: list[str], *, timeout: float = 60) -> str:
    """Run a short trusted command in a throwaway container (no network) and return its output."""
    container = client().containers.run(
        image, command, detach=True, network_mode="none", labels={SANDBOX_LABEL: "tool"}
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


def start_app_container(
    *,
    image: str,
    policy: SandboxPolicy,
    command: list[str],
    mounts: list[Mount],
    labels: dict[str, str],
    environment: dict[str, str],
    name: str,
):
    """Start a learner's app container with every limit of `policy` applied."""
    ulimits = [
        Ulimit(name="nofile", soft=policy.nofile, hard=policy.nofile),
        Ulimit(name="fsize", soft=policy.fsize_bytes, hard=policy.fsize_bytes),
    ]
    if not policy.core_dumps:
        ulimits.append(Ulimit(name="core", soft=0, hard=0))
    tmpfs_opts = "rw,nosuid,nodev,noexec,mode=1777"
    return client().containers.run(
        image,
        command,
        name=name,
        detach=True,
        user=policy.user,
        network_mode="none" if policy.network_disabled else "bridge",
        cap_drop=["ALL"] if policy.cap_drop_all else [],
        security_opt=["no-new-privileges"] if policy.no_new_privileges else [],
        read_only=policy.read_only_root,
        tmpfs={
            "/scratch": f"{tmpfs_opts},size={policy.scratch_bytes}",
            "/tmp": f"{tmpfs_opts},size={policy.scratch_bytes // 4}",
        },
        mem_limit=policy.memory_bytes,
        memswap_limit=policy.memory_bytes,
        nano_cpus=int(policy.cpus * 1_000_000_000),
        pids_limit=policy.pids_limit,
        ulimits=ulimits,
        labels={SANDBOX_LABEL: "app", **labels},
        environment=environment,
        volumes={
            str(m.host): {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in mounts
        },
        working_dir="/scratch",
        # Keep the engine's copy of the output small; we read at most policy.log_limit_bytes.
        log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
    )


def container_status(container) -> tuple[str, int | None, bool]:
    """Return (status, exit code, OOM-killed) of a container, fresh from the engine."""
    container.reload()
    state = container.attrs.get("State", {})
    return state.get("Status", ""), state.get("ExitCode"), bool(state.get("OOMKilled"))


def container_host_config(container) -> dict:
    container.reload()
    return container.attrs["HostConfig"]


def container_logs(container, limit: int) -> bytes:
    """Return at most `limit` bytes of the container's output (stdout and stderr, interleaved)."""
    chunks: list[bytes] = []
    size = 0
    try:
        stream: Iterator[bytes] = container.logs(stdout=True, stderr=True, stream=True)
        for chunk in stream:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
    except (NotFound, APIError):
        pass
    return b"".join(chunks)


def kill(container) -> None:
    try:
        container.kill()
    except (NotFound, APIError):
        pass


def remove(container) -> None:
    """Remove a container whatever its state; a missing container is fine."""
    try:
        container.remove(force=True, v=True)
    except NotFound:
        pass
    except APIError as exc:
        if "removal of container" not in str(exc) and "already in progress" not in str(exc):
            raise


def sandbox_containers(**label_filters: str) -> list:
    """Return the containers this project started (all states)."""
    labels = [SANDBOX_LABEL] + [f"{k}={v}" for k, v in label_filters.items()]
    return client().containers.list(all=True, filters={"label": labels})


def remove_stale_containers(*, older_than: float) -> int:
    """Remove sandbox containers created more than `older_than` seconds ago; return how many."""
    removed = 0
    now = time.time()
    for container in sandbox_containers():
        created = container.attrs.get("Created", "")
        try:
            started = _parse_docker_time(created)
        except ValueError:
            started = 0
        if now - started > older_than:
            remove(container)
            removed += 1
    return removed


def _parse_docker_time(value: str) -> float:
    from datetime import datetime

    # Docker gives nanoseconds ("2024-01-01T10:00:00.123456789Z"); Python takes microseconds.
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00").timestamp()
