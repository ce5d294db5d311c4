"""Build the site's image (web, workers, beat) and the sandbox runner image, offline if need be.

    python -m deploy.images            # what scripts/build-images runs
    python -m deploy.images --check    # exit 1 unless both images are built for this checkout

The site's image is tagged by a hash of everything that goes into it (the Dockerfile, the
Python requirements and the project's files), so an unchanged checkout reuses its image and
any change builds a new one; it is also tagged ``webcourse:latest``, which compose.yaml runs.
It is built the way the runner image is (sandbox/images.py): from python:3.11-slim when a
registry answers, else from a Debian base bootstrapped from the host's mirror, with Python
packages from a wheelhouse downloaded on the host — nothing is downloaded inside a build.

Plain Python (no Django, no manage.py), so it runs before the site is configured.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from sandbox import config, engine, images

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOCKERFILE = Path(__file__).resolve().parent / "Dockerfile"
REPOSITORY = "webcourse"
LATEST = f"{REPOSITORY}:latest"
# What the image leaves out of the checkout: tooling, tests, local state and secrets. Top-level
# names only (an exercise's own tests/ folder is course content), then names left out anywhere.
EXCLUDED_TOP_LEVEL = frozenset(
    {
        ".ci", "var", "tests", "bench", "docs", "frontend", "scripts", "build", "compose.yaml",
    }
)  # fmt: skip
EXCLUDED_NAMES = frozenset(
    {
        ".git", ".venv", ".env", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache",
        ".hypothesis", ".grimp_cache", ".import_linter_cache",
    }
)  # fmt: skip
EXCLUDED_SUFFIXES = (".pyc", ".egg-info", ".sqlite3")
# Wheels are chosen for CPython 3.11 on Linux. pip evaluates the markers of dependencies against
# the host's own Python, though, so backports that an older 3.11 asks for are added by hand:
# Debian 12's 3.11.2 (the bootstrapped base) needs async-timeout for redis below 3.11.3.
WHEEL_PYTHON = "3.11"
BACKPORTS = ["async-timeout>=4.0.3"]


def requirements() -> list[str]:
    """Return the project's runtime requirements, as pyproject.toml lists them."""
    with (PROJECT_DIR / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def project_files(root: Path = PROJECT_DIR) -> list[Path]:
    """Return the checkout's files that go into the image, relative to `root`, sorted."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in EXCLUDED_TOP_LEVEL or any(
            part in EXCLUDED_NAMES or part.endswith(EXCLUDED_SUFFIXES) for part in rel.parts
        ):
            continue
        if path.is_file() and not path.is_symlink():
            found.append(rel)
    return found


def inputs_hash(files: list[Path] | None = None) -> str:
    """Return a hash of what the image is built from; a change to any of it changes the tag."""
    digest = hashlib.sha256()
    digest.update(DOCKERFILE.read_bytes() + b"\0")
    digest.update("\n".join(requirements()).encode() + b"\0")
    for rel in project_files() if files is None else files:
        digest.update(str(rel).encode() + b"\0" + (PROJECT_DIR / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def site_image_tag() -> str:
    """Return the tag of the site's image for this checkout (it may not be built yet)."""
    return f"{REPOSITORY}:{inputs_hash()}"


def build_site_image(*, progress: images.Progress = print, force: bool = False) -> str:
    """Make sure the site's image for this checkout exists (build it if not); return its tag."""
    files = project_files()
    digest = inputs_hash(files)
    tag = f"{REPOSITORY}:{digest}"
    if engine.image_exists(tag) and not force:
        progress(f"Site image {tag} is up to date.")
        engine.client().images.get(tag).tag(REPOSITORY, "latest")
        return tag
    base = images.ensure_base_image(progress=progress)
    context = config.current().build_dir / f"site-{digest}"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    try:
        for rel in files:
            (context / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_DIR / rel, context / "app" / rel)
        shutil.copy(DOCKERFILE, context / "Dockerfile")
        (context / "requirements.txt").write_text("\n".join(requirements()) + "\n")
        shutil.copytree(wheelhouse(progress=progress), context / "wheelhouse")
        progress(f"Building {tag} from {base}…")
        for chunk in engine.client().api.build(
            path=str(context),
            tag=tag,
            buildargs={"BASE": base},
            labels={"webcourse.role": "site", "webcourse.inputs": digest, "webcourse.base": base},
            rm=True,
            forcerm=True,
            decode=True,
            pull=False,
        ):
            if "stream" in chunk and chunk["stream"].strip():
                progress(chunk["stream"].rstrip())
            if "error" in chunk:
                raise images.ImageBuildError(f"docker build failed: {chunk['error'].strip()}")
    finally:
        shutil.rmtree(context, ignore_errors=True)
    if not engine.image_exists(tag):
        raise images.ImageBuildError(f"docker build finished but {tag} is missing")
    engine.client().images.get(tag).tag(REPOSITORY, "latest")
    progress(f"Site image {tag} is ready (also tagged {LATEST}).")
    return tag


def wheelhouse(*, progress: images.Progress) -> Path:
    """Return a folder of wheels for the requirements, downloaded once per set of requirements.

    The same wheels give the same build context, so Docker reuses the installed packages' layer
    and a change to the project's own files rebuilds only the layers after it.
    """
    lines = "\n".join([*requirements(), *BACKPORTS]) + "\n"
    key = hashlib.sha256(lines.encode()).hexdigest()[:12]
    target = config.current().build_dir / f"site-wheelhouse-{key}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    (target / "requirements.txt").write_text(lines)
    download_wheelhouse(target / "requirements.txt", target, progress=progress)
    (target / ".complete").touch()
    return target


def download_wheelhouse(requirements_file: Path, target: Path, *, progress: images.Progress):
    """Download wheels of the requirements for Linux, CPython 3.11, on the host."""
    progress("Downloading Python wheels for the site's image…")
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine(), platform.machine())
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--dest", str(target), "--requirement", str(requirements_file),
        "--only-binary=:all:", "--python-version", WHEEL_PYTHON, "--implementation", "cp",
        "--abi", "cp311", "--abi", "abi3", "--abi", "none",
        "--platform", f"manylinux_2_17_{machine}", "--platform", f"manylinux2014_{machine}",
        "--platform", f"manylinux_2_28_{machine}", "--platform", "any",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise images.ImageBuildError(
            "Could not download the site's Python packages (is PyPI reachable?):\n"
            + result.stderr[-2000:]
        )
    progress(f"  {len(list(target.glob('*.whl')))} wheels in the wheelhouse.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build-images", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether both are built")
    parser.add_argument("--force", action="store_true", help="rebuild the site's image")
    args = parser.parse_args(argv)
    if args.check:
        ready = engine.image_exists(site_image_tag()) and images.runner_image_ready()
        print("up to date" if ready else "not built")
        return 0 if ready else 1
    try:
        images.build_runner_image()
        build_site_image(force=args.force)
    except (images.ImageBuildError, engine.EngineUnavailable) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
