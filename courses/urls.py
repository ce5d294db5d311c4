from __future__ import annotations

from django.urls import path

from courses import token_urls, views

app_name = "courses"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("courses/<slug:course>/", views.course_detail, name="course"),
    path(
        "courses/<slug:course>/<slug:chapter>/<slug:lesson>/read/",
        views.lesson_read,
        name="lesson_read",
    ),
    path(
        "courses/<slug:course>/<slug:chapter>/<slug:lesson>/unread/",
        views.lesson_unread,
        name="lesson_unread",
    ),
]

urlpatterns += token_urls.urlpatterns
