"""`manage.py validate_exercises [SLUG ...]`: grade every solution and starter, and say which fail.

It runs the grading engine here, as `manage.py grade` does, rather than through the grading
queue: it needs Docker but no broker, site worker or grading host, so it works on an author's
machine and in CI right after `import_course`, and its exit status can gate a deployment. The
results are stored as validations of each exercise's current version, the same rows the
instructor area's Validate button fills, so an exercise that passes here may be published.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from exercises.models import Exercise, ExerciseValidation
from exercises.validations import (
    publish_refusal,
    validation_record,
    version_archive,
    version_validations,
)
from sandbox import runner
from sandbox.archive import SubmissionRejected
from sandbox.engine import EngineUnavailable
from sandbox.results import make_result, timestamp

KINDS = (ExerciseValidation.Kind.SOLUTION, ExerciseValidation.Kind.STARTER)


class Command(BaseCommand):
    help = (
        "Grade the reference solution and the starter of every framework of the named "
        "exercises (all when none is named) in the sandbox: each solution must score full "
        "marks and each starter must not. Prints a table; exits with status 1 when any "
        "exercise is not valid. Needs Docker, not Redis."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="exercises to validate")

    def handle(self, *args, slugs: list[str], **options) -> None:
        exercises = list(Exercise.objects.select_related("course").order_by("course", "slug"))
        if slugs:
            known = {exercise.slug: exercise for exercise in exercises}
            missing = [slug for slug in slugs if slug not in known]
            if missing:
                raise CommandError(f"No exercise with the slug(s): {', '.join(missing)}.")
            exercises = [known[slug] for slug in dict.fromkeys(slugs)]
        if not exercises:
            raise CommandError("There is no exercise to validate: import a course first.")

        invalid: list[tuple[str, str]] = []
        width = max(len("exercise"), *(len(e.slug) for e in exercises))
        self.stdout.write(f"{'exercise':<{width}}  {'framework':<9}  {'solution':<14}  starter")
        for exercise in exercises:
            version = self.validate(exercise)
            for pair in version_validations(version):
                self.stdout.write(
                    f"{exercise.slug:<{width}}  {pair.framework:<9}  "
                    f"{_cell(pair.solution):<14}  {_cell(pair.starter)}"
                )
            refusal = publish_refusal(exercise)
            if refusal is not None:
                invalid.append((exercise.slug, refusal))

        if invalid:
            for slug, reason in invalid:
                self.stdout.write(self.style.ERROR(f"{slug}: {reason}"))
            raise CommandError(
                f"{len(invalid)} of {len(exercises)} exercises are not valid: "
                + ", ".join(slug for slug, _ in invalid)
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(exercises)} exercises are valid."))

    def validate(self, exercise: Exercise):
        """Grade the current version's solutions and starters; return the version."""
        version = exercise.current_version() or exercise.record_version()
        spec = exercise.spec()
        for framework in exercise.frameworks:
            for kind in KINDS:
                self.stderr.write(f"{exercise.slug}: grading the {framework} {kind}…")
                try:
                    archive = version_archive(version, kind=kind, framework=framework)
                    result = runner.grade(spec=spec, archive=archive, framework=framework)
                except SubmissionRejected as exc:
                    now = timestamp()
                    result = make_result(
                        status="error",
                        message=str(exc),
                        timings={"queued": None, "started": now, "finished": now},
                    )
                except EngineUnavailable as exc:
                    raise CommandError(str(exc)) from exc
                validation_record(version=version, framework=framework, kind=kind, result=result)
        return version


def _cell(run: ExerciseValidation | None) -> str:
    if run is None:
        return "-"
    if run.max_score is None:
        return run.verdict or run.state
    return f"{run.verdict} {run.score}/{run.max_score}"
