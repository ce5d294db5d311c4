"""The template filter for text a learner's app controls: `{{ result.log|visible_controls }}`."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import stringfilter

from sandbox import textsafety

register = template.Library()


# Not is_safe: the markers hold "<" and ">", so the result is always escaped like any text.
@register.filter
@stringfilter
def visible_controls(value: str) -> str:
    """Show control, format and bidi characters as visible markers instead of letting them act."""
    return textsafety.visible_controls(value)
