"""What the live console on the exercise page starts from: its addresses, examples, app."""

from __future__ import annotations

from django import template
from django.urls import reverse

from grading.interactive import LIVE_LIFETIME, METHODS
from playground.live import REPLY_TIMEOUT, live_current
from playground.live_examples import visible_examples

register = template.Library()

PLACEHOLDER = "0" * 32  # stands for the session in the address templates


@register.simple_tag(takes_context=True)
def live_console(context, exercise) -> dict:
    """Return the console's settings for `exercise` and the signed-in learner."""
    user = context["request"].user
    current = live_current(user=user, exercise=exercise)
    return {
        "methods": METHODS,
        "lifetime": int(LIVE_LIFETIME),
        "examples": [example.as_dict() for example in visible_examples(exercise.spec().tests)],
        "config": {
            "startUrl": reverse("playground:live_start", kwargs={"exercise": exercise.slug}),
            "stateUrl": reverse("playground:live_state", kwargs={"session": PLACEHOLDER}),
            "requestUrl": reverse("playground:live_request", kwargs={"session": PLACEHOLDER}),
            "routesUrl": reverse("playground:live_routes", kwargs={"session": PLACEHOLDER}),
            "stopUrl": reverse("playground:live_stop", kwargs={"session": PLACEHOLDER}),
            "placeholder": PLACEHOLDER,
            "lifetime": int(LIVE_LIFETIME),
            "replyTimeout": REPLY_TIMEOUT,
            "current": current.as_dict() if current is not None else None,
        },
    }
