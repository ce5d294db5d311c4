"""The instructor area, mounted at /teach/.

Every address here is for a course's staff only: tests/authoring/test_teach_access.py walks
them all and checks that anonymous visitors, learners, staff of other courses and (for
changes) assistants are refused.
"""

from django.urls import include, path

from authoring import deadline_views, exercise_views, images, lesson_views, regrade_views, views
from progress import teach_views

app_name = "teach"

urlpatterns = [
    path("", views.home, name="home"),
    path("ops/", teach_views.ops, name="ops"),
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
    path("<slug:course>/exercises/", exercise_views.exercise_list, name="exercise_list"),
    path("<slug:course>/exercises/new/", exercise_views.exercise_new, name="exercise_new"),
    path(
        "<slug:course>/exercises/preview/",
        exercise_views.instructions_preview,
        name="exercise_preview",
    ),
    path(
        "<slug:course>/exercises/<slug:exercise>/edit/",
        exercise_views.exercise_edit,
        name="exercise_edit",
    ),
    path(
        "<slug:course>/exercises/<slug:exercise>/validate/",
        exercise_views.exercise_validate_view,
        name="exercise_validate",
    ),
    path(
        "<slug:course>/exercises/<slug:exercise>/validation/",
        exercise_views.exercise_validation,
        name="exercise_validation",
    ),
    path(
        "<slug:course>/exercises/<slug:exercise>/publish/",
        exercise_views.exercise_publish_view,
        name="exercise_publish",
    ),
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
    path("<slug:course>/chapters/", views.chapter_create, name="chapter_create"),
    path("<slug:course>/chapters/<int:chapter>/move/", views.chapter_move, name="chapter_move"),
    path("<slug:course>/lessons/", views.lesson_create, name="lesson_create"),
    path("<slug:course>/lessons/<int:lesson>/move/", views.lesson_move, name="lesson_move"),
    path("<slug:course>/lessons/<int:lesson>/status/", views.lesson_status, name="lesson_status"),
    path("<slug:course>/enrolment/", views.enrolment, name="enrolment"),
    path("<slug:course>/invitation/", views.invitation_rotate, name="invitation_rotate"),
    path("<slug:course>/roster/<int:learner>/remove/", views.roster_remove, name="roster_remove"),
    path("<slug:course>/staff/", views.staff_add, name="staff_add"),
    path("<slug:course>/staff/<int:member>/remove/", views.staff_remove, name="staff_remove"),
    path("", include("progress.teach_urls")),
]
