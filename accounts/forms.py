from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from accounts.tokens import MAX_NAME_LENGTH
from accounts.usernames import hidden_character, look_alike


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

    def clean_username(self) -> str | None:
        """Refuse invisible characters, then a username that looks like one already taken."""
        username = self.cleaned_data.get("username") or ""
        hidden = hidden_character(username)
        if hidden is not None:
            raise ValidationError(
                "A username cannot contain invisible or control characters "
                f"(it contains U+{ord(hidden):04X}). Type it again with letters, digits "
                "and @ . + - _ only."
            )
        username = super().clean_username()  # None when taken, whatever the case
        if not username:
            return username
        taken = get_user_model().objects.values_list("username", flat=True)
        if look_alike(username, taken.iterator(chunk_size=2000)) is not None:
            raise ValidationError(
                "This username looks too much like one that is already taken: letters of "
                "other alphabets can look the same as Latin ones, and so can l and 1 or "
                "rn and m. Choose a username that is easy to tell apart."
            )
        return username


class LoginForm(AuthenticationForm):
    """Django's login form, with labels styled like the sign-up form's."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TokenForm(forms.Form):
    """Name a new API token."""

    name = forms.CharField(
        label="Token name",
        max_length=MAX_NAME_LENGTH,
        help_text="What the token is for, such as “laptop” or “lab computer”.",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
