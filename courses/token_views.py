"""The API token page in the account settings: list, create and revoke personal tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from courses import tokens as token_services
from courses.models import ApiToken
from lessons.models import Exercise

EXAMPLE_EXERCISE = "hello"


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=token_services.MAX_NAME_LENGTH,
        help_text="What the token is for, such as “laptop” or “lab computer”.",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


@never_cache  # the page may show a new secret: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """List the user's tokens; create one and show its secret, once."""
    form = TokenForm(request.POST if request.method == "POST" else None)
    created = secret = None
    if form.is_bound and form.is_valid():
        try:
            created, secret = token_services.token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
        except token_services.TokenError as exc:
            form.add_error("name", str(exc))
        else:
            form = TokenForm()
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user),
        "created": created,
        "secret": secret,
    }
    if secret:
        context["example_slug"], context["example"] = _example_command(request, secret)
    status = 400 if form.errors else 201 if created else 200
    return render(request, "courses/tokens.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm (GET), then revoke one of the user's tokens (POST)."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if request.method == "GET":
        return render(request, "courses/tokens.html", {"revoking": token})
    token_services.token_revoke(user=request.user, token_id=token.pk)
    messages.success(
        request,
        f"The token “{token.name}” is revoked: commands that use it are now refused.",
    )
    return redirect("courses:tokens")


def _example_command(request: HttpRequest, secret: str) -> tuple[str, str]:
    """Return an exercise slug and the README's commands for it, filled in for this site."""
    exercise = (
        Exercise.objects.published().filter(slug=EXAMPLE_EXERCISE).first()
        or Exercise.objects.published().first()
    )
    slug = exercise.slug if exercise else EXAMPLE_EXERCISE
    framework = exercise.frameworks[0] if exercise and exercise.frameworks else "flask"
    try:
        submit_path = reverse("api:submit", kwargs={"slug": slug})
    except NoReverseMatch:
        submit_path = f"/api/exercises/{slug}/submissions/"
    site = request.build_absolute_uri("/").rstrip("/")
    return slug, (
        f"export COURSE_URL={site}\n"
        f"export COURSE_TOKEN={secret}\n"
        f"python3 -m zipfile -c {slug}.zip my-{slug}-app/\n"
        f'curl -sS --fail-with-body -H "Authorization: Bearer $COURSE_TOKEN" \\\n'
        f'     -H "Content-Type: application/zip" --data-binary @{slug}.zip \\\n'
        f'     "$COURSE_URL{submit_path}?framework={framework}&wait=1"'
    )
