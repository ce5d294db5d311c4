"""Account pages, mounted at /accounts/: sign up, log in and log out keep Django's plain names
("login" is what LOGIN_URL and the auth views look for); the API token pages are accounts:…"""

from __future__ import annotations

from django.urls import include, path

from accounts import views

token_patterns = [
    path("", views.tokens, name="tokens"),
    path("<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("tokens/", include((token_patterns, "accounts"))),
]
