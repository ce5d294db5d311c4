"""Account pages: sign up, log in, log out. Mounted at /accounts/ without a namespace."""

from __future__ import annotations

from django.urls import path

from courses import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
