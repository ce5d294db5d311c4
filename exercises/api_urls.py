"""The terminal API, mounted at /api/ (see README: "Submitting from a terminal")."""

from __future__ import annotations

from django.urls import path

from exercises import api

app_name = "api"

urlpatterns = [
    path("exercises/<slug:slug>/submissions/", api.submit, name="submit"),
    path("submissions/<int:pk>/", api.submission_detail, name="submission"),
]
