"""Keep the answer to "does this user teach a course?" (courses.access) current."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from courses.access import TEACHING_SESSION_KEY, teaches_a_course, teaching_changed_key
from courses.models import CourseStaff


@receiver(post_save, sender=CourseStaff)
@receiver(post_delete, sender=CourseStaff)
def _staff_changed(sender, instance: CourseStaff, **kwargs) -> None:
    # Kept as long as a session lasts: every session asked before now asks again.
    cache.set(
        teaching_changed_key(instance.user_id), time.time(), timeout=settings.SESSION_COOKIE_AGE
    )


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    # Asked here, once, rather than on the first page after logging in.
    request.session.pop(TEACHING_SESSION_KEY, None)
    teaches_a_course(user, request.session)
