"""Template context every page gets from the courses app."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from courses.access import teaches_a_course


def teaching(request: HttpRequest) -> dict:
    """Add `teaches_a_course`, asked only when a template uses it (the header's Teach link)."""
    return {
        "teaches_a_course": SimpleLazyObject(
            lambda: teaches_a_course(request.user, request.session)
        )
    }
