from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sandbox import engine, images


class Command(BaseCommand):
    help = "Build the sandbox runner image if it is missing (or --check that it is present)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="only report; exit 1 if missing")
        parser.add_argument("--force", action="store_true", help="rebuild even if present")

    def handle(self, *args, check: bool, force: bool, **options) -> None:
        try:
            if check:
                tag = images.runner_image_tag()
                if not images.runner_image_ready():
                    raise CommandError(
                        f"Runner image {tag} is missing; run `manage.py sandbox_images`."
                    )
                self.stdout.write(f"Runner image {tag} is present.")
                return
            images.build_runner_image(progress=self.stdout.write, force=force)
        except engine.EngineUnavailable as exc:
            raise CommandError(str(exc)) from exc
        except images.ImageBuildError as exc:
            raise CommandError(str(exc)) from exc
