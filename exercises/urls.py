from __future__ import annotations

from django.urls import path

from exercises import views

app_name = "exercises"

urlpatterns = [
    path("exercises/<slug:exercise>/", views.exercise, name="exercise"),
    path("exercises/<slug:exercise>/draft/", views.draft_save, name="draft_save"),
    path("exercises/<slug:exercise>/submit/", views.submit, name="submit"),
    path(
        "exercises/<slug:exercise>/starter/<slug:framework>.zip",
        views.starter_zip_download,
        name="starter_zip",
    ),
    path("submissions/<int:pk>/", views.submission, name="submission"),
    path("submissions/<int:pk>/status/", views.submission_status, name="submission_status"),
    path("submissions/<int:pk>/download/", views.submission_download, name="submission_download"),
]
