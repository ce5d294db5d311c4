from django.urls import path

from authoring import images, lesson_views, views

app_name = "teach"

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:course>/", views.course, name="course"),
    path("<slug:course>/images/", images.image_upload, name="image_upload"),
    path("<slug:course>/lessons/<int:lesson>/edit/", lesson_views.lesson_edit, name="lesson_edit"),
    path(
        "<slug:course>/lessons/<int:lesson>/preview/",
        lesson_views.lesson_preview,
        name="lesson_preview",
    ),
    path(
        "<slug:course>/lessons/<int:lesson>/learner-preview/",
        lesson_views.lesson_learner_preview,
        name="lesson_learner_preview",
    ),
]
