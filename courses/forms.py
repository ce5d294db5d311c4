from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm


class SignupForm(UserCreationForm):
    """Create a learner account: a username and password, and an optional email."""

    email = forms.EmailField(
        required=False,
        help_text="Optional. Lets the course staff reach you.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")  # labels sit above the fields, no colon
        super().__init__(*args, **kwargs)


class LoginForm(AuthenticationForm):
    """Django's login form, with labels styled like the sign-up form's."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
