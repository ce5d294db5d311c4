"""Runnable blocks in course folders and stored lessons: import checks them, export keeps
them, saving and the data migration render their run settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from authoring.content import CourseContentError, course_export, course_import
from courses.models import Course
from lessons.models import Lesson
from tests.authoring.conftest import COURSE_DATA
from tests.factories import LessonFactory

BLOCKS = """

```{.python example=greet file=names.py}
NAMES = ["Ada", "Grace"]
```

```{.python .runnable example=greet}
from names import NAMES
print(", ".join(NAMES))
```

```{.python .runnable app=flask requests='GET /; POST /echo {"a": 1}'}
from flask import Flask, request

app = Flask(__name__)


@app.route("/", methods=["GET", "POST"])
@app.post("/echo")
def echo():
    return request.get_data(as_text=True) or "hello"
```
"""


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    target = tmp_path / "web-basics"
    shutil.copytree(COURSE_DATA, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def lesson_file(course_dir: Path) -> Path:
    return course_dir / "01-http" / "01-requests.md"


@pytest.mark.django_db
def test_a_broken_runnable_block_stops_the_import_with_the_file_and_line(course_dir):
    path = lesson_file(course_dir)
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n```{.python .runnable app=bottle}\nprint(1)\n```\n")
    line = len((text + "\n").splitlines()) + 1

    with pytest.raises(CourseContentError) as caught:
        course_import(path=course_dir)

    assert caught.value.problems == [
        f"{path}, line {line}: runnable block: app='bottle': the frameworks are flask, django, "
        "fastapi, wsgi, asgi"
    ]
    assert not Course.objects.exists()


@pytest.mark.django_db
def test_runnable_blocks_survive_import_and_export_byte_for_byte(course_dir, tmp_path):
    path = lesson_file(course_dir)
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + BLOCKS, encoding="utf-8")
    course_import(path=course_dir)
    lesson = Lesson.objects.get(slug="requests")
    assert lesson.body_html.count("data-run-block=") == 2

    course_export(course=Course.objects.get(), path=tmp_path / "out")
    exported = tmp_path / "out" / "01-http" / "01-requests.md"
    body = path.read_bytes().split(b"\n---\n", 1)[1]
    assert exported.read_bytes().split(b"\n---\n", 1)[1] == body


@pytest.mark.django_db
def test_saving_a_lesson_renders_its_run_settings():
    lesson = LessonFactory(body="## Run\n" + BLOCKS)
    assert 'data-run-block="0"' in lesson.body_html
    assert 'data-run-framework="flask"' in lesson.body_html
    assert 'data-run-example="greet"' in lesson.body_html


def migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    targets = [target, *(leaf for leaf in leaves if leaf[0] != target[0])]
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest(transactional_db):
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_migration_renders_stored_lessons_with_run_settings(back_to_latest):
    old = migrate(("lessons", "0006_lesson_quiz_ids"))
    course = old.get_model("courses", "Course").objects.create(slug="web", title="Web")
    chapter = old.get_model("courses", "Chapter").objects.create(
        course=course, slug="basics", title="Basics"
    )
    Lesson_ = old.get_model("lessons", "Lesson")
    stale = '<div class="runnable highlight"><pre><code>old</code></pre></div>'
    runs = Lesson_.objects.create(
        chapter=chapter, slug="runs", title="Runs", body=BLOCKS, body_html=stale, status="published"
    )
    plain = Lesson_.objects.create(
        chapter=chapter, slug="plain", title="Plain", body="Just words.", body_html="<p>kept</p>"
    )

    migrate(("lessons", "0007_rerender_runnable_blocks"))

    assert Lesson.objects.get(id=runs.id).body_html.count("data-run-block=") == 2
    assert Lesson.objects.get(id=plain.id).body_html == "<p>kept</p>"
