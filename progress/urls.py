"""The catalog, course pages, dashboard and read marks.

The namespace stays "courses", as it was when these pages lived in the courses app: the
addresses and names are the site's public face (links, LOGIN_REDIRECT_URL, templates).
"""

from __future__ import annotations

from django.urls import path

from progress import quiz_views, views

app_name = "courses"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("courses/<slug:course>/", views.course_detail, name="course"),
    path("courses/<slug:course>/join/", views.course_join, name="join"),
    # The invitation link. A chapter cannot be named "join" (authoring.services), or its
    # lessons' addresses would land here.
    path("courses/<slug:course>/join/<str:code>/", views.course_join_invite, name="join_invite"),
    path(
        "courses/<slug:course>/<slug:chapter>/<slug:lesson>/read/",
        views.lesson_read,
        name="lesson_read",
    ),
    path(
        "courses/<slug:course>/<slug:chapter>/<slug:lesson>/unread/",
        views.lesson_unread,
        name="lesson_unread",
    ),
    path(
        "courses/<slug:course>/<slug:chapter>/<slug:lesson>/quiz/<slug:question>/",
        quiz_views.quiz_answer,
        name="quiz_answer",
    ),
]
