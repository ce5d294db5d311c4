from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.management.commands.create_demo_users import DEMO_USERS, FORCE_FLAG
from tests.factories import ExerciseFactory, LessonFactory

User = get_user_model()


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


def test_it_creates_a_staff_teacher_and_a_plain_learner(db, debug_on, capsys):
    call_command("create_demo_users")

    out = capsys.readouterr().out
    for username, password, is_staff in DEMO_USERS:
        user = authenticate(username=username, password=password)
        assert user is not None
        assert user.is_staff is is_staff
        assert user.is_superuser is False
        assert f"{username} / {password}" in out


def test_it_keeps_a_changed_password(db, debug_on):
    call_command("create_demo_users")
    teacher = User.objects.get(username="teacher")
    teacher.set_password("a new secret phrase")
    teacher.save()

    call_command("create_demo_users")

    assert authenticate(username="teacher", password="a new secret phrase") is not None
    assert User.objects.filter(username="teacher").count() == 1


def test_it_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("create_demo_users")

    assert not User.objects.exists()


def test_the_flag_lets_it_run_with_debug_off(db, settings):
    settings.DEBUG = False

    call_command("create_demo_users", FORCE_FLAG)

    assert User.objects.filter(username__in=["teacher", "learner"]).count() == 2


def test_a_teacher_made_a_superuser_by_an_older_version_is_demoted(db, debug_on, capsys):
    User.objects.create_superuser("teacher", "", "teach-web-2026")

    call_command("create_demo_users")

    teacher = User.objects.get(username="teacher")
    assert teacher.is_staff and not teacher.is_superuser
    assert "no longer a superuser" in capsys.readouterr().out


def test_the_demo_teacher_can_edit_lessons_in_the_admin_but_not_accounts(db, debug_on):
    call_command("create_demo_users")
    lesson = LessonFactory(title="Routes")
    exercise = ExerciseFactory()
    client = Client()
    client.force_login(User.objects.get(username="teacher"))

    def status(name: str, *args) -> int:
        return client.get(reverse(f"admin:{name}", args=args)).status_code

    assert status("lessons_lesson_change", lesson.pk) == 200
    assert status("exercises_exercise_change", exercise.pk) == 200
    assert status("courses_chapter_changelist") == 200
    assert status("auth_user_changelist") == 403
    assert status("auth_group_changelist") == 403
    assert status("accounts_apitoken_changelist") == 403
