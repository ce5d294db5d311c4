from __future__ import annotations

from django.urls import path

from lessons import images, views

app_name = "lessons"

urlpatterns = [
    path("courses/<slug:course>/images/<str:name>", images.course_image, name="course_image"),
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
