from __future__ import annotations

from collections.abc import Callable

import pytest

from courses.models import Course, Status
from lessons.models import Lesson
from tests.factories import ChapterFactory, CourseFactory

BODY_HTML = (
    '<h2 id="routes">Routes<a class="headerlink" href="#routes">#</a></h2>\n'
    "<p>A route maps a URL to a function.</p>\n"
    '<div class="highlight"><pre><span></span><code>print("hi")\n</code></pre></div>\n'
)
TOC_HTML = '<div class="toc">\n<ul>\n<li><a href="#routes">Routes</a></li>\n</ul>\n</div>\n'


@pytest.fixture
def make_course(db) -> Callable[..., Course]:
    """Return a function that creates a course of published lessons in bulk."""

    def make(*, chapters: int = 2, lessons_per_chapter: int = 5) -> Course:
        course = CourseFactory()
        for c in range(chapters):
            chapter = ChapterFactory(course=course, slug=f"ch-{c}", title=f"Chapter {c}", order=c)
            # bulk_create bypasses Lesson.save(), so the stored HTML is set directly.
            Lesson.objects.bulk_create(
                Lesson(
                    chapter=chapter,
                    slug=f"lesson-{c}-{i}",
                    title=f"Lesson {c}.{i}",
                    order=i,
                    body_html=BODY_HTML,
                    toc_html=TOC_HTML,
                    status=Status.PUBLISHED,
                )
                for i in range(lessons_per_chapter)
            )
        return course

    return make
