from __future__ import annotations

from django.urls import path, re_path

from playground import live_views, run_views

app_name = "playground"

SESSION = r"(?P<session>[0-9a-f]{32})"

urlpatterns: list = [
    path("runs/", run_views.run_start_view, name="run_start"),
    path("runs/<str:run_id>/", run_views.run_result_view, name="run_result"),
    path("live/start/<slug:exercise>/", live_views.live_start_view, name="live_start"),
    re_path(rf"^live/{SESSION}/$", live_views.live_state_view, name="live_state"),
    re_path(rf"^live/{SESSION}/request/$", live_views.live_request_view, name="live_request"),
    re_path(rf"^live/{SESSION}/routes/$", live_views.live_routes_view, name="live_routes"),
    re_path(rf"^live/{SESSION}/stop/$", live_views.live_stop_view, name="live_stop"),
]
