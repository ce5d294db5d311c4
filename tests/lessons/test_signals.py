from __future__ import annotations

import pytest
from django.core import serializers

from courses.models import Chapter, Course
from tests.factories import ChapterFactory, CourseFactory

pytestmark = pytest.mark.django_db


def test_saving_a_course_renders_its_description():
    course = CourseFactory(description="Build **three** apps.")

    assert "<strong>three</strong>" in Course.objects.get(pk=course.pk).description_html


def test_saving_a_chapter_renders_its_introduction_sanitized():
    chapter = ChapterFactory(intro="Read *this*.<script>alert(1)</script>")

    stored = Chapter.objects.get(pk=chapter.pk).intro_html
    assert "<em>this</em>" in stored
    assert "<script" not in stored


def test_an_edited_description_is_rendered_again():
    course = CourseFactory(description="Old text.")
    course.description = "New *text*."
    course.save()

    assert "<em>text</em>" in Course.objects.get(pk=course.pk).description_html


def test_loading_a_fixture_keeps_the_stored_html():
    course = CourseFactory(description="Text.")
    data = serializers.serialize("json", [course])
    Course.objects.filter(pk=course.pk).update(description_html="<p>kept</p>")
    data = data.replace("<p>Text.</p>", "<p>kept</p>")

    for obj in serializers.deserialize("json", data):
        obj.save()  # a raw save, as loaddata does

    assert Course.objects.get(pk=course.pk).description_html == "<p>kept</p>"
