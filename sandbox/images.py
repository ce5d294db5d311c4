"""Build (or find) the runner image that learners' apps run in.

The image is tagged by a hash of its inputs (Dockerfile template and requirements), so a
change rebuilds and an unchanged image is reused. Nothing is downloaded inside a container:
the base image is pulled when a registry answers, otherwise bootstrapped from the host's
Debian mirror with debootstrap; Python packages come from a wheelhouse made on the host.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sandbox import config, engine

IMAGE_DIR = Path(__file__).resolve().parent / "image"
RUNNER_REPOSITORY = "webcourse-runner"
BASE_PULL_REF = "python:3.11-slim"
DEBIAN_SUITE = "bookworm"
DEBOOTSTRAP_INCLUDE = "python3,python3-venv,ca-certificates"
DEFAULT_MIRROR = "http://deb.debian.org/debian"

Progress = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """The runner image could not be built; the message says what to do."""


def _inputs_hash() -> str:
    digest = hashlib.sha256()
    for name in ("Dockerfile.in", "requirements.txt"):
        digest.update(name.encode() + b"\0" + (IMAGE_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def runner_image_tag() -> str:
    """Return the tag of the runner image for the current inputs (it may not be built yet)."""
    return config.current().image or f"{RUNNER_REPOSITORY}:{_inputs_hash()}"


def runner_image_ready() -> bool:
    return engine.image_exists(runner_image_tag())


def runner_packages() -> list[str]:
    """Return the requirement lines baked into the runner image, for learners to read."""
    lines = (IMAGE_DIR / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def build_runner_image(*, progress: Progress = print, force: bool = False) -> str:
    """Make sure the runner image exists, building it (and its base) when needed; return its tag."""
    tag = runner_image_tag()
    if config.current().image:
        if not engine.image_exists(tag):
            raise ImageBuildError(f"SANDBOX_IMAGE={tag} is set but no such image exists.")
        progress(f"Using {tag} (from SANDBOX_IMAGE).")
        return tag
    if engine.image_exists(tag) and not force:
        progress(f"Runner image {tag} is up to date.")
        return tag
    base = ensure_base_image(progress=progress)
    build_dir = config.current().build_dir / f"runner-{_inputs_hash()}"
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    shutil.copy(IMAGE_DIR / "requirements.txt", build_dir / "requirements.txt")
    dockerfile = (IMAGE_DIR / "Dockerfile.in").read_text().replace("{base}", base)
    (build_dir / "Dockerfile").write_text(dockerfile)
    download_wheelhouse(build_dir / "wheelhouse", progress=progress)
    progress(f"Building {tag} from {base}…")
    engine.build(
        build_dir,
        tag,
        labels={"webcourse.role": "runner", "webcourse.inputs": _inputs_hash()},
        progress=progress,
    )
    shutil.rmtree(build_dir, ignore_errors=True)
    progress(f"Runner image {tag} is ready.")
    return tag


def download_wheelhouse(target: Path, *, progress: Progress) -> None:
    """Download wheels for the runner's requirements on the host (pip works here, not in builds)."""
    progress("Downloading Python wheels for the runner image…")
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine(), platform.machine())
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--dest", str(target), "--requirement", str(IMAGE_DIR / "requirements.txt"),
        "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
        "--abi", "cp311", "--abi", "abi3", "--abi", "none",
        "--platform", f"manylinux_2_17_{machine}", "--platform", f"manylinux2014_{machine}",
        "--platform", f"manylinux_2_28_{machine}", "--platform", "any",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise ImageBuildError(
            "Could not download the runner's Python packages (is PyPI reachable?):\n"
            + result.stderr[-2000:]
        )
    progress(f"  {len(list(target.glob('*.whl')))} wheels in the wheelhouse.")


def ensure_base_image(*, progress: Progress) -> str:
    """Return a Python 3.11 base image: pulled if possible, else bootstrapped from Debian."""
    if engine.image_exists(BASE_PULL_REF):
        progress(f"Base image {BASE_PULL_REF} is present.")
        return BASE_PULL_REF
    progress(f"Trying to pull {BASE_PULL_REF}…")
    if engine.pull(BASE_PULL_REF):
        progress(f"Pulled {BASE_PULL_REF}.")
        return BASE_PULL_REF
    mirror = debian_mirror()
    key = hashlib.sha256(f"{DEBIAN_SUITE}|{DEBOOTSTRAP_INCLUDE}".encode()).hexdigest()[:12]
    ref = f"webcourse-base:{DEBIAN_SUITE}-{key}"
    if engine.image_exists(ref):
        progress(f"No registry answered; using the bootstrapped base image {ref}.")
        return ref
    progress(f"No registry answered; bootstrapping Debian {DEBIAN_SUITE} from {mirror} (~3 min)…")
    if shutil.which("debootstrap") is None:
        raise ImageBuildError(
            "No registry answered and debootstrap is not installed. "
            "Install it (`apt-get install -y debootstrap`) or make python:3.11-slim pullable."
        )
    if os.geteuid() != 0:
        raise ImageBuildError("Bootstrapping the base image needs root (debootstrap).")
    rootfs = config.current().build_dir / f"rootfs-{key}"
    shutil.rmtree(rootfs, ignore_errors=True)
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    command = [
        "debootstrap", "--variant=minbase", f"--include={DEBOOTSTRAP_INCLUDE}",
        DEBIAN_SUITE, str(rootfs), mirror,
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        for line in proc.stdout:
            if line.startswith(
                ("I: Retrieving", "I: Validating", "I: Unpacking", "I: Configuring")
            ):
                continue  # hundreds of lines; the milestones below are enough
            progress("  " + line.rstrip())
    if proc.returncode:
        raise ImageBuildError(f"debootstrap failed with exit code {proc.returncode}")
    # Trim what a runtime never needs.
    for junk in ("var/cache/apt/archives", "usr/share/doc", "usr/share/man", "usr/share/locale"):
        shutil.rmtree(rootfs / junk, ignore_errors=True)
    progress(f"Importing the root filesystem as {ref}…")
    engine.import_rootfs(rootfs, ref)
    shutil.rmtree(rootfs, ignore_errors=True)
    return ref


def debian_mirror() -> str:
    """Return the Debian mirror apt already uses on this machine."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if path.suffix not in (".list", ".sources") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for block in re.split(r"\n\s*\n", text):
                uris = re.search(r"^URIs:\s*(\S+)", block, re.M)
                suites = re.search(r"^Suites:\s*(.+)$", block, re.M)
                if uris and suites and DEBIAN_SUITE in suites.group(1).split():
                    return uris.group(1)
        else:
            for line in text.splitlines():
                match = re.match(r"deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line.strip())
                if match and match.group(2) == DEBIAN_SUITE:
                    return match.group(1)
    return DEFAULT_MIRROR
