from __future__ import annotations
app_name = "lessons"

urlpatterns: list = []
