"""Exercise specs: the folder an instructor writes, or the same thing stored on an Exercise."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox.policy import DEFAULT_POLICY, SandboxPolicy

# The frameworks an exercise may be solved with, and their names for people: the one list the
# site uses (exercises.models.Framework). The runner image's boot.py keeps its own copy, since
# it runs alone in the container. "wsgi" and "asgi" take any app of that interface: app.py
# defines a callable named `app`, served by gunicorn or uvicorn.
FRAMEWORKS = {
    "flask": "Flask",
    "django": "Django",
    "fastapi": "FastAPI",
    "wsgi": "Any WSGI app",
    "asgi": "Any ASGI app",
}
# What a submission for each framework holds, in one line for the framework picker.
FRAMEWORK_ENTRY_POINTS = {
    "flask": "app.py defining a Flask app named app, or create_app().",
    "django": "A Django project with manage.py at the top.",
    "fastapi": "main.py defining a FastAPI app named app.",
    "wsgi": (
        "app.py defining a WSGI callable named app: a Bottle, Pyramid or Flask app, or a plain "
        "function app(environ, start_response). Served by gunicorn."
    ),
    "asgi": (
        "app.py defining an ASGI callable named app: a Starlette or FastAPI app, or a plain "
        "async function app(scope, receive, send). Served by uvicorn."
    ),
}
# Folders of an exercise that are stored and exported; anything else is ignored.
STORED_FOLDERS = ("tests", "starter", "solution")
IGNORED_NAMES = {"__pycache__", ".pytest_cache", ".DS_Store", ".ruff_cache"}
MAX_SPEC_FILE_BYTES = 512 * 1024
# Without an `open` setting, the editor opens the first starter file that holds this mark...
TODO_MARK = "TODO"
# ...else the usual entry point of a Flask or FastAPI app, else the first file.
ENTRY_POINTS = ("app.py", "main.py")


class ExerciseSpecError(ValueError):
    """An exercise folder or its exercise.toml is not valid; the message says where and why."""


@dataclass(frozen=True)
class ExerciseSpec:
    slug: str
    title: str
    frameworks: tuple[str, ...]
    summary: str = ""
    order: int = 0
    points: int | None = None
    lesson: str = ""  # "chapter-slug/lesson-slug" of the lesson this exercise practises
    limits: dict[str, Any] = field(default_factory=dict)
    instructions: str = ""
    files: dict[str, str] = field(default_factory=dict)
    # The starter file the editor opens first, per framework (exercise.toml's `open`).
    open_first: dict[str, str] = field(default_factory=dict)

    @property
    def policy(self) -> SandboxPolicy:
        return DEFAULT_POLICY.with_overrides(self.limits)

    def files_under(self, prefix: str) -> dict[str, str]:
        """Return the files below a folder (e.g. ``starter/flask``), keyed by path inside it."""
        prefix = prefix.rstrip("/") + "/"
        return {p[len(prefix) :]: t for p, t in self.files.items() if p.startswith(prefix)}

    @property
    def tests(self) -> dict[str, str]:
        return self.files_under("tests")

    def starter(self, framework: str) -> dict[str, str]:
        return self.files_under(f"starter/{framework}")

    def solution(self, framework: str) -> dict[str, str]:
        return self.files_under(f"solution/{framework}")

    def first_file(self, framework: str) -> str | None:
        """Return the starter file the editor opens first for a framework, or None if none."""
        starter = self.starter(framework)
        chosen = self.open_first.get(framework)
        if chosen in starter:
            return chosen
        return default_first_file(starter)

    def toml_text(self) -> str:
        """Return exercise.toml for this spec, in a stable layout."""
        lines = [f"slug = {_toml_str(self.slug)}", f"title = {_toml_str(self.title)}"]
        if self.summary:
            lines.append(f"summary = {_toml_str(self.summary)}")
        lines.append("frameworks = [" + ", ".join(_toml_str(f) for f in self.frameworks) + "]")
        if self.points is not None:
            lines.append(f"points = {self.points}")
        lines.append(f"order = {self.order}")
        if self.lesson:
            lines.append(f"lesson = {_toml_str(self.lesson)}")
        paths = set(self.open_first.values())
        if len(paths) == 1 and set(self.open_first) == set(self.frameworks):
            lines.append(f"open = {_toml_str(paths.pop())}")
        elif self.open_first:
            pairs = ", ".join(
                f"{fw} = {_toml_str(self.open_first[fw])}"
                for fw in self.frameworks
                if fw in self.open_first
            )
            lines.append(f"open = {{ {pairs} }}")
        if self.limits:
            lines.append("")
            lines.append("[limits]")
            lines.extend(f"{k} = {v!r}" for k, v in sorted(self.limits.items()))
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> None:
        """Write the spec as an exercise folder: exercise.toml, README.md and the files."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "exercise.toml").write_text(self.toml_text(), encoding="utf-8")
        (folder / "README.md").write_text(self.instructions, encoding="utf-8")
        for rel, text in sorted(self.files.items()):
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    @classmethod
    def from_dir(cls, folder: Path) -> ExerciseSpec:
        """Load and validate an exercise folder."""
        folder = Path(folder)
        toml_path = folder / "exercise.toml"
        if not toml_path.is_file():
            raise ExerciseSpecError(f"{folder}: no exercise.toml in this folder")
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ExerciseSpecError(f"{toml_path}: {exc}") from exc
        readme = folder / "README.md"
        instructions = readme.read_text(encoding="utf-8") if readme.is_file() else ""
        return cls.from_data(
            data, instructions=instructions, files=_read_files(folder), where=str(toml_path)
        )

    @classmethod
    def from_data(
        cls, data: dict[str, Any], *, instructions: str, files: dict[str, str], where: str
    ) -> ExerciseSpec:
        """Build a spec from parsed exercise.toml data; raise ExerciseSpecError naming `where`."""

        def fail(message: str) -> ExerciseSpecError:
            return ExerciseSpecError(f"{where}: {message}")

        known = {
            "slug",
            "title",
            "summary",
            "frameworks",
            "points",
            "order",
            "lesson",
            "limits",
            "open",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise fail(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
        for key in ("slug", "title"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise fail(f"`{key}` is required and must be a non-empty string")
        slug = data["slug"]
        if not all(c.isalnum() or c in "-_" for c in slug) or not slug.isascii():
            raise fail(f"`slug` may hold only letters, digits, '-' and '_', not {slug!r}")
        frameworks = data.get("frameworks")
        if (
            not isinstance(frameworks, list)
            or not frameworks
            or any(not isinstance(f, str) or f not in FRAMEWORKS for f in frameworks)
            or len(set(frameworks)) != len(frameworks)
        ):
            raise fail(f"`frameworks` must be a non-empty list drawn from {', '.join(FRAMEWORKS)}")
        points = data.get("points")
        if points is not None and (
            not isinstance(points, int) or isinstance(points, bool) or points < 0
        ):
            raise fail("`points` must be a whole number ≥ 0")
        order = data.get("order", 0)
        if not isinstance(order, int) or isinstance(order, bool) or order < 0:
            raise fail("`order` must be a whole number ≥ 0")
        lesson = data.get("lesson", "")
        if not isinstance(lesson, str) or (lesson and lesson.count("/") != 1):
            raise fail('`lesson` must look like "chapter-slug/lesson-slug"')
        limits = data.get("limits", {})
        if not isinstance(limits, dict):
            raise fail("`[limits]` must be a table")
        try:
            DEFAULT_POLICY.with_overrides(limits)
        except ValueError as exc:
            raise fail(f"[limits]: {exc}") from exc
        summary = data.get("summary", "")
        if not isinstance(summary, str):
            raise fail("`summary` must be a string")

        if not any(PurePosixPath(p).name.startswith("test_") for p in _under(files, "tests")):
            raise fail("tests/ must hold at least one test_*.py file")
        for fw in frameworks:
            for kind in ("starter", "solution"):
                if not _under(files, f"{kind}/{fw}"):
                    raise fail(f"{kind}/{fw}/ is missing or empty (frameworks lists {fw})")
        try:
            open_first = _open_first(data.get("open"), frameworks, files)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        return cls(
            slug=slug,
            title=data["title"].strip(),
            summary=summary.strip(),
            frameworks=tuple(frameworks),
            points=points,
            order=order,
            lesson=lesson,
            limits=dict(limits),
            instructions=instructions,
            files=dict(sorted(files.items())),
            open_first=open_first,
        )

    @classmethod
    def from_exercise(cls, exercise) -> ExerciseSpec:
        """Return the spec stored on an Exercise row."""
        return cls(
            slug=exercise.slug,
            title=exercise.title,
            summary=exercise.summary,
            frameworks=tuple(exercise.frameworks),
            points=exercise.points or None,
            order=exercise.order,
            lesson=exercise.lesson_path,
            limits=dict(exercise.limits or {}),
            instructions=exercise.instructions,
            files=dict(exercise.files),
            open_first=dict(exercise.open_first or {}),
        )


def default_first_file(starter: dict[str, str]) -> str | None:
    """Return the file to open when an exercise names none: the first one with a TODO."""
    paths = sorted(starter)
    for path in paths:
        if TODO_MARK in starter[path]:
            return path
    for name in ENTRY_POINTS:
        if name in starter:
            return name
    return paths[0] if paths else None


def _open_first(value: Any, frameworks: list[str], files: dict[str, str]) -> dict[str, str]:
    """Return exercise.toml's `open` as {framework: path}; raise ValueError if it is wrong.

    `open = "notes/views.py"` applies to every framework whose starter has that file;
    `open = { django = "notes/views.py", flask = "app.py" }` names one file per framework.
    """
    if value is None:
        return {}

    def starter_has(framework: str, path: str) -> bool:
        return f"starter/{framework}/{path}" in files

    if isinstance(value, str):
        found = {fw: value for fw in frameworks if starter_has(fw, value)}
        if not found:
            folders = ", ".join(f"starter/{fw}/" for fw in frameworks)
            raise ValueError(
                f"`open` names {value!r}, which is not a starter file: no such file in {folders}"
            )
        return found
    if isinstance(value, dict):
        chosen: dict[str, str] = {}
        for fw, path in value.items():
            if fw not in frameworks:
                raise ValueError(
                    f"`open` names the framework {fw!r}, which `frameworks` does not list"
                )
            if not isinstance(path, str) or not path:
                raise ValueError(f'`open.{fw}` must be a file path, such as "app.py"')
            if not starter_has(fw, path):
                raise ValueError(
                    f"`open.{fw}` names {path!r}, which is not a starter file: "
                    f"no such file in starter/{fw}/"
                )
            chosen[fw] = path
        return {fw: chosen[fw] for fw in frameworks if fw in chosen}
    raise ValueError(
        '`open` must be a starter file path, such as "notes/views.py", '
        'or a table of one path per framework, such as { django = "notes/views.py" }'
    )


def _under(files: dict[str, str], prefix: str) -> list[str]:
    return [p for p in files if p.startswith(prefix.rstrip("/") + "/")]


def _read_files(folder: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for top in STORED_FOLDERS:
        root = folder / top
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(folder)
            if any(part in IGNORED_NAMES for part in rel.parts) or path.suffix == ".pyc":
                continue
            if path.is_symlink():
                raise ExerciseSpecError(f"{path}: symbolic links are not allowed in an exercise")
            if path.is_dir():
                continue
            if path.stat().st_size > MAX_SPEC_FILE_BYTES:
                raise ExerciseSpecError(f"{path}: file is larger than {MAX_SPEC_FILE_BYTES} bytes")
            try:
                files[rel.as_posix()] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise ExerciseSpecError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return files


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
