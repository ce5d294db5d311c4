"""The API token page; its patterns join courses.urls, so the names are courses:tokens…"""

from __future__ import annotations

from django.urls import path

from courses import token_views

urlpatterns = [
    path("accounts/tokens/", token_views.tokens, name="tokens"),
    path(
        "accounts/tokens/<int:pk>/revoke/",
        token_views.token_revoke,
        name="token_revoke",
    ),
]
