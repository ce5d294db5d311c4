from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

# Documented in README.md; for trying the site locally, never for a real class.
DEMO_USERS = (
    ("teacher", "teach-web-2026", True),
    ("learner", "learn-web-2026", False),
)


class Command(BaseCommand):
    help = "Create the demo instructor and learner accounts (unless they already exist)."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        for username, password, is_staff in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": is_staff, "is_superuser": is_staff, "email": ""},
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            role = "instructor" if is_staff else "learner"
            state = "created" if created else "already exists; password unchanged"
            self.stdout.write(f"Demo {role}: {username} / {password}  ({state})")
