"""Courses as files: import a course folder into the database, and export it back.

A course folder (``content/<course>/``) looks like this::

    index.md                          the course: front matter + description
    01-foundations/index.md           a chapter: front matter + introduction
    01-foundations/01-http.md         a lesson: front matter + body
    exercises/<name>/exercise.toml    an exercise (see sandbox/spec.py)

Front matter is YAML in the Just-the-Docs style:

- course: ``title`` (required), ``slug``, ``nav_order``, ``summary``;
- chapter: ``title``, ``parent`` (the course title), ``nav_order`` (all required),
  ``slug``, ``summary``;
- lesson: ``title``, ``parent`` (the chapter title), ``grand_parent`` (the course
  title), ``nav_order`` (all required), ``slug``, ``summary``, and ``status``
  (``draft`` or ``published``; published when absent).

Rules worth knowing:

- Order comes from ``nav_order`` only; the numeric prefixes of folder and file names
  are cosmetic. Two chapters of a course, or two lessons of a chapter, may not share
  a ``nav_order``: the reading order would be ambiguous.
- ``slug`` defaults to the folder or file name without its numeric prefix
  (``02-flask.md`` -> ``flask``). Lesson slugs are unique within the course, so a
  lesson moved to another chapter in the files is moved in the database, keeping
  its history.
- ``layout``, ``has_children`` and a few other Just-the-Docs keys are accepted and
  ignored. Any other unknown key is an error, so a typo such as ``stauts: draft``
  cannot publish a draft by accident.
- Folders whose names start with ``.`` or ``_`` are skipped, and so are folders
  holding no Markdown (images, for instance). A Markdown file at the top of the
  course, other than index.md, is an error: lessons live in chapter folders.
- The course is identified by its slug, chapters by slug within the course and
  exercises by slug; changing a slug in the files creates a new row.
- Import validates every file before it writes anything, then applies the whole
  course in one transaction. Rows whose fields did not change are not saved.
- Lessons and exercises that are in the database but no longer in the files are
  not deleted: they become drafts and the report lists them as unpublished.
  Chapters no longer in the files are kept as they are. ``prune=True`` deletes all
  three instead (with the learners' submissions to deleted exercises).
- Nothing written in the browser is overwritten without being asked. Import and export
  record, per course folder, a fingerprint of each course, chapter, lesson and
  exercise as the folder and the database then agreed on (authoring.models.
  SyncedContent). A row whose content no longer matches its fingerprint was *edited
  in the browser* since (a row with none was made there). The rule is: import
  overwrites, unpublishes or deletes only rows not edited in the browser, unless
  ``force=True``. For a row edited in the browser:

  - if its file is as it was at the last sync, the browser's edit is the newer one:
    import keeps it and says so (export writes it to the files);
  - if its file changed too (or is gone), the two conflict: import writes nothing at
    all and names every conflict (file, what differs, when the row was edited), unless
    ``skip_conflicts=True``, which imports everything else and lists what it skipped;
  - if the file and the row now agree, there is nothing to lose: the row is in step
    again.

  ``force=True`` takes the files' version of everything. A dry run reports conflicts
  exactly as an import would. scripts/up imports with ``skip_conflicts``.
- Images live in ``images/`` at the top of the course folder, checked like uploads
  (courses.images): PNG, JPEG, GIF or WebP by content, at most 2 MiB, names of
  lowercase letters, digits, ``-`` and ``_`` with the extension of their format. Import
  creates or replaces them (uploads never replace an image, so a difference is a change
  in the files); it never deletes one, since a lesson may still show it. Markdown refers
  to an image by its site URL, ``![alt](/courses/<course>/images/<name>)``, in the files
  as in the database: one form works everywhere Markdown is rendered (the lesson page,
  every editor preview, the admin) without knowing which course the text belongs to,
  import and export copy texts unchanged so fingerprints compare what is stored, and
  the course slug in it is the course's identity in the files anyway. (A path relative
  to the file would not help viewers of the folder either: lessons sit one folder down,
  exercise instructions two.)
- Export writes the same layout (``NN-slug/`` folders and ``NN-slug.md`` files
  numbered by position, front matter keys in a fixed order, empty summaries left
  out, bodies as stored), so import -> export -> import is a fixed point. The one
  thing a Markdown file does not keep is blank lines around a body: import strips
  them, as python-frontmatter does. Draft exercises are not exported: exercise.toml
  has no status, so they would come back published.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone
from frontmatter.default_handlers import YAMLHandler

from authoring.models import SyncedContent
from courses.images import (
    EXTENSIONS,
    IMAGE_NAME_RE,
    MAX_IMAGE_BYTES,
    ImageError,
    course_image_put,
    image_check,
)
from courses.models import Chapter, Course, CourseImage, Status
from exercises.models import Exercise
from lessons.models import Lesson
from lessons.quizzes import quiz_problems
from lessons.runnable import runnable_problems
from sandbox.spec import ExerciseSpec, ExerciseSpecError

INDEX = "index.md"
EXERCISES_FOLDER = "exercises"
IMAGES_FOLDER = "images"
# Just-the-Docs keys that mean something to a static docs site but not to this one.
IGNORED_KEYS = frozenset(
    {"layout", "has_children", "has_toc", "nav_exclude", "search_exclude", "permalink"}
)
COURSE_KEYS = ("title", "slug", "nav_order", "summary")
CHAPTER_KEYS = ("title", "parent", "nav_order", "slug", "summary")
LESSON_KEYS = ("title", "parent", "grand_parent", "nav_order", "slug", "summary", "status")
# Model field sizes, checked up front so a long title is a clear error, not a database one.
MAX_TITLE = 200
MAX_SLUG = 50
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+\Z")
NUMERIC_PREFIX_RE = re.compile(r"^\d+[-_. ]*")
MAX_NAMES_SHOWN = 8

_YAML = YAMLHandler()


class CourseContentError(ValueError):
    """A course folder has problems; `problems` holds one message per problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"{path}: {count}, nothing was imported.\n" + "\n".join(f"- {p}" for p in problems)
        )


class CourseExportError(ValueError):
    """A course cannot be exported to the folder asked for."""


# Reading


@dataclass(frozen=True)
class LessonSource:
    path: Path
    slug: str
    title: str
    summary: str
    order: int
    body: str
    status: str


@dataclass(frozen=True)
class ChapterSource:
    path: Path
    slug: str
    title: str
    summary: str
    order: int
    intro: str
    lessons: tuple[LessonSource, ...]


@dataclass(frozen=True)
class CourseSource:
    path: Path
    slug: str
    title: str
    summary: str
    order: int
    description: str
    chapters: tuple[ChapterSource, ...]
    exercises: tuple[ExerciseSpec, ...]
    images: tuple[tuple[str, bytes], ...] = ()  # (name, bytes) from images/

    def lessons(self) -> list[tuple[ChapterSource, LessonSource]]:
        """Return every (chapter, lesson) pair in reading order."""
        return [(chapter, lesson) for chapter in self.chapters for lesson in chapter.lessons]


class _Problems:
    """Collects problems so an author sees all of them in one run."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: Path, message: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line else str(path)
        self.messages.append(f"{where}: {message}")


class _Page:
    """One Markdown file: its front matter, body, and the line of each front-matter key."""

    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        body: str,
        lines: dict[str, int],
        problems: _Problems,
    ) -> None:
        self.path = path
        self.meta = meta
        self.body = body
        self.lines = lines
        self.problems = problems
        self.body_line = 1

    def fail(self, key: str | None, message: str) -> None:
        self.problems.add(self.path, message, self.lines.get(key) if key else None)

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.meta:
            if key in allowed or key in IGNORED_KEYS:
                continue
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f' (did you mean "{hint[0]}"?)' if hint else ""
            self.fail(
                str(key),
                f'unknown key "{key}"{suggestion}; allowed keys: {", ".join(allowed)}',
            )

    def text(self, key: str, *, required: bool, max_length: int | None = None) -> str:
        value = self.meta.get(key)
        if value is None or value == "":
            if required:
                self.fail(key, f"{key} is missing; it is required")
            return ""
        if not isinstance(value, str):
            self.fail(key, f"{key} must be text, not {_show(value)} (put it in quotes)")
            return ""
        if max_length and len(value) > max_length:
            self.fail(
                key, f"{key} is {len(value)} characters long; the most allowed is {max_length}"
            )
        return value

    def whole_number(self, key: str, *, required: bool) -> int:
        value = self.meta.get(key)
        if value is None:
            if required:
                self.fail(key, f"{key} is missing; it is required and sets the reading order")
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(key, f"{key} must be a whole number (0 or more), not {_show(value)}")
            return 0
        return value

    def slug(self, name: str) -> str:
        """Return the `slug` key, or the name without its numeric prefix."""
        if "slug" in self.meta:
            value = self.meta["slug"]
            if not isinstance(value, str) or not value:
                self.fail("slug", f"slug must be text, not {_show(value)}")
                return ""
        else:
            value = NUMERIC_PREFIX_RE.sub("", name)
            if not value:
                self.fail(None, f'slug is missing and the name "{name}" gives none; add a slug key')
                return ""
        if not SLUG_RE.match(value) or len(value) > MAX_SLUG:
            source = "slug" if "slug" in self.meta else f'slug (taken from the name "{name}")'
            self.fail(
                "slug",
                f"{source} must be at most {MAX_SLUG} letters, digits, '-' or '_', "
                f"not {_show(value)}",
            )
            return ""
        return value

    def matches_title(self, key: str, expected: str, owner: str, owner_path: Path) -> None:
        """Check that `parent`/`grand_parent` names the title of the folder holding this file."""
        found = self.meta.get(key)
        if found is None:
            self.fail(key, f'{key} is missing; it must be the {owner} title "{expected}"')
        elif found != expected:
            self.fail(
                key,
                f'{key} is {_show(found)}, but the {owner} title (in {owner_path}) is "{expected}"',
            )


def _show(value: Any) -> str:
    """Return a value as an author would recognise it from YAML."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    return str(value)


def _read_page(path: Path, problems: _Problems) -> _Page | None:
    """Parse a Markdown file with YAML front matter; report problems and return None if unusable."""
    raw = path.read_bytes()
    try:
        # utf-8-sig: editors on Windows may add a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.add(path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8", line)
        return None
    text = text.replace("\r\n", "\n")
    # python-frontmatter strips the text before splitting; count what it strips so
    # YAML line numbers point at the right line of the file.
    leading_lines = text[: len(text) - len(text.lstrip())].count("\n")
    stripped = text.strip()
    start = _YAML.FM_BOUNDARY.match(stripped)
    if not start:
        problems.add(path, "no front matter: the file must start with a line of three dashes (---)")
        return None
    try:
        fm, body = _YAML.split(stripped)
    except ValueError:
        problems.add(
            path,
            "the front matter is not closed by a line of three dashes (---)",
            leading_lines + 1,
        )
        return None
    offset = leading_lines + stripped[: start.end()].count("\n")
    try:
        node = yaml.compose(fm, Loader=yaml.SafeLoader)
        meta = _YAML.load(fm)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark and context_mark is not mark:
            # The parser notices an unclosed bracket or quote lines later; say where it began.
            reason += f" ({context} that starts on line {_line(context_mark, offset)})"
        if reason.startswith("mapping values are not allowed"):
            reason += "; put a value that holds a colon in quotes"
        problems.add(path, f"the front matter is not valid YAML: {reason}", _line(mark, offset))
        return None
    if meta is None:
        meta, node = {}, None
    if not isinstance(meta, dict) or not isinstance(node, yaml.MappingNode | None):
        problems.add(path, "the front matter must be `key: value` lines", offset + 2)
        return None
    lines: dict[str, int] = {}
    for key_node, _ in node.value if node else ():
        key = str(key_node.value)
        if key in lines:
            problems.add(
                path, f"{key} appears twice in the front matter", _line(key_node.start_mark, offset)
            )
        lines[key] = _line(key_node.start_mark, offset)
    page = _Page(path, meta, body.strip(), lines, problems)
    if page.body:
        # The line of the file the body starts on, for problems found inside it.
        start_index = stripped.index(page.body, start.end() + len(fm))
        page.body_line = leading_lines + stripped[:start_index].count("\n") + 1
    return page


def _line(mark: Any, offset: int) -> int | None:
    return offset + mark.line + 1 if mark is not None else None


def course_folder_read(*, path: Path) -> CourseSource:
    """Read and validate a whole course folder; raise CourseContentError listing every problem."""
    path = Path(path)
    problems = _Problems()
    if not path.is_dir():
        raise CourseContentError(path, ["no such folder"])
    if not (path / INDEX).is_file():
        courses = sorted(str(p.parent) for p in path.glob(f"*/{INDEX}") if _is_course(p.parent))
        hint = (
            f" This looks like a folder of courses; pass one of: {', '.join(courses)}"
            if courses
            else ""
        )
        raise CourseContentError(path, [f"no {INDEX} here; a course folder starts with one.{hint}"])

    page = _read_page(path / INDEX, problems)
    course = _course_fields(page, path.name) if page else None
    title = course["title"] if course else ""

    for stray in sorted(path.glob("*.md")):
        if stray.name != INDEX:
            problems.add(stray, "lessons belong in a chapter folder; move this file into one")

    chapters = []
    for folder in sorted(p for p in path.iterdir() if p.is_dir() and not _hidden(p)):
        if folder.name == EXERCISES_FOLDER:
            continue
        if not (folder / INDEX).is_file():
            if any(folder.rglob("*.md")):
                problems.add(
                    folder, f"has Markdown files but no {INDEX} giving the chapter's title"
                )
            continue
        chapter = _read_chapter(folder, title, path / INDEX, problems)
        if chapter:
            chapters.append(chapter)
    chapters.sort(key=lambda c: (c.order, c.path.name))
    _check_unique(problems, chapters, "chapter", "within the course")
    _check_unique(
        problems,
        [lesson for c in chapters for lesson in c.lessons],
        "lesson",
        "within the course",
        attribute="slug",
    )

    exercises = _read_exercises(path / EXERCISES_FOLDER, chapters, problems)
    images = _read_images(path / IMAGES_FOLDER, problems)
    if problems.messages or course is None:
        raise CourseContentError(path, problems.messages)
    return CourseSource(
        path=path,
        chapters=tuple(chapters),
        exercises=tuple(exercises),
        images=tuple(images),
        **course,
    )


def _read_images(folder: Path, problems: _Problems) -> list[tuple[str, bytes]]:
    """Read and check the course's images/ folder, as strictly as an upload."""
    if not folder.is_dir():
        return []
    images = []
    for file in sorted(folder.iterdir()):
        if _hidden(file):
            continue
        if not file.is_file():
            problems.add(file, "images/ holds image files only; move this folder out of it")
            continue
        if file.stat().st_size > MAX_IMAGE_BYTES:
            problems.add(file, "the image is larger than 2 MiB; make it smaller")
            continue
        data = file.read_bytes()
        try:
            content_type = image_check(data)
        except ImageError as error:
            problems.add(file, str(error))
            continue
        extension = EXTENSIONS[content_type]
        if not IMAGE_NAME_RE.match(file.name):
            problems.add(
                file,
                "image names are lowercase letters, digits, '-' and '_', then .png, .jpg, "
                f".gif or .webp; rename the file (this one is a {extension.upper()} image)",
            )
            continue
        if file.suffix[1:] != extension:
            problems.add(
                file,
                f"the file is a {extension.upper()} image, but named .{file.suffix[1:]}; "
                f"rename it to {file.stem}.{extension}",
            )
            continue
        images.append((file.name, data))
    return images


def _hidden(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def _is_course(folder: Path) -> bool:
    return any((child / INDEX).is_file() for child in folder.iterdir() if child.is_dir())


def _course_fields(page: _Page, name: str) -> dict[str, Any] | None:
    page.check_keys(COURSE_KEYS)
    fields = {
        "slug": page.slug(name),
        "title": page.text("title", required=True, max_length=MAX_TITLE),
        "summary": page.text("summary", required=False),
        "order": page.whole_number("nav_order", required=False),
        "description": page.body,
    }
    return fields if fields["title"] else None


def _read_chapter(
    folder: Path, course_title: str, course_index: Path, problems: _Problems
) -> ChapterSource | None:
    page = _read_page(folder / INDEX, problems)
    lessons = []
    for nested in sorted(p for p in folder.iterdir() if p.is_dir() and not _hidden(p)):
        if any(nested.rglob("*.md")):
            problems.add(nested, "chapters cannot hold sub-folders of lessons; move them up")
    if page is None:
        return None
    page.check_keys(CHAPTER_KEYS)
    title = page.text("title", required=True, max_length=MAX_TITLE)
    if course_title:
        page.matches_title("parent", course_title, "course", course_index)
    chapter = ChapterSource(
        path=folder,
        slug=page.slug(folder.name),
        title=title,
        summary=page.text("summary", required=False),
        order=page.whole_number("nav_order", required=True),
        intro=page.body,
        lessons=(),
    )
    for file in sorted(folder.glob("*.md")):
        if file.name == INDEX:
            continue
        lesson = _read_lesson(file, chapter, course_title, course_index, problems)
        if lesson:
            lessons.append(lesson)
    lessons.sort(key=lambda lesson: (lesson.order, lesson.path.name))
    _check_unique(problems, lessons, "lesson", "within the chapter", attribute="order")
    return replace(chapter, lessons=tuple(lessons))


def _read_lesson(
    file: Path,
    chapter: ChapterSource,
    course_title: str,
    course_index: Path,
    problems: _Problems,
) -> LessonSource | None:
    page = _read_page(file, problems)
    if page is None:
        return None
    page.check_keys(LESSON_KEYS)
    if chapter.title:
        page.matches_title("parent", chapter.title, "chapter", chapter.path / INDEX)
    if course_title:
        page.matches_title("grand_parent", course_title, "course", course_index)
    status = page.meta.get("status", str(Status.PUBLISHED))
    if status not in Status.values:
        page.fail("status", f"status must be draft or published, not {_show(status)}")
    for problem in quiz_problems(page.body):
        problems.add(file, f"quiz: {problem.message}", page.body_line + problem.line - 1)
    for problem in runnable_problems(page.body):
        problems.add(file, f"runnable block: {problem.message}", page.body_line + problem.line - 1)
    return LessonSource(
        path=file,
        slug=page.slug(file.stem),
        title=page.text("title", required=True, max_length=MAX_TITLE),
        summary=page.text("summary", required=False),
        order=page.whole_number("nav_order", required=True),
        body=page.body,
        status=status,
    )


def _check_unique(
    problems: _Problems, items: list[Any], noun: str, scope: str, attribute: str | None = None
) -> None:
    """Report items sharing a slug (or nav_order); the first one by reading order wins."""
    attributes = [attribute] if attribute else ["slug", "order"]
    for name in attributes:
        key = "nav_order" if name == "order" else name
        seen: dict[Any, Path] = {}
        for item in items:
            value = getattr(item, name)
            if value == "":
                continue  # already reported as missing or invalid
            index = item.path / INDEX if item.path.is_dir() else item.path
            if value in seen:
                problems.add(
                    index,
                    f"{key} {_show(value)} is also used by {seen[value]}; "
                    f"each {noun} needs its own {key} {scope}",
                    _key_line(index, key),
                )
            else:
                seen[value] = index


def _key_line(path: Path, key: str) -> int | None:
    """Return the line of a front-matter key, for messages about values that were valid alone."""
    page = _read_page(path, _Problems())
    return page.lines.get(key) if page else None


def _read_exercises(
    folder: Path, chapters: list[ChapterSource], problems: _Problems
) -> list[ExerciseSpec]:
    if not folder.is_dir():
        return []
    lessons = {f"{c.slug}/{lesson.slug}" for c in chapters for lesson in c.lessons}
    specs: list[ExerciseSpec] = []
    for exercise_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not _hidden(p)):
        toml = exercise_dir / "exercise.toml"
        try:
            spec = ExerciseSpec.from_dir(exercise_dir)
        except ExerciseSpecError as exc:
            problems.messages.append(str(exc))
            continue
        if len(spec.slug) > MAX_SLUG:
            problems.add(
                toml, f"slug is longer than {MAX_SLUG} characters", _toml_line(toml, "slug")
            )
        if spec.lesson and spec.lesson not in lessons:
            problems.add(
                toml,
                f'lesson "{spec.lesson}" is not a lesson of this course; '
                'write "chapter-slug/lesson-slug" of a lesson in the course folder',
                _toml_line(toml, "lesson"),
            )
        specs.append(spec)
    for slug, count in Counter(spec.slug for spec in specs).items():
        if count > 1:
            problems.add(folder, f'{count} exercises use the slug "{slug}"; each needs its own')
    return specs


def _toml_line(path: Path, key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


# Importing

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
UNPUBLISHED = "unpublished"
DELETED = "deleted"
KEPT = "kept"  # no longer in the files, left in the database as it was
KEPT_EDIT = "kept-edit"  # changed in the browser since the last sync; the files were not
SKIPPED = "skipped"  # changed in the browser and in the files: a conflict, left alone
KINDS = ("course", "chapter", "lesson", "exercise", "image")
NOT_IN_FILES = "not in the files"


@dataclass(frozen=True)
class Change:
    kind: str  # course, chapter, lesson or exercise
    action: str  # created, updated, unchanged, unpublished, deleted, kept, kept-edit or skipped
    slug: str
    fields: tuple[str, ...] = ()  # the fields that changed (or would change), for updates


@dataclass(frozen=True)
class Conflict:
    """A row changed in the browser whose file changed too since the last sync."""

    kind: str
    slug: str
    path: str  # the file, relative to the course folder
    fields: tuple[str, ...]  # what differs between the files and the database; () if gone
    edited: str  # when the row was last edited, in words

    def describe(self) -> str:
        if self.fields:
            what = f"{', '.join(self.fields)} differ{'s' if len(self.fields) == 1 else ''}"
            files = f"its file changed too ({what})"
        else:
            files = "its file is gone from the folder"
        return (
            f"{self.path}: {self.kind} {self.slug} was edited in the browser {self.edited}; {files}"
        )


class CourseConflictError(ValueError):
    """An import would overwrite edits made in the browser; nothing was imported."""

    def __init__(self, path: Path, conflicts: list[Conflict]) -> None:
        self.path = path
        self.conflicts = conflicts
        count = _count(len(conflicts), "row")
        super().__init__(
            f"{path}: {count} changed both in the browser and in the files since the last "
            "import or export; nothing was imported.\n"
            + "\n".join(f"- {c.describe()}" for c in conflicts)
            + "\nRun import_course --force to take the files' versions, or export_course "
            "--force to write the browser's versions to the files (replacing their changes). "
            "import_course --skip-conflicts imports everything else."
        )


@dataclass
class ImportReport:
    course: Course
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)  # skipped with --skip-conflicts
    kept_edits: list[Conflict] = field(default_factory=list)  # browser edits, files unchanged
    dry_run: bool = False

    def add(
        self, kind: str, action: str, slug: str, fields: list[str] | tuple[str, ...] = ()
    ) -> None:
        self.changes.append(Change(kind, action, slug, tuple(fields)))

    def slugs(self, kind: str, action: str) -> list[str]:
        """Return the slugs of one kind of row that had one outcome, in import order."""
        return [c.slug for c in self.changes if c.kind == kind and c.action == action]

    @property
    def changed(self) -> bool:
        return any(c.action in (CREATED, UPDATED, UNPUBLISHED, DELETED) for c in self.changes)

    def summary(self) -> str:
        """Return one line, e.g. 'Course "X": 3 lessons updated (a, b, c), 12 unchanged'."""
        labels = {
            CREATED: "created",
            UPDATED: "updated",
            UNPUBLISHED: "unpublished (no longer in the files)",
            DELETED: "deleted (no longer in the files)",
        }
        parts = []
        for action, label in labels.items():
            for kind in KINDS:
                slugs = self.slugs(kind, action)
                if kind == "course" and slugs:
                    parts.append(f"course {label}")
                elif slugs:
                    parts.append(f"{_count(len(slugs), kind)} {label} ({_names(slugs)})")
        unchanged = sum(1 for c in self.changes if c.action == UNCHANGED)
        if parts:
            if unchanged:
                parts.append(f"{unchanged} unchanged")
        else:
            parts.append(f"nothing changed ({unchanged} unchanged)")
        for action, noun, verb in (
            (KEPT_EDIT, "browser edit", "kept"),
            (SKIPPED, "conflict", "skipped"),
        ):
            rows = [f"{c.kind} {c.slug}" for c in self.changes if c.action == action]
            if rows:
                parts.append(f"{_count(len(rows), noun)} {verb} ({_names(rows)})")
        kept = [c for c in self.changes if c.action == KEPT]
        if kept:
            names = ", ".join(f"{c.kind} {c.slug}" for c in kept[:MAX_NAMES_SHOWN])
            more = f" and {len(kept) - MAX_NAMES_SHOWN} more" if len(kept) > MAX_NAMES_SHOWN else ""
            parts.append(f"not in the files but kept: {names}{more} (--prune deletes them)")
        dry = " (dry run, nothing saved)" if self.dry_run else ""
        return f'Course "{self.course.title}"{dry}: ' + ", ".join(parts)

    def notes(self) -> list[str]:
        """Return one line per row the import left alone, saying why and what to do."""
        lines = [
            f"Kept your browser edit of {c.kind} {c.slug} ({c.path}, edited {c.edited}); "
            "run export_course to write it to the files, or import_course --force to take "
            "the files."
            for c in self.kept_edits
        ]
        lines += [
            f"Skipped a conflict: {c.describe()}. Kept the browser's version; run "
            "export_course --force to write it to the files (replacing their change), or "
            "import_course --force to take the files."
            for c in self.conflicts
        ]
        return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _names(slugs: list[str]) -> str:
    shown = ", ".join(slugs[:MAX_NAMES_SHOWN])
    extra = len(slugs) - MAX_NAMES_SHOWN
    return f"{shown} and {extra} more" if extra > 0 else shown


# Fingerprints: what the files carry of each row, hashed.


def fingerprint(content: dict[str, Any]) -> str:
    """Return a stable hash of a row's file-borne content."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _course_content(course: Course) -> dict[str, Any]:
    return {
        "title": course.title,
        "summary": course.summary,
        "description": course.description,
        "order": course.order,
    }


def _chapter_content(chapter: Chapter) -> dict[str, Any]:
    return {
        "title": chapter.title,
        "summary": chapter.summary,
        "intro": chapter.intro,
        "order": chapter.order,
    }


def _lesson_content(lesson: Lesson) -> dict[str, Any]:
    return {
        "chapter": lesson.chapter.slug,
        "title": lesson.title,
        "summary": lesson.summary,
        "order": lesson.order,
        "body": lesson.body,
        "status": str(lesson.status),
    }


def _exercise_content(exercise: Exercise) -> dict[str, Any]:
    lesson = exercise.lesson
    return {
        "lesson": f"{lesson.chapter.slug}/{lesson.slug}" if lesson else "",
        "title": exercise.title,
        "summary": exercise.summary,
        "order": exercise.order,
        "frameworks": list(exercise.frameworks),
        "points": exercise.points,
        "limits": dict(exercise.limits),
        "instructions": exercise.instructions,
        "files": dict(exercise.files),
        "open_first": dict(exercise.open_first),
        "status": str(exercise.status),
    }


CONTENT = {
    "course": _course_content,
    "chapter": _chapter_content,
    "lesson": _lesson_content,
    "exercise": _exercise_content,
}


def _folder_key(path: Path) -> str:
    return str(Path(path).resolve())


class _Sync:
    """The fingerprints of one course folder, and the rule that uses them.

    A row is "edited in the browser" when its content no longer matches its fingerprint
    (or it has none: it was never imported from or exported to this folder). Import
    writes to a row only if it was not edited in the browser, or with `force`.
    """

    def __init__(self, report: ImportReport, folder: Path, *, force: bool) -> None:
        self.report = report
        self.folder = folder
        self.key = _folder_key(folder)
        self.force = force
        self.records = {
            (r.kind, r.object_id): r.fingerprint
            for r in SyncedContent.objects.filter(folder=self.key)
        }
        self.conflicts: list[Conflict] = []
        self.synced: dict[tuple[str, int], str] = {}

    def edited(self, kind: str, row: Any) -> bool:
        recorded = self.records.get((kind, row.pk))
        return recorded != fingerprint(CONTENT[kind](row))

    def may_write(
        self, kind: str, row: Any, path: Path, fields: list[str], content: dict[str, Any] | None
    ) -> bool:
        """Say whether import may overwrite this row; record why not if it may not.

        `content` is what the files hold for the row, or None when no file holds it.
        """
        if self.force or not self.edited(kind, row):
            return True
        recorded = self.records.get((kind, row.pk))
        if path.is_relative_to(self.folder):
            path = path.relative_to(self.folder)
        item = Conflict(
            kind=kind,
            slug=row.slug,
            path=str(path) if content is not None else NOT_IN_FILES,
            fields=tuple(fields),
            edited=_edited(row),
        )
        if content is None and recorded is None:
            # Made in the browser and never written to this folder: nothing to conflict with.
            self.report.kept_edits.append(item)
            self.report.add(kind, KEPT_EDIT, row.slug)
        elif content is not None and recorded == fingerprint(content):
            # The files are as they were at the last sync: the browser's edit is newer.
            self.report.kept_edits.append(item)
            self.report.add(kind, KEPT_EDIT, row.slug, fields)
        else:
            self.conflicts.append(item)
            self.report.add(kind, SKIPPED, row.slug, fields)
        return False

    def mark(self, kind: str, row: Any) -> None:
        """Record a row as in step with the folder."""
        self.synced[(kind, row.pk)] = fingerprint(CONTENT[kind](row))

    def save(self) -> None:
        now = timezone.now()
        for (kind, object_id), value in self.synced.items():
            if self.records.get((kind, object_id)) == value:
                continue
            SyncedContent.objects.update_or_create(
                folder=self.key,
                kind=kind,
                object_id=object_id,
                defaults={"fingerprint": value, "synced": now},
            )

    def forget(self, kind: str, row: Any) -> None:
        SyncedContent.objects.filter(folder=self.key, kind=kind, object_id=row.pk).delete()


def _edited(row: Any) -> str:
    updated = getattr(row, "updated", None)
    if updated is None:  # chapters keep no timestamp
        return "since the last import or export"
    return "on " + timezone.localtime(updated).strftime("%Y-%m-%d %H:%M %Z")


def _sync(row: Any, values: dict[str, Any]) -> list[str]:
    """Set the values that differ on a row and return their names."""
    changed = _differences(row, values)
    for name in changed:
        setattr(row, name, values[name])
    return changed


def _differences(row: Any, values: dict[str, Any]) -> list[str]:
    return [name for name, value in values.items() if getattr(row, name) != value]


def _retire(
    report: ImportReport, sync: _Sync, kind: str, rows: Iterable[Any], *, prune: bool
) -> None:
    """Delete (with --prune) or unpublish rows that no file claims any more, and report it.

    A row edited in the browser (or made there, never in the files) is left alone: it may
    be work that was never exported.
    """
    for row in rows:
        if not prune and row.status != Status.PUBLISHED:
            report.add(kind, KEPT, row.slug)
            continue
        if not sync.may_write(kind, row, sync.folder, [], None):
            continue
        if prune:
            sync.forget(kind, row)
            row.delete()
            report.add(kind, DELETED, row.slug)
        else:
            row.status = Status.DRAFT
            row.save()
            report.add(kind, UNPUBLISHED, row.slug)
            sync.mark(kind, row)


def _save(
    report: ImportReport,
    sync: _Sync,
    kind: str,
    row: Any,
    values: dict[str, Any],
    content: dict[str, Any],
    path: Path,
) -> None:
    """Create the row or save only what changed, unless that would lose a browser edit."""
    if row.pk is None:
        _sync(row, values)
        row.save()
        report.add(kind, CREATED, row.slug)
        sync.mark(kind, row)
        return
    changed = _differences(row, values)
    fields = [name.removesuffix("_id") for name in changed]
    if not changed:
        report.add(kind, UNCHANGED, row.slug)
        sync.mark(kind, row)  # the files and the row agree, whoever changed them
        return
    if not sync.may_write(kind, row, path, fields, content):
        return
    _sync(row, values)
    row.save()
    report.add(kind, UPDATED, row.slug, fields)
    sync.mark(kind, row)


def course_import(
    *,
    path: Path,
    prune: bool = False,
    dry_run: bool = False,
    force: bool = False,
    skip_conflicts: bool = False,
) -> ImportReport:
    """Validate a course folder, then create or update the course from it in one transaction.

    Raise CourseConflictError, writing nothing, if a row edited in the browser would be
    overwritten by a changed file; `skip_conflicts` leaves such rows alone and imports the
    rest, `force` takes the files' version of every row.
    """
    if force and skip_conflicts:
        raise ValueError("force and skip_conflicts cannot be used together")
    source = course_folder_read(path=Path(path))
    _check_exercise_slugs_free(source)
    with transaction.atomic():
        report, conflicts = _apply(source, prune=prune, force=force)
        if conflicts and not skip_conflicts:
            transaction.set_rollback(True)
            raise CourseConflictError(source.path, conflicts)
        report.conflicts = conflicts
        for name, data in source.images:
            # Uploads never replace an image, so an image that differs changed in the files.
            _, action = course_image_put(course=report.course, name=name, data=data)
            report.add("image", action, name)
        report.dry_run = dry_run
        if dry_run:
            transaction.set_rollback(True)
    return report


def _check_exercise_slugs_free(source: CourseSource) -> None:
    # Exercise slugs are unique across the site; catch a clash before writing anything.
    taken = Exercise.objects.filter(slug__in=[s.slug for s in source.exercises]).exclude(
        course__slug=source.slug
    )
    problems = [
        f'{source.path / EXERCISES_FOLDER}: exercise slug "{ex.slug}" already belongs to the '
        f'course "{ex.course.title}"; pick another slug'
        for ex in taken.select_related("course")
    ]
    if problems:
        raise CourseContentError(source.path, problems)


def _apply(
    source: CourseSource, *, prune: bool, force: bool
) -> tuple[ImportReport, list[Conflict]]:
    course = Course.objects.filter(slug=source.slug).first() or Course(slug=source.slug)
    report = ImportReport(course=course)
    sync = _Sync(report, source.path, force=force)
    course_values = {
        "title": source.title,
        "summary": source.summary,
        "description": source.description,
        "order": source.order,
    }
    _save(report, sync, "course", course, course_values, course_values, source.path / INDEX)

    chapters = {c.slug: c for c in course.chapters.all()}
    lessons = list(Lesson.objects.filter(chapter__course=course).select_related("chapter"))
    kept_lessons: dict[str, Lesson] = {}
    for chapter_source in source.chapters:
        chapter = chapters.pop(chapter_source.slug, None) or Chapter(
            course=course, slug=chapter_source.slug
        )
        chapter_values = {
            "title": chapter_source.title,
            "summary": chapter_source.summary,
            "intro": chapter_source.intro,
            "order": chapter_source.order,
        }
        _save(
            report,
            sync,
            "chapter",
            chapter,
            chapter_values,
            chapter_values,
            chapter_source.path / INDEX,
        )
        for lesson_source in chapter_source.lessons:
            lesson = _claim_lesson(lessons, chapter, lesson_source.slug) or Lesson(
                slug=lesson_source.slug
            )
            values = {
                "title": lesson_source.title,
                "summary": lesson_source.summary,
                "order": lesson_source.order,
                "body": lesson_source.body,
                "status": lesson_source.status,
            }
            _save(
                report,
                sync,
                "lesson",
                lesson,
                {"chapter_id": chapter.pk, **values},
                {"chapter": chapter.slug, **values},
                lesson_source.path,
            )
            kept_lessons[f"{chapter_source.slug}/{lesson.slug}"] = lesson

    # Read before lessons are retired: a pruned lesson would change the exercises that
    # point at it, which is not an edit made in the browser.
    exercises = {e.slug: e for e in course.exercises.select_related("lesson__chapter")}
    _retire(report, sync, "lesson", lessons, prune=prune)  # the ones no file claimed

    for spec in source.exercises:
        exercise = exercises.pop(spec.slug, None) or Exercise(course=course, slug=spec.slug)
        lesson = kept_lessons.get(spec.lesson)
        values = {
            "title": spec.title,
            "summary": spec.summary,
            "order": spec.order,
            "frameworks": list(spec.frameworks),
            "points": spec.points or 0,
            "limits": dict(spec.limits),
            "instructions": spec.instructions,
            "files": dict(spec.files),
            "open_first": dict(spec.open_first),
            "status": str(Status.PUBLISHED),
        }
        _save(
            report,
            sync,
            "exercise",
            exercise,
            {"lesson_id": lesson.pk if lesson else None, **values},
            {"lesson": spec.lesson if lesson else "", **values},
            source.path / EXERCISES_FOLDER / spec.slug / "exercise.toml",
        )
    _retire(report, sync, "exercise", exercises.values(), prune=prune)

    for chapter in chapters.values():
        if not prune or chapter.lessons.exists():
            # Deleting a chapter deletes its lessons; any still in it were kept on purpose.
            report.add("chapter", KEPT, chapter.slug)
        elif sync.may_write("chapter", chapter, source.path, [], None):
            sync.forget("chapter", chapter)
            chapter.delete()
            report.add("chapter", DELETED, chapter.slug)

    if report.changed:
        # The cached course outline is keyed by Course.updated; chapter edits and
        # deletions do not bump it on their own.
        Course.objects.filter(pk=course.pk).update(updated=timezone.now())
    sync.save()
    return report, sync.conflicts


def _claim_lesson(lessons: list[Lesson], chapter: Chapter, slug: str) -> Lesson | None:
    """Take the lesson with this slug, preferring one already in the chapter, off the list."""
    candidates = [lesson for lesson in lessons if lesson.slug == slug]
    if not candidates:
        return None
    same_chapter = [lesson for lesson in candidates if lesson.chapter_id == chapter.pk]
    lesson = (same_chapter or candidates)[0]
    lessons.remove(lesson)
    return lesson


# Exporting


def course_export(*, course: Course, path: Path, force: bool = False) -> list[Path]:
    """Write a course as a course folder and return the files written.

    The folder must be empty or missing. With `force`, it may be an existing course
    folder: its index.md, chapter Markdown files and exercises/ are replaced, the
    course's images are written into images/ (over files of the same name), and
    anything else in it (.git, notes, other images) is left alone. The fingerprints of
    what was written are recorded, so importing the folder next changes nothing.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CourseExportError(f"{path} is a file, not a folder")
    if path.is_dir() and any(path.iterdir()):
        if not force:
            raise CourseExportError(
                f"{path} is not empty; export into a new folder, or use --force to replace "
                "the course files in it"
            )
        if not (path / INDEX).is_file():
            raise CourseExportError(
                f"{path} has no {INDEX}, so it does not look like a course folder; "
                "--force only replaces an existing course folder"
            )
        _remove_course_files(path)

    written: list[Path] = []

    def write(file: Path, text: str) -> None:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        written.append(file)

    write(
        path / INDEX,
        _markdown(
            {
                "title": course.title,
                "slug": course.slug,
                "nav_order": course.order,
                "has_children": True,
                "summary": course.summary,
            },
            course.description,
        ),
    )
    chapters = list(course.chapters.order_by("order", "id"))
    lessons_written: list[Lesson] = []
    for number, chapter in enumerate(chapters, start=1):
        folder = path / _numbered(number, len(chapters), chapter.slug)
        write(
            folder / INDEX,
            _markdown(
                {
                    "title": chapter.title,
                    "parent": course.title,
                    "nav_order": chapter.order,
                    "has_children": True,
                    "slug": chapter.slug,
                    "summary": chapter.summary,
                },
                chapter.intro,
            ),
        )
        lessons = list(chapter.lessons.order_by("order", "id"))
        lessons_written += lessons
        for lesson_number, lesson in enumerate(lessons, start=1):
            meta = {
                "title": lesson.title,
                "parent": chapter.title,
                "grand_parent": course.title,
                "nav_order": lesson.order,
                "slug": lesson.slug,
                "summary": lesson.summary,
            }
            if lesson.status != Status.PUBLISHED:
                meta["status"] = str(lesson.status)
            name = _numbered(lesson_number, len(lessons), lesson.slug) + ".md"
            write(folder / name, _markdown(meta, lesson.body))

    exercises = list(
        course.exercises.published().select_related("lesson__chapter").order_by("slug")
    )
    for exercise in exercises:
        spec = ExerciseSpec.from_exercise(exercise)
        folder = path / EXERCISES_FOLDER / spec.slug
        spec.write(folder)
        written.extend(folder / name for name in ("exercise.toml", "README.md", *spec.files))

    for image in CourseImage.objects.filter(course=course):
        file = path / IMAGES_FOLDER / image.name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(bytes(image.data))
        written.append(file)

    # The folder now holds what the database holds: record it, so the next import from
    # this folder knows nothing was edited since.
    rows = [("course", course)]
    rows += [("chapter", chapter) for chapter in chapters]
    rows += [("lesson", lesson) for lesson in lessons_written]
    rows += [("exercise", exercise) for exercise in exercises]
    _record_synced(path, rows)
    return written


def _record_synced(path: Path, rows: list[tuple[str, Any]]) -> None:
    key, now = _folder_key(path), timezone.now()
    with transaction.atomic():
        for kind, row in rows:
            SyncedContent.objects.update_or_create(
                folder=key,
                kind=kind,
                object_id=row.pk,
                defaults={"fingerprint": fingerprint(CONTENT[kind](row)), "synced": now},
            )


def _numbered(number: int, total: int, slug: str) -> str:
    return f"{number:0{max(2, len(str(total)))}d}-{slug}"


def _markdown(meta: dict[str, Any], body: str) -> str:
    """Return a Markdown file: front matter with keys in the given order, then the body."""
    meta = {key: value for key, value in meta.items() if value != ""}
    # A wide line keeps long summaries on one line, as an author would write them.
    front = _YAML.export(meta, sort_keys=False, width=10_000)
    text = f"---\n{front}\n---\n{body}"
    return text if text.endswith("\n") else text + "\n"


def _remove_course_files(path: Path) -> None:
    """Remove what the importer reads from a course folder, so stale lessons do not linger."""
    (path / INDEX).unlink()
    shutil.rmtree(path / EXERCISES_FOLDER, ignore_errors=True)
    for folder in path.iterdir():
        if not folder.is_dir() or _hidden(folder) or not (folder / INDEX).is_file():
            continue
        for file in folder.glob("*.md"):
            file.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
