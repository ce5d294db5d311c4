from __future__ import annotations

from django.urls import path

from courses import views

app_name = "courses"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("courses/<slug:course>/", views.course_detail, name="course"),
]
