"""Quizzes in course folders: a malformed one stops the import; export writes them back."""

from __future__ import annotations

from pathlib import Path

import pytest

from authoring.content import CourseContentError, course_export, course_import
from courses.models import Course
from lessons.models import Lesson

pytestmark = pytest.mark.django_db

QUIZ = """

```quiz
id: first-line
question: What is the first line of an HTTP request called?
answers: ["request line", "the request line"]
explain: It holds the method, the target and the version.
```
"""


def lesson_file(course_dir: Path) -> Path:
    return course_dir / "01-http" / "01-requests.md"


def test_a_malformed_quiz_stops_the_import_with_the_file_and_line(course_dir):
    path = lesson_file(course_dir)
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n```quiz\nquestion: Q\ntype: essay\nanswers: [x]\n```\n")
    line = len((text + "\n```quiz\nquestion: Q\n").splitlines()) + 1

    with pytest.raises(CourseContentError) as caught:
        course_import(path=course_dir)

    assert caught.value.problems == [
        f"{path}, line {line}: quiz: type must be one of single, multiple, text, not 'essay'"
    ]
    assert not Course.objects.exists()


def test_quizzes_survive_import_and_export_byte_for_byte(course_dir, tmp_path):
    path = lesson_file(course_dir)
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + QUIZ, encoding="utf-8")
    course_import(path=course_dir)
    assert Lesson.objects.get(slug="requests").quiz_ids == ["first-line"]

    course_export(course=Course.objects.get(), path=tmp_path / "out")
    exported = tmp_path / "out" / "01-http" / "01-requests.md"

    # The body, quiz and all, is written back as it was read (front matter is canonicalised).
    body = path.read_bytes().split(b"\n---\n", 1)[1]
    assert exported.read_bytes().split(b"\n---\n", 1)[1] == body
    # And the exported folder is a fixed point.
    Course.objects.all().delete()
    course_import(path=tmp_path / "out")
    course_export(course=Course.objects.get(), path=tmp_path / "again")
    assert (tmp_path / "again" / "01-http" / "01-requests.md").read_bytes() == exported.read_bytes()
