"""Exercise authoring in the browser: save, validate and publish an exercise of a course.

Every way in (the instructor area's form, its zip upload, `manage.py validate_exercises`)
comes through these functions. What is saved is checked as an exercise folder is on import
(sandbox.spec.ExerciseSpec), so a course exported afterwards imports again.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.db import transaction
from django.db.models import Max

from courses.models import Course, Status
from exercises.models import Exercise, ExerciseVersion
from exercises.validations import publish_refusal, validation_start, version_validations
from lessons.models import Lesson
from sandbox.archive import SubmissionRejected, unpack_submission
from sandbox.policy import DEFAULT_POLICY, MiB
from sandbox.spec import ExerciseSpec, ExerciseSpecError

# An exercise folder as a zip: a few frameworks' starters and solutions, with room to spare.
FOLDER_ZIP_POLICY = dataclasses.replace(
    DEFAULT_POLICY, max_files=2000, max_archive_bytes=8 * MiB, max_submission_bytes=16 * MiB
)
MAX_SLUG = Exercise._meta.get_field("slug").max_length
# Addresses of the instructor area next to the exercises' own (/teach/<course>/exercises/new/).
RESERVED_SLUGS = frozenset({"new", "preview"})
MAX_TITLE = Exercise._meta.get_field("title").max_length


class ExerciseInvalid(ValueError):
    """What was typed or uploaded is not a valid exercise; `problems` says why, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class PublishRefused(ValueError):
    """The exercise may not be published yet; the message says why."""


@dataclass(frozen=True)
class ExerciseFields:
    """What an instructor sets on an exercise: exercise.toml, README.md and the files."""

    slug: str
    title: str
    frameworks: tuple[str, ...]
    summary: str = ""
    lesson: Lesson | None = None
    instructions: str = ""
    points: int | None = None
    limits: dict[str, Any] = dataclasses.field(default_factory=dict)
    files: dict[str, str] = dataclasses.field(default_factory=dict)
    open_first: dict[str, str] | None = None  # None: keep the exercise's, where still valid


@dataclass(frozen=True)
class SaveOutcome:
    exercise: Exercise
    version: ExerciseVersion
    new_version: bool
    publish_refused: str | None = None  # why a publish asked for did not happen


@dataclass(frozen=True)
class VersionEntry:
    """A version in the history, with what changed since the one before."""

    version: ExerciseVersion
    added: list[str]
    changed: list[str]
    removed: list[str]

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed)


def exercise_spec_check(*, course: Course, fields: ExerciseFields, order: int = 0) -> ExerciseSpec:
    """Return the exercise spec `fields` make; raise ExerciseInvalid saying what is wrong."""
    if fields.lesson is not None and fields.lesson.chapter.course_id != course.pk:
        raise ExerciseInvalid([f'The lesson "{fields.lesson.title}" is not in this course.'])
    data: dict[str, Any] = {
        "slug": fields.slug,
        "title": fields.title,
        "summary": fields.summary,
        "frameworks": list(fields.frameworks),
        "order": order,
        "lesson": _lesson_path(fields.lesson),
        "limits": dict(fields.limits),
    }
    if fields.points is not None:
        data["points"] = fields.points
    if fields.open_first:
        data["open"] = dict(fields.open_first)
    problems = []
    if len(fields.slug) > MAX_SLUG:
        problems.append(f"The slug is longer than {MAX_SLUG} characters.")
    if len(fields.title) > MAX_TITLE:
        problems.append(f"The title is longer than {MAX_TITLE} characters.")
    try:
        spec = ExerciseSpec.from_data(
            data, instructions=fields.instructions, files=fields.files, where="The exercise"
        )
    except ExerciseSpecError as exc:
        problems.append(str(exc))
        spec = None
    problems.extend(python_problems(fields.files))
    if problems or spec is None:
        raise ExerciseInvalid(problems)
    return spec


def python_problems(files: dict[str, str]) -> list[str]:
    """Return a message for each test file that is not valid Python, naming file and line."""
    problems = []
    for path, text in sorted(files.items()):
        if not path.startswith("tests/") or PurePosixPath(path).suffix != ".py":
            continue
        try:
            compile(text, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            problems.append(f"{path}, line {exc.lineno}: {exc.msg}")
        except ValueError as exc:  # a NUL byte
            problems.append(f"{path}: {exc}")
    return problems


def exercise_zip_read(*, course: Course, data: bytes) -> ExerciseFields:
    """Read a zip of an exercise folder (exercise.toml, README.md, tests/, starter/, solution/).

    Raise ExerciseInvalid naming the file (and line) at fault, as import_course does.
    """
    with tempfile.TemporaryDirectory(prefix="exercise-upload-") as tmp:
        root = Path(tmp)
        try:
            unpack_submission(data, root, policy=FOLDER_ZIP_POLICY)
        except SubmissionRejected as exc:
            raise ExerciseInvalid([str(exc).replace("submission", "exercise zip")]) from exc
        folder = _exercise_folder(root)
        try:
            spec = ExerciseSpec.from_dir(folder)
        except ExerciseSpecError as exc:
            raise ExerciseInvalid([str(exc).replace(f"{root}/", "")]) from exc
    lesson = None
    if spec.lesson:
        chapter, _, slug = spec.lesson.partition("/")
        lesson = (
            Lesson.objects.filter(chapter__course=course, chapter__slug=chapter, slug=slug)
            .select_related("chapter")
            .first()
        )
        if lesson is None:
            raise ExerciseInvalid(
                [
                    f'exercise.toml: lesson "{spec.lesson}" is not a lesson of this course; '
                    'write "chapter-slug/lesson-slug" of one of its lessons'
                ]
            )
    return ExerciseFields(
        slug=spec.slug,
        title=spec.title,
        summary=spec.summary,
        frameworks=spec.frameworks,
        lesson=lesson,
        instructions=spec.instructions,
        points=spec.points,
        limits=dict(spec.limits),
        files=dict(spec.files),
        open_first=dict(spec.open_first),
    )


def _exercise_folder(root: Path) -> Path:
    """Return the folder holding exercise.toml: the zip's top, or its one top folder."""
    if (root / "exercise.toml").is_file():
        return root
    tops = [p for p in root.iterdir() if p.is_dir()]
    if len(tops) == 1 and (tops[0] / "exercise.toml").is_file():
        return tops[0]
    raise ExerciseInvalid(
        [
            "The zip holds no exercise.toml: zip the exercise folder itself (exercise.toml, "
            "README.md, tests/, starter/, solution/)."
        ]
    )


def exercise_save(
    *, course: Course, exercise: Exercise | None, fields: ExerciseFields, publish: bool
) -> SaveOutcome:
    """Create or update an exercise of `course`; raise ExerciseInvalid, saving nothing, if wrong.

    A change of files makes a new version (Exercise.record_version). A draft is published
    only when `publish` is asked and its current version passed validation; otherwise it is
    saved as a draft and the outcome says why it was not published. A published exercise
    stays published unless `publish` is false.
    """
    if exercise is None:
        order = (course.exercises.aggregate(last=Max("order"))["last"] or 0) + 1
    else:
        order = exercise.order
    if fields.open_first is None and exercise is not None:
        kept = {
            fw: path
            for fw, path in (exercise.open_first or {}).items()
            if fw in fields.frameworks and f"starter/{fw}/{path}" in fields.files
        }
        fields = dataclasses.replace(fields, open_first=kept)
    spec = exercise_spec_check(course=course, fields=fields, order=order)
    taken = Exercise.objects.filter(slug=spec.slug)
    if exercise is not None:
        taken = taken.exclude(pk=exercise.pk)
    if taken.exists():
        raise ExerciseInvalid([f'The slug "{spec.slug}" is taken by another exercise.'])
    if spec.slug in RESERVED_SLUGS:
        raise ExerciseInvalid(
            [
                f'The slug "{spec.slug}" is the name of a page of the instructor area: '
                "choose another."
            ]
        )

    with transaction.atomic():
        row = exercise or Exercise(course=course, status=Status.DRAFT)
        previous = row.current_version() if row.pk else None
        row.slug = spec.slug
        row.title = spec.title
        row.summary = spec.summary
        row.lesson = fields.lesson
        row.frameworks = list(spec.frameworks)
        row.points = spec.points or 0
        row.limits = dict(spec.limits)
        row.instructions = spec.instructions
        row.files = dict(spec.files)
        row.open_first = dict(spec.open_first)
        row.order = order
        if not publish:
            row.status = Status.DRAFT
        row.save()
        version = row.current_version()
        refused = None
        if publish and row.status != Status.PUBLISHED:
            try:
                exercise_publish(exercise=row)
            except PublishRefused as exc:
                refused = str(exc)
    return SaveOutcome(
        exercise=row,
        version=version,
        new_version=previous is None or previous.pk != version.pk,
        publish_refused=refused,
    )


def exercise_publish(*, exercise: Exercise) -> Exercise:
    """Publish an exercise whose current version passed validation; else raise PublishRefused."""
    with transaction.atomic():
        refusal = publish_refusal(exercise)
        if refusal is not None:
            raise PublishRefused(refusal)
        if exercise.status != Status.PUBLISHED:
            exercise.status = Status.PUBLISHED
            fields = ["status", "updated"]
            if not exercise.points:
                # "Empty: the points of the tests" (the form): known now, from the
                # validation. Left at 0, the exercise would count for nothing in the gradebook.
                exercise.points = _tests_points(exercise.current_version())
                fields.append("points")
            exercise.save(update_fields=fields)
    return exercise


def _tests_points(version: ExerciseVersion) -> int:
    """Return the points of a validated version's tests: what its solutions scored out of."""
    scored = [
        pair.solution.max_score
        for pair in version_validations(version)
        if pair.solution is not None and pair.solution.max_score
    ]
    return max(scored, default=0)


def exercise_validate(*, exercise: Exercise):
    """Grade the current version's solutions and starters on the grading queue."""
    version = exercise.current_version()
    if version is None:
        raise ExerciseInvalid(["This exercise has no files to validate yet."])
    return validation_start(version=version)


def version_history(exercise: Exercise) -> list[VersionEntry]:
    """Return the exercise's versions, newest first, each with the files changed since the last."""
    versions = list(exercise.versions.order_by("number"))
    entries = []
    before: dict[str, str] = {}
    for version in versions:
        files = version.files or {}
        entries.append(
            VersionEntry(
                version=version,
                added=sorted(set(files) - set(before)),
                changed=sorted(p for p in files if p in before and before[p] != files[p]),
                removed=sorted(set(before) - set(files)),
            )
        )
        before = files
    return entries[::-1]


def _lesson_path(lesson: Lesson | None) -> str:
    return f"{lesson.chapter.slug}/{lesson.slug}" if lesson is not None else ""
