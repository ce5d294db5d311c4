"""The instructor area, mounted at /teach/.

Every address here is for a course's staff only: tests/authoring/test_teach_access.py walks
them all and checks that anonymous visitors, learners, staff of other courses and (for
changes) assistants are refused.
"""

from django.urls import path

from authoring import views

app_name = "teach"

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:course>/", views.course, name="course"),
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
]
