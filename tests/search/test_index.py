from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from courses.models import Status
from lessons.models import Lesson
from search import index as search
from tests.factories import ChapterFactory, CourseFactory, ExerciseFactory, LessonFactory
from tests.postgres import postgres_server, run_on_postgresql  # noqa: F401 - a fixture

BLUEPRINT_ESSAY = (
    "A larger application grows beyond one module. Split the views into packages, "
    "keep settings in one place and register blueprints when the app is created. "
    "Tests then import the application factory instead of a global object."
)


def found(query: str, **kwargs) -> list[str]:
    """Return the titles of the results of a search, in rank order."""
    return [hit.title for hit in search.search(query, **kwargs)]


@pytest.mark.django_db
class TestBackendContract:
    """What every search backend must do; also run against PostgreSQL below."""

    def test_it_runs_on_the_backend_for_the_configured_database(self, record_property):
        record_property("database_vendor", connection.vendor)
        expected = {"sqlite": search.SQLiteBackend, "postgresql": search.PostgresBackend}
        assert isinstance(search.backend(), expected[connection.vendor])

    def test_it_finds_a_lesson_by_a_word_only_in_its_body(self):
        LessonFactory(title="Project layout", body=BLUEPRINT_ESSAY)
        LessonFactory(title="Templates", body="Jinja renders HTML from a template.")

        assert found("blueprints") == ["Project layout"]

    def test_a_title_match_ranks_above_a_body_match(self):
        LessonFactory(title="Structuring a larger app", body=BLUEPRINT_ESSAY * 2)
        LessonFactory(title="Blueprints", body="Group related views and register them once.")
        LessonFactory(title="Summary only", summary="Why blueprints help.", body="Nothing.")

        assert found("blueprints") == ["Blueprints", "Summary only", "Structuring a larger app"]
        ranks = [hit.rank for hit in search.search("blueprints")]
        assert ranks == sorted(ranks, reverse=True)

    def test_every_word_must_match_and_word_starts_are_enough(self):
        LessonFactory(title="Routing", body="Flask maps URLs to view functions.")
        LessonFactory(title="Django URLs", body="Django maps URLs to views with path().")

        assert found("flask url") == ["Routing"]
        assert sorted(found("func")) == ["Routing"]
        assert sorted(found("maps")) == ["Django URLs", "Routing"]

    def test_it_finds_code_in_code_blocks(self):
        LessonFactory(
            title="Routes",
            body='Declare a route:\n\n```python\n@app.route("/hello")\ndef hello():\n'
            '    return url_for("static", filename="style.css")\n```\n',
        )

        assert found("app.route") == ["Routes"]
        assert found("url_for") == ["Routes"]

    def test_it_never_finds_drafts(self):
        LessonFactory(title="Draft lesson", body=BLUEPRINT_ESSAY, status=Status.DRAFT)
        ExerciseFactory(title="Draft exercise", instructions=BLUEPRINT_ESSAY, status=Status.DRAFT)
        published = LessonFactory(title="Published lesson", body=BLUEPRINT_ESSAY)

        assert found("blueprints") == ["Published lesson"]

        # A bulk update skips the signals that maintain an index: still never shown.
        Lesson.objects.filter(pk=published.pk).update(status=Status.DRAFT)
        assert found("blueprints") == []

    def test_it_finds_exercises_and_links_them_to_their_lesson_or_course(self):
        lesson = LessonFactory(title="Forms", body="Read a form.")
        ExerciseFactory(
            slug="contact-form",
            title="A contact form",
            course=lesson.chapter.course,
            lesson=lesson,
            instructions="Validate the **email** field and return errors as JSON.",
        )
        course = CourseFactory(title="Another course")
        ExerciseFactory(
            slug="free-standing",
            title="Free-standing",
            course=course,
            summary="Validate email addresses.",
        )

        hits = {hit.title: hit for hit in search.search("email")}

        assert set(hits) == {"A contact form", "Free-standing"}
        assert hits["A contact form"].kind == search.EXERCISE
        assert hits["A contact form"].url == f"{lesson.get_absolute_url()}#exercise-contact-form"
        assert hits["A contact form"].course_title == lesson.chapter.course.title
        assert hits["Free-standing"].url == reverse(
            "courses:course", kwargs={"course": course.slug}
        )
        assert hits["Free-standing"].course_title == "Another course"

    def test_an_exercise_of_a_draft_lesson_links_to_the_course(self):
        lesson = LessonFactory(title="Unfinished", status=Status.DRAFT)
        ExerciseFactory(course=lesson.chapter.course, lesson=lesson, summary="Parse TOML files.")

        [hit] = search.search("toml")

        assert hit.url == lesson.chapter.course.get_absolute_url()

    def test_a_lesson_hit_has_its_url_and_course(self):
        lesson = LessonFactory(title="Sessions", body="Cookies carry the session id.")

        [hit] = search.search("cookies")

        assert hit.kind == search.LESSON
        assert hit.url == lesson.get_absolute_url()
        assert hit.course_title == lesson.chapter.course.title

    def test_the_snippet_marks_the_match_and_escapes_html(self):
        LessonFactory(
            title="Escaping",
            body="Tom & Jerry trust the sanitizer:\n\n"
            "```html\n<script>alert('owned')</script>\n```\n",
        )

        [hit] = search.search("sanitizer")

        assert "<mark>sanitizer</mark>" in hit.snippet_html
        assert "Tom &amp; Jerry" in hit.snippet_html
        assert "<script" not in hit.snippet_html
        assert set(re.findall(r"<[^>]*>", hit.snippet_html)) == {"<mark>", "</mark>"}

    def test_text_cannot_forge_highlights(self):
        LessonFactory(
            title="Sneaky", body=f"A {search.START}fake{search.STOP} mark and a sanitizer."
        )

        [hit] = search.search("sanitizer")

        assert hit.snippet_html.count("<mark>") == 1
        assert "<mark>sanitizer</mark>" in hit.snippet_html

    def test_the_snippet_falls_back_to_the_summary(self):
        LessonFactory(title="Middleware", summary="Code that wraps every request.", body="x")

        [hit] = search.search("middleware")

        assert "Code that wraps every request." in hit.snippet_html

    @pytest.mark.parametrize(
        "query",
        [
            '"',
            "*",
            "-",
            "AND OR",
            "NOT",
            "NEAR(a b)",
            "title:flask",
            "^start",
            "a:b|c&d!e",
            "it's",
            "back\\slash",
            "'; DROP TABLE lessons_lesson; --",
            "<script>alert(1)</script>",
            "\x00nul",
            search.START + search.STOP,
            "日本語",
            "🐍 python",
            "x" * 500,
            "word " * 100,
            "",
            "   ",
        ],
    )
    def test_odd_queries_never_fail(self, query):
        LessonFactory(title="Everything", body="Python AND OR NOT title start back slash 日本語")

        hits = search.search(query)

        assert [hit.title for hit in hits] in ([], ["Everything"])
        if not re.search(r"\w", query):
            assert hits == []

    def test_random_input_never_fails(self):
        LessonFactory(title="Target", body='The "quoted" word (and more) - here: yes!')
        pieces = [*"\"'*-+^:()[]{}<>&|!\\/.,;%_~` \t\n\u00e9\u65e5", "NEAR", "AND", "OR", "yes"]
        rng = random.Random(20240601)

        for _ in range(150):
            query = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 20)))
            hits = search.search(query)
            # Only the one lesson exists, so a query either finds it or finds nothing.
            assert [hit.title for hit in hits] in ([], ["Target"]), query

    def test_unicode_words_are_found(self):
        LessonFactory(title="Unicode", body="A naïve café serves 日本語 text.")

        assert found("naïve") == ["Unicode"]
        assert found("日本語") == ["Unicode"]

    def test_empty_input_finds_nothing(self):
        LessonFactory(title="Anything")

        assert search.search("") == []
        assert search.search("  \n ") == []

    def test_the_index_follows_edits(self):
        lesson = LessonFactory(title="Forms", body="Validate the alpha field.")
        assert found("alpha") == ["Forms"]

        lesson.body = "Validate the omega field."
        lesson.title = "Form validation"
        lesson.save()
        assert found("alpha") == []
        assert found("omega") == ["Form validation"]

        lesson.status = Status.DRAFT
        lesson.save()
        assert found("omega") == []

        lesson.status = Status.PUBLISHED
        lesson.save()
        assert found("omega") == ["Form validation"]

    def test_the_index_follows_exercise_edits(self):
        exercise = ExerciseFactory(title="Counter", instructions="Count the visits.")
        assert found("visits") == ["Counter"]

        exercise.instructions = "Count the requests."
        exercise.save()
        assert found("visits") == []
        assert found("requests") == ["Counter"]

    def test_the_index_follows_deletes(self):
        kept = LessonFactory(title="Kept", body="Caching helps.")
        LessonFactory(title="Deleted", body="Caching helps.").delete()
        chapter = ChapterFactory(course=kept.chapter.course)
        LessonFactory(title="Deleted with its chapter", chapter=chapter, body="Caching helps.")
        chapter.delete()
        ExerciseFactory(title="Deleted exercise", instructions="Caching helps.").delete()

        assert found("caching") == ["Kept"]

    def test_rebuilding_indexes_rows_written_without_signals(self):
        chapter = ChapterFactory()
        Lesson.objects.bulk_create(
            [
                Lesson(
                    chapter=chapter,
                    slug="bulk",
                    title="Bulk",
                    body_html="<p>Imported without signals: websockets.</p>",
                    status=Status.PUBLISHED,
                )
            ]
        )
        ExerciseFactory(title="Chat", instructions="Push messages over websockets.")

        assert search.rebuild_index() == (1, 1)
        assert sorted(found("websockets")) == ["Bulk", "Chat"]

    def test_it_returns_at_most_limit_hits(self):
        for n in range(4):
            LessonFactory(title=f"Part {n}", body="Deployment checklist.")

        assert len(search.search("deployment", limit=3)) == 3
        assert search.search("deployment", limit=0) == []

    def test_it_uses_a_bounded_number_of_queries(self, django_assert_max_num_queries):
        for n in range(5):
            lesson = LessonFactory(title=f"Lesson {n}", body="Static files.")
            ExerciseFactory(
                title=f"Exercise {n}",
                course=lesson.chapter.course,
                lesson=lesson,
                instructions="Serve static files.",
            )

        with django_assert_max_num_queries(3):
            hits = search.search("static")
            assert len(hits) == 10
            assert all(hit.url and hit.course_title for hit in hits)


def test_the_backend_contract_holds_on_postgresql(postgres_server, tmp_path):  # noqa: F811
    """Run the contract above in a separate pytest process against a private PostgreSQL."""
    suite, vendors = run_on_postgresql(
        postgres_server, __file__, "TestBackendContract", tmp_path / "report.xml"
    )
    assert int(suite.get("tests")) > 20
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "0")
    assert vendors == {"postgresql"}


def test_loading_the_apps_connects_the_index_signals():
    """SearchConfig.ready() imports search.index, so every save reaches the index."""
    code = "import sys, django; django.setup(); print('search.index' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.stdout.strip() == "True", result.stderr


def test_query_terms_drop_punctuation_only_and_control_characters():
    assert search.query_terms(' "flask"  - * app.route \x00x ') == ['"flask"', "app.route", "x"]
    assert search.query_terms("a " * 50) == ["a"] * search.MAX_TERMS
    assert search.query_terms("y" * 1000) == ["y" * search.MAX_QUERY_CHARS]


def test_html_to_text_keeps_code_and_drops_permalinks():
    html = (
        '<h2 id="routes">Routes &amp; views<a class="headerlink" href="#routes">#</a></h2>\n'
        '<div class="highlight"><pre><code><span class="k">return</span> '
        '"&lt;b&gt;hi&lt;/b&gt;"</code></pre></div>'
    )

    assert search.html_to_text(html) == 'Routes & views\nreturn "<b>hi</b>"'


def test_mark_snippet_escapes_everything_but_the_marks():
    marked = f"<script>x</script> & {search.START}match{search.STOP}\n  end {search.START}cut"

    assert search.mark_snippet(marked) == (
        "&lt;script&gt;x&lt;/script&gt; &amp; <mark>match</mark> end cut"
    )
