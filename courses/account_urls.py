"""Account pages: sign up, log in, log out. Mounted at /accounts/ without a namespace."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from courses import views
from courses.forms import LoginForm

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
