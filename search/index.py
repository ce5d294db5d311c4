"""Full-text search over the published lessons and exercises.

One entry point, `search()`, with a backend per database:

* SQLite: an FTS5 table (`lessons_search_index`, created by lessons migration 0002) holds
  the plain text of every published lesson and exercise. Signals below keep it in
  step with saves and deletes; `manage.py rebuild_search_index` refills it after
  bulk changes that bypass signals (`QuerySet.update()`, `bulk_create()`).
* PostgreSQL: nothing is stored; `SearchVector`/`SearchRank`/`SearchHeadline`
  read the lesson tables at query time, which is fast enough for a course's worth
  of text.

Both rank a title match above a summary match above a body match, accept any
user input (terms are quoted, so search syntax in the input is just text), match
word prefixes, and return snippets that are HTML-escaped except for the `<mark>`
tags around matched words.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Func, Model, QuerySet, TextField, Value
from django.db.models.functions import Concat, Replace
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse

from courses.models import Status
from exercises.models import Exercise
from lessons.models import Lesson

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

LESSON = "lesson"
EXERCISE = "exercise"

# Input beyond this is ignored: nobody types more, and it bounds the query's cost.
MAX_QUERY_CHARS = 200
MAX_TERMS = 10
SNIPPET_WORDS = 24

# Matched words come back wrapped in these private-use characters, which are then
# turned into <mark> tags *after* the snippet is escaped. They are stripped from the
# indexed text, so a lesson cannot forge them.
START, STOP = "\ue000", "\ue001"
ELLIPSIS = "…"


@dataclass(frozen=True)
class SearchHit:
    """One search result, ready to render."""

    kind: str  # LESSON or EXERCISE
    title: str
    url: str
    snippet_html: str  # escaped text with <mark> around matches; safe to render
    rank: float  # higher is better; only comparable within one result list
    course_title: str


@dataclass(frozen=True)
class _Match:
    """A match found by a backend, before it is turned into a SearchHit."""

    kind: str
    obj: Lesson | Exercise
    rank: float
    marked_snippet: str  # plain text with START/STOP around matched words


def search(
    query: str, *, user: AbstractBaseUser | AnonymousUser | None = None, limit: int = 20
) -> list[SearchHit]:
    """Return the published lessons and exercises matching a query, best first.

    `user` is accepted so that callers need not change if staff ever get to search
    drafts; today everyone searches published content only.
    """
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    return [_to_hit(match) for match in backend().search(terms, limit=limit)]


def query_terms(query: str) -> list[str]:
    """Split user input into the terms every result must contain (as word prefixes)."""
    text = unicodedata.normalize("NFKC", query)[:MAX_QUERY_CHARS]
    # Control and private-use characters (NUL, the snippet sentinels...) are never
    # part of a word, and PostgreSQL rejects NUL in text outright.
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    # A term without a single letter or digit ("-", '"', "*") matches nothing useful.
    return [term for term in text.split() if re.search(r"\w", term)][:MAX_TERMS]


def html_to_text(fragment: str) -> str:
    """Return the text of rendered lesson HTML, code included, without heading permalinks."""
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts)


def rebuild_index() -> tuple[int, int]:
    """Re-index every published lesson and exercise; return how many of each."""
    return backend().rebuild()


def backend(using: str = DEFAULT_DB_ALIAS) -> SearchBackend:
    """Return the search backend for a database connection's vendor."""
    vendor = connections[using].vendor
    if vendor == "sqlite":
        return SQLiteBackend(using)
    if vendor == "postgresql":
        return PostgresBackend(using)
    raise ImproperlyConfigured(f"Search supports SQLite and PostgreSQL, not {vendor}.")


class SearchBackend(Protocol):
    def search(self, terms: list[str], *, limit: int) -> list[_Match]:
        """Return the best matches for the terms (all must match, as word prefixes)."""
        ...

    def rebuild(self) -> tuple[int, int]:
        """Re-index everything searchable; return the lesson and exercise counts."""
        ...


class SQLiteBackend:
    """FTS5 with bm25 ranking, a title match weighing 10 body matches and a summary match 4."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using

    def search(self, terms: list[str], *, limit: int) -> list[_Match]:
        # Each term becomes a quoted FTS5 string with a prefix star: quoting turns
        # operators (AND, NEAR, column:, ^, -) into plain words, and FTS5 splits a
        # term like "app.route" into a phrase, matching how the text was indexed.
        match = " ".join('"{}"*'.format(term.replace('"', '""')) for term in terms)
        params = [START, STOP, ELLIPSIS, START, STOP, ELLIPSIS, match, limit]
        with connections[self.using].cursor() as cursor:
            cursor.execute(_SEARCH_SQL, params)
            rows = cursor.fetchall()
        lessons = _lessons(id__in=[row[1] for row in rows if row[0] == LESSON])
        exercises = _exercises(id__in=[row[1] for row in rows if row[0] == EXERCISE])
        found = {LESSON: lessons.in_bulk(), EXERCISE: exercises.in_bulk()}
        matches = []
        for kind, object_id, score, body_snippet, summary_snippet in rows:
            obj = found[kind].get(object_id)
            # Skipped: rows left behind by changes that bypassed the signals.
            if obj is not None:
                snippet_text = _pick_snippet(body_snippet, summary_snippet)
                matches.append(_Match(kind, obj, -score, snippet_text))
        return matches

    def index(self, obj: Lesson | Exercise) -> None:
        """Add, replace or (for a draft) drop one lesson or exercise in the index."""
        kind = _kind(obj)
        with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
            cursor.execute(_DELETE_SQL, [kind, obj.pk])
            if obj.status == Status.PUBLISHED:
                cursor.execute(_INSERT_SQL, _row(obj))

    def remove(self, kind: str, object_id: int) -> None:
        """Drop one lesson or exercise from the index."""
        with connections[self.using].cursor() as cursor:
            cursor.execute(_DELETE_SQL, [kind, object_id])

    def rebuild(self) -> tuple[int, int]:
        lessons = Lesson.objects.using(self.using).published()
        exercises = Exercise.objects.using(self.using).published()
        lesson_rows = [_row(obj) for obj in lessons.only("title", "summary", "body_html")]
        exercise_rows = [
            _row(obj) for obj in exercises.only("title", "summary", "instructions_html")
        ]
        with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
            cursor.execute("DELETE FROM lessons_search_index")
            cursor.executemany(_INSERT_SQL, lesson_rows + exercise_rows)
            # Merge the index's segments: later queries read one b-tree, not many.
            cursor.execute(
                "INSERT INTO lessons_search_index(lessons_search_index) VALUES ('optimize')"
            )
        return len(lesson_rows), len(exercise_rows)


# The table is created by migration 0002 on SQLite only. bm25() weights follow
# its columns (kind, object_id, title, summary, body); snippet() takes a column
# number (4 = body, 3 = summary), the sentinels, an ellipsis and a length in words.
_SEARCH_SQL = """
    SELECT kind, object_id,
           bm25(lessons_search_index, 0.0, 0.0, 10.0, 4.0, 1.0) AS score,
           snippet(lessons_search_index, 4, %s, %s, %s, 24),
           snippet(lessons_search_index, 3, %s, %s, %s, 24)
    FROM lessons_search_index
    WHERE lessons_search_index MATCH %s
    ORDER BY score
    LIMIT %s
"""
_INSERT_SQL = (
    "INSERT INTO lessons_search_index (kind, object_id, title, summary, body) "
    "VALUES (%s, %s, %s, %s, %s)"
)
_DELETE_SQL = "DELETE FROM lessons_search_index WHERE kind = %s AND object_id = %s"


class PostgresBackend:
    """PostgreSQL full-text search at query time: weights A (title), B (summary), C (body)."""

    CONFIG = "english"

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using

    def search(self, terms: list[str], *, limit: int) -> list[_Match]:
        # Quoted lexemes with a prefix marker, ANDed: to_tsquery parses each quoted
        # term like document text ("app.route" stays one token, "get_absolute_url"
        # becomes a phrase), and quoting keeps & | ! ( ) : in the input harmless.
        raw = " & ".join(
            "'{}':*".format(term.replace("\\", "\\\\").replace("'", "''")) for term in terms
        )
        query = SearchQuery(raw, search_type="raw", config=self.CONFIG)
        matches = [
            *self._matches(LESSON, _lessons(), query, limit, body="body_html"),
            *self._matches(EXERCISE, _exercises(), query, limit, body="instructions_html"),
        ]
        matches.sort(key=lambda m: -m.rank)
        return matches[:limit]

    def _matches(
        self, kind: str, objects: QuerySet, query: SearchQuery, limit: int, *, body: str
    ) -> list[_Match]:
        body_text = _sql_html_to_text(body)
        vector = (
            SearchVector("title", weight="A", config=self.CONFIG)
            + SearchVector("summary", weight="B", config=self.CONFIG)
            + SearchVector(body_text, weight="C", config=self.CONFIG)
        )
        readable = Concat(F("summary"), Value("\n"), body_text, output_field=TextField())
        for sentinel in (START, STOP):
            readable = Replace(readable, Value(sentinel), Value(""), output_field=TextField())
        headline = SearchHeadline(
            readable,
            query,
            config=self.CONFIG,
            start_sel=START,
            stop_sel=STOP,
            # One passage, as on SQLite; fragment mode clips short texts to the match.
            max_words=SNIPPET_WORDS + 6,
            min_words=SNIPPET_WORDS // 2,
        )
        rows = (
            objects.using(self.using)
            .alias(document=vector)
            .filter(document=query)
            .annotate(rank=SearchRank(vector, query), snippet=headline)
            .order_by("-rank", "id")[:limit]
        )
        return [_Match(kind, obj, obj.rank, obj.snippet) for obj in rows]

    def rebuild(self) -> tuple[int, int]:
        """Count what is searchable: there is no index to rebuild."""
        return (
            Lesson.objects.using(self.using).published().count(),
            Exercise.objects.using(self.using).published().count(),
        )


# Keeping the SQLite index in step ------------------------------------------
# (PostgreSQL reads the tables at query time, so it has nothing to keep.)


@receiver(post_save, sender=Lesson, dispatch_uid="search-index-lesson")
@receiver(post_save, sender=Exercise, dispatch_uid="search-index-exercise")
def _index_on_save(sender: type[Model], instance: Lesson | Exercise, **kwargs: Any) -> None:
    using = instance._state.db or DEFAULT_DB_ALIAS
    # Rows loaded from fixtures (raw) are indexed by rebuild_search_index afterwards.
    if connections[using].vendor == "sqlite" and not kwargs.get("raw"):
        SQLiteBackend(using).index(instance)


@receiver(post_delete, sender=Lesson, dispatch_uid="search-unindex-lesson")
@receiver(post_delete, sender=Exercise, dispatch_uid="search-unindex-exercise")
def _remove_on_delete(sender: type[Model], instance: Lesson | Exercise, **kwargs: Any) -> None:
    using = instance._state.db or DEFAULT_DB_ALIAS
    if connections[using].vendor == "sqlite":
        SQLiteBackend(using).remove(_kind(instance), instance.pk)


# Helpers ---------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._in_permalink = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and "headerlink" in (dict(attrs).get("class") or "").split():
            self._in_permalink = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_permalink = False

    def handle_data(self, data: str) -> None:
        if not self._in_permalink:
            self.parts.append(data)


def _sql_html_to_text(field: str) -> Func:
    """Return a PostgreSQL expression for `html_to_text` of a column.

    Stored HTML comes from the sanitizer, whose output is regular: permalinks are
    `<a class="headerlink" …>#</a>` and text escapes only & < > and no-break spaces.
    """
    text: Func = Func(
        F(field),
        Value(r'<a class="headerlink"[^>]*>[^<]*</a>'),
        Value(""),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )
    text = Func(
        text,
        Value("<[^>]*>"),
        Value(""),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", " "), ("&amp;", "&")):
        text = Replace(text, Value(entity), Value(char), output_field=TextField())
    return text


def _lessons(**filters: Any) -> QuerySet:
    return (
        Lesson.objects.published()
        .filter(**filters)
        .select_related("chapter__course")
        .only(
            "id",
            "slug",
            "title",
            "chapter__slug",
            "chapter__course__slug",
            "chapter__course__title",
        )
    )


def _exercises(**filters: Any) -> QuerySet:
    return (
        Exercise.objects.published()
        .filter(**filters)
        .select_related("course", "lesson__chapter__course")
        .only(
            "id",
            "slug",
            "title",
            "course__slug",
            "course__title",
            "lesson__slug",
            "lesson__status",
            "lesson__chapter__slug",
            "lesson__chapter__course__slug",
        )
    )


def _kind(obj: Lesson | Exercise) -> str:
    return LESSON if isinstance(obj, Lesson) else EXERCISE


def _row(obj: Lesson | Exercise) -> list[Any]:
    """Return the index row of a lesson or exercise: kind, id, title, summary, body text."""
    body_html = obj.body_html if isinstance(obj, Lesson) else obj.instructions_html
    return [
        _kind(obj),
        obj.pk,
        _strip_sentinels(obj.title),
        _strip_sentinels(obj.summary),
        _strip_sentinels(html_to_text(body_html)),
    ]


def _strip_sentinels(text: str) -> str:
    return text.replace(START, "").replace(STOP, "")


def _pick_snippet(body: str, summary: str) -> str:
    """Prefer the snippet that shows a match; otherwise the summary, then the body."""
    for text in (body, summary):
        if START in text:
            return text
    return summary or body


def _to_hit(match: _Match) -> SearchHit:
    obj = match.obj
    if isinstance(obj, Lesson):
        url, course_title = obj.get_absolute_url(), obj.chapter.course.title
    else:
        url, course_title = _exercise_url(obj), obj.course.title
    return SearchHit(
        kind=match.kind,
        title=obj.title,
        url=url,
        snippet_html=mark_snippet(match.marked_snippet),
        rank=match.rank,
        course_title=course_title,
    )


def _exercise_url(exercise: Exercise) -> str:
    """Return where an exercise is shown: its lesson's practice section, else its course."""
    lesson = exercise.lesson
    if lesson is not None and lesson.status == Status.PUBLISHED:
        return f"{lesson.get_absolute_url()}#exercise-{exercise.slug}"
    return reverse("courses:course", kwargs={"course": exercise.course.slug})


def mark_snippet(marked: str) -> str:
    """Return a snippet as HTML: everything escaped, then START/STOP turned into <mark>."""
    escaped = html.escape(" ".join(marked.split()), quote=False)
    escaped = re.sub(f"{START}([^{START}{STOP}]*){STOP}", r"<mark>\1</mark>", escaped)
    # A sentinel without its partner (a snippet cut mid-match) is just dropped.
    return _strip_sentinels(escaped)
