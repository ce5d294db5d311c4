from __future__ import annotations

from django.urls import path

from lessons import search_views, views

app_name = "lessons"

urlpatterns = [
    path("search/", search_views.search, name="search"),
    path(
        "courses/<slug:course>/<slug:chapter>/<slug:lesson>/",
        views.lesson_detail,
        name="lesson",
    ),
    path(
        "courses/<slug:course>/<slug:chapter>/<slug:lesson>/preview/",
        views.lesson_preview,
        name="lesson_preview",
    ),
]
