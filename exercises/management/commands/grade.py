from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from exercises.models import Exercise, Verdict
from sandbox import runner
from sandbox.archive import SubmissionRejected, read_archive
from sandbox.engine import EngineUnavailable
from sandbox.results import empty_timings, make_result, render_text, timestamp
from sandbox.spec import FRAMEWORKS, ExerciseSpec, ExerciseSpecError


class Command(BaseCommand):
    help = (
        "Grade a submission (a folder or a .zip) against an exercise, the way the site does, "
        "and print the result. Needs Docker, not Redis."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "exercise", help="the slug of an imported exercise, or the path of an exercise folder"
        )
        parser.add_argument("path", type=Path, help="the submission: a folder or a .zip file")
        parser.add_argument(
            "--framework",
            choices=FRAMEWORKS,
            help="the framework the submission uses (optional if the exercise offers only one)",
        )
        parser.add_argument(
            "--json", action="store_true", help="print only the result, as JSON, on stdout"
        )

    def handle(self, *args, exercise: str, path: Path, framework: str | None, **options) -> None:
        as_json = options["json"]
        spec = self.find_spec(exercise)
        framework = self.pick_framework(spec, framework)
        try:
            archive = self.read_submission(path, spec)
        except SubmissionRejected as exc:
            # Refused the way the site refuses an upload: a verdict, not a usage error.
            now = timestamp()
            timings = {**empty_timings(), "started": now, "finished": now}
            self.show(make_result(status=Verdict.ERROR, message=str(exc), timings=timings), as_json)
            return
        on_phase = None if as_json else (lambda phase: self.stderr.write(f"{phase.capitalize()}…"))
        try:
            result = runner.grade(
                spec=spec, archive=archive, framework=framework, on_phase=on_phase
            )
        except EngineUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.show(result, as_json)

    def find_spec(self, exercise: str) -> ExerciseSpec:
        folder = Path(exercise)
        if folder.is_dir():
            try:
                return ExerciseSpec.from_dir(folder)
            except ExerciseSpecError as exc:
                raise CommandError(str(exc)) from exc
        try:
            found = Exercise.objects.filter(slug=exercise).first()
        except DatabaseError as exc:
            raise CommandError(
                f'Could not look for an exercise "{exercise}" in the database ({exc}). '
                "Give the path of an exercise folder, or set up the database first "
                "(manage.py migrate, then import_course)."
            ) from exc
        if found is not None:
            return found.spec()
        if "/" in exercise or exercise.startswith("."):
            raise CommandError(f"No exercise folder at {exercise}.")
        known = ", ".join(Exercise.objects.order_by("slug").values_list("slug", flat=True))
        raise CommandError(
            f'No exercise with the slug "{exercise}" (imported exercises: {known or "none"}). '
            "Give the slug of an imported exercise or the path of an exercise folder."
        )

    def pick_framework(self, spec: ExerciseSpec, framework: str | None) -> str:
        offered = ", ".join(spec.frameworks)
        if framework is None:
            if len(spec.frameworks) == 1:
                return spec.frameworks[0]
            raise CommandError(
                f'Exercise "{spec.slug}" offers {offered}: choose one with --framework.'
            )
        if framework not in spec.frameworks:
            raise CommandError(
                f'Exercise "{spec.slug}" offers {offered}, not {framework}. '
                "Choose one of those with --framework."
            )
        return framework

    def read_submission(self, path: Path, spec: ExerciseSpec) -> bytes:
        """Return the submission as zip bytes; SubmissionRejected if the site would refuse it."""
        if not path.exists():
            raise CommandError(f"No such file or folder: {path}")
        if not (path.is_dir() or path.is_file()):
            raise CommandError(f"{path} is neither a folder nor a zip file.")
        try:
            return read_archive(path, policy=spec.policy)
        except SubmissionRejected as exc:
            if path.is_file() and "not a zip archive" in str(exc):
                raise CommandError(str(exc)) from exc
            raise

    def show(self, result: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
            return
        text = render_text(result)
        first, _, rest = text.partition("\n")
        style = self.style.SUCCESS if result["status"] == Verdict.PASSED else self.style.ERROR
        self.stdout.write(style(first) + ("\n" + rest if rest else ""))
