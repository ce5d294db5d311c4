from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """Create a learner account: a username and password, and an optional email."""

    email = forms.EmailField(
        required=False,
        help_text="Optional. Lets the course staff reach you.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")
