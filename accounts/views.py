"""Account pages: sign up, log in, log out, and the API tokens of the account settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import tokens as token_services
from accounts.forms import LoginForm, SignupForm, TokenForm
from accounts.models import ApiToken
from accounts.throttles import (
    client_ip,
    login_ip_throttle,
    login_username_throttle,
    signup_throttle,
    username_key,
    wait_text,
)

# The course's first exercise, which the README's terminal walk-through submits too.
EXAMPLE_EXERCISE = "hello"
EXAMPLE_FRAMEWORK = "flask"


def _next_url(request: HttpRequest) -> str:
    """Return the safe page to go to after signing up, or where a log-in goes by default."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path: redirect() would look a bare word such as "0" up as a URL name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account, log the new learner in and send them on."""
    next_url = _next_url(request)
    if request.user.is_authenticated:
        return redirect(next_url)
    next_value = next_url if next_url != settings.LOGIN_REDIRECT_URL else ""
    throttle, address = signup_throttle(), client_ip(request)
    if request.method == "POST" and (wait := throttle.retry_after(address)):
        # Refused before the form is read; what was typed (bar the passwords) is shown again.
        form = SignupForm(initial={k: request.POST.get(k, "") for k in ("username", "email")})
        context = {
            "form": form,
            "next": next_value,
            "throttled": (
                "Too many accounts were created from your network in the last hour. "
                f"Try again in {wait_text(wait)}, or ask your instructor for help."
            ),
        }
        return _too_many(render(request, "registration/signup.html", context, status=429), wait)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        throttle.hit(address)
        login(request, user)
        messages.success(request, f"Welcome, {user.get_username()}! Your account is ready.")
        return redirect(next_url)
    return render(request, "registration/signup.html", {"form": form, "next": next_value})


class LoginView(auth_views.LoginView):
    """Django's log-in, refused for a while after too many failures from an address or for a
    username, so that passwords cannot be guessed at speed."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = username_key(request.POST.get("username", ""))
        self.failure_keys = [
            (login_ip_throttle(), client_ip(request)),
            (login_username_throttle(), username),
        ]
        wait = max(throttle.retry_after(key) for throttle, key in self.failure_keys)
        if wait:
            # The password is not even checked: a correct guess must not be told apart.
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username", "")}
            )
            context = self.get_context_data(
                form=form,
                throttled=(
                    "Too many failed log-ins for this account or from your network. "
                    f"Try again in {wait_text(wait)}. If you forgot your password, ask your "
                    "instructor to set a new one."
                ),
            )
            return _too_many(self.render_to_response(context, status=429), wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        for throttle, key in self.failure_keys:
            throttle.hit(key)
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        # The account's owner is in: guesses made at it so far no longer count against them.
        # The address keeps its count, or one account of one's own would reset it.
        throttle, key = self.failure_keys[1]
        throttle.reset(key)
        return super().form_valid(form)


def _too_many(response: HttpResponse, wait: int) -> HttpResponse:
    response["Retry-After"] = str(wait)
    return response


class LogoutView(auth_views.LogoutView):
    """Log out on POST; on GET ask first, since a link must never log anyone out."""

    http_method_names = ["get", "post", "options"]
    template_name = "registration/logout_confirm.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(request, self.template_name, {"next": request.GET.get("next", "")})


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
        context["example_slug"] = EXAMPLE_EXERCISE
        context["example"] = _example_command(request, secret)
    status = 400 if form.errors else 201 if created else 200
    return render(request, "accounts/tokens.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm (GET), then revoke one of the user's tokens (POST)."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if request.method == "GET":
        return render(request, "accounts/tokens.html", {"revoking": token})
    token_services.token_revoke(user=request.user, token_id=token.pk)
    messages.success(
        request,
        f"The token “{token.name}” is revoked: commands that use it are now refused.",
    )
    return redirect("accounts:tokens")


def _example_command(request: HttpRequest, secret: str) -> str:
    """Return the README's commands for submitting the example exercise, filled in for this site."""
    slug = EXAMPLE_EXERCISE
    try:
        submit_path = reverse("api:submit", kwargs={"slug": slug})
    except NoReverseMatch:  # a site without the submission API still shows the shape
        submit_path = f"/api/exercises/{slug}/submissions/"
    site = request.build_absolute_uri("/").rstrip("/")
    return (
        f"export COURSE_URL={site}\n"
        f"export COURSE_TOKEN={secret}\n"
        f"python3 -m zipfile -c {slug}.zip my-{slug}-app/\n"
        f'curl -sS --fail-with-body -H "Authorization: Bearer $COURSE_TOKEN" \\\n'
        f'     -H "Content-Type: application/zip" --data-binary @{slug}.zip \\\n'
        f'     "$COURSE_URL{submit_path}?framework={EXAMPLE_FRAMEWORK}&wait=1"'
    )
