from __future__ import annotations

from django.urls import path

from playground import run_views

app_name = "playground"

urlpatterns: list = [
    path("runs/", run_views.run_start_view, name="run_start"),
    path("runs/<str:run_id>/", run_views.run_result_view, name="run_result"),
]
