"""The gradebook, exercise analytics and operations pages of the instructor area (/teach/).

Included by authoring/urls.py, under its "teach" namespace, after its own pages (so
/teach/<course>/exercises/new/ is the new-exercise form, not an exercise's analytics). The
operations page is routed there too, ahead of the course pages: "ops" is not a course.
"""

from __future__ import annotations

from django.urls import path

from progress import teach_views

urlpatterns = [
    path("<slug:course>/gradebook/", teach_views.gradebook, name="gradebook"),
    path("<slug:course>/gradebook.csv", teach_views.gradebook_csv, name="gradebook_csv"),
    path(
        "<slug:course>/learners/<str:username>/",
        teach_views.learner,
        name="learner",
    ),
    path(
        "<slug:course>/exercises/<slug:exercise>/",
        teach_views.exercise_analytics,
        name="exercise_analytics",
    ),
]
