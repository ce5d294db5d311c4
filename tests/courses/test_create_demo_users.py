from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from courses.management.commands.create_demo_users import DEMO_USERS


def test_it_creates_a_staff_teacher_and_a_plain_learner(db, capsys):
    call_command("create_demo_users")

    out = capsys.readouterr().out
    for username, password, is_staff in DEMO_USERS:
        user = authenticate(username=username, password=password)
        assert user is not None
        assert user.is_staff is is_staff
        assert f"{username} / {password}" in out


def test_it_keeps_a_changed_password(db):
    call_command("create_demo_users")
    teacher = get_user_model().objects.get(username="teacher")
    teacher.set_password("a new secret phrase")
    teacher.save()

    call_command("create_demo_users")

    assert authenticate(username="teacher", password="a new secret phrase") is not None
    assert get_user_model().objects.filter(username="teacher").count() == 1
