from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("markdownx/", include("lessons.markdownx_urls")),
    path("accounts/", include("accounts.urls")),
    path("teach/", include("authoring.urls")),
    path("api/", include("exercises.api_urls")),
    path("play/", include("playground.urls")),
    path("", include("progress.urls")),
    path("", include("exercises.urls")),
    path("", include("lessons.urls")),
    path("", include("search.urls")),
]
