from django.urls import path

from authoring import deadline_views, regrade_views, views

app_name = "teach"

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:course>/", views.course, name="course"),
    path(
        "<slug:course>/exercises/<slug:exercise>/regrade/",
        regrade_views.regrade_new,
        name="regrade_new",
    ),
    path("<slug:course>/regrades/<int:pk>/", regrade_views.regrade_detail, name="regrade"),
    path(
        "<slug:course>/regrades/<int:pk>/progress/",
        regrade_views.regrade_progress,
        name="regrade_progress",
    ),
    path(
        "<slug:course>/exercises/<slug:exercise>/deadline/",
        deadline_views.deadline_edit,
        name="deadline",
    ),
    path(
        "<slug:course>/exercises/<slug:exercise>/deadline/extensions/",
        deadline_views.extension_save,
        name="extension_save",
    ),
    path(
        "<slug:course>/exercises/<slug:exercise>/deadline/extensions/<int:pk>/remove/",
        deadline_views.extension_remove,
        name="extension_remove",
    ),
]
