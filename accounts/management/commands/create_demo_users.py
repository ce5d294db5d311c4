from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

# Documented in README.md; for trying the site locally, never for a real class.
DEMO_USERS = (
    ("teacher", "teach-web-2026", True),
    ("learner", "learn-web-2026", False),
)
INSTRUCTORS = "Instructors"
# What editing the course in the admin needs (app label, model, actions); no user accounts,
# no deleting courses or exercises (they come from the course files). Named by app label,
# not imported, so that accounts/ depends on none of the apps it grants rights in.
INSTRUCTOR_PERMISSIONS = (
    ("courses", "course", ("view", "add", "change")),
    ("courses", "chapter", ("view", "add", "change", "delete")),
    ("lessons", "lesson", ("view", "add", "change", "delete")),
    ("exercises", "exercise", ("view", "change")),
    ("exercises", "submission", ("view", "change")),  # change: the regrade action
)
FORCE_FLAG = "--i-know-this-is-not-production"


class Command(BaseCommand):
    help = (
        "Create the demo instructor and learner accounts (unless they already exist). "
        "Their passwords are public: the command runs only with DEBUG on, or with "
        f"{FORCE_FLAG}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            FORCE_FLAG,
            dest="force",
            action="store_true",
            help="Create the accounts even though DEBUG is off.",
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a real site: the demo accounts' passwords are "
                "printed in the README for anyone to read. Create real accounts instead "
                f"(manage.py createsuperuser), or add {FORCE_FLAG} if this site is not "
                "reachable by anyone else."
            )
        User = get_user_model()
        with transaction.atomic():
            instructors = instructor_group()
            for username, password, is_staff in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username, defaults={"is_staff": is_staff, "email": ""}
                )
                if created:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                state = "created" if created else "already exists; password unchanged"
                if is_staff:
                    user.groups.add(instructors)
                    if user.is_superuser:
                        # Made by an older version of this command: a public password must
                        # not open everything.
                        user.is_superuser = False
                        user.save(update_fields=["is_superuser"])
                        state += "; no longer a superuser"
                role = "instructor" if is_staff else "learner"
                self.stdout.write(f"Demo {role}: {username} / {password}  ({state})")


def instructor_group() -> Group:
    """Return the Instructors group, with the permissions it needs to edit the course."""
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS)
    codenames = [
        (app, f"{action}_{model}")
        for app, model, actions in INSTRUCTOR_PERMISSIONS
        for action in actions
    ]
    permissions = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in codenames
    ]
    group.permissions.add(*permissions)
    return group
