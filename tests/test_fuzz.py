"""Hostile requests to every address of the site: none may end in a server error.

Every URL pattern of config.urls is requested, as an anonymous visitor, a learner and a
staff member, with bodies drawn by hypothesis: random bytes under any content type, broken
multipart, JSON with lone surrogates, deep nesting and huge numbers, wrong types, NUL and
bidi characters, oversized fields, and zips that are damaged, hostile or bombs. Besides
"no 500", each answer is checked for what it must not have done: a refused request changes
no table, only the views meant to create rows create them (and only for signed-in users),
a stored draft or submission always follows the submission rules, and nothing is graded
(grading messages are recorded, not sent).

A new address fails `test_every_address_is_fuzzed` until it is described in ENDPOINTS.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tokens import token_create
from config.celery import app as celery_app
from courses.models import Chapter
from exercises import api as sandbox_api
from exercises.models import Draft, Submission
from exercises.uploads import check_editor_files
from grading.interactive import LIVE_TASK, RUN_TASK
from lessons.models import Lesson
from sandbox.archive import pack_files, unpack_submission
from sandbox.policy import DEFAULT_POLICY, MiB
from tests.factories import (
    ChapterFactory,
    CourseFactory,
    ExerciseFactory,
    LessonFactory,
    StaffFactory,
    UserFactory,
)

ROLES = ("anonymous", "learner", "staff")
EXAMPLES = 10  # per address, each sent as all three roles
INPUT_EXAMPLES = 40  # the addresses that store what learners send
ADMIN_EXAMPLES = 3  # Django's own admin views: fewer, but every one of them

# Patterns without a name: admin's redirect from an object's address to its change page,
# and its catch-all that sends unknown admin addresses to the login or a 404.
UNNAMED = {"admin/<model>/<path:object_id>/", "admin/(?P<url>.*)$"}


# What the site holds while it is fuzzed ---------------------------------------------------


@dataclass
class World:
    learner: Any
    staff: Any
    secrets: dict[str, str]
    slug: str
    lesson: dict[str, str]
    course: str
    submission: int
    token: int
    object_ids: dict[str, str]  # admin model key ("exercises_submission") to a real pk


HOSTILE_LOG = "\x1b[2J\x1b[31mboom\x1b[0m \u202eexe.txt \x00 \x07 <script>alert(1)</script>"


def storable(text: str) -> str:
    """Return the text as this database can store it in a JSON column.

    The grader cleans every string it stores (sandbox.results.clean_text), but a row written
    by an older version may hold a NUL on SQLite; PostgreSQL refuses NUL in JSON outright.
    """
    return text.replace("\x00", "") if connection.vendor == "postgresql" else text


FUZZ_LESSON_BODY = """Some text.

```quiz
id: status-line
type: multiple
question: Which come before the body of an HTTP response?
options:
  - text: The status line
    correct: true
  - text: The headers
    correct: true
  - text: The trailers
```
"""


def build_world() -> World:
    learner, staff = UserFactory(), StaffFactory()
    course = CourseFactory()
    # With a quiz question, so fuzzed answers reach the code that checks them.
    lesson = LessonFactory(chapter=ChapterFactory(course=course), body=FUZZ_LESSON_BODY)
    exercise = ExerciseFactory(
        course=course,
        lesson=lesson,
        slug="hello",
        frameworks=["flask", "fastapi"],
        files={"starter/flask/app.py": "from flask import Flask\napp = Flask(__name__)\n"},
    )
    ExerciseFactory(course=course, slug="unpublished", status="draft")
    client = Client()
    client.force_login(learner)
    client.post(
        reverse("exercises:submit", kwargs={"exercise": exercise.slug}) + "?source=files",
        {"framework": "flask", "files": json.dumps({"app.py": "app = None\n"})},
    )
    submission = Submission.objects.get(learner=learner)
    hostile = storable(HOSTILE_LOG)
    Submission.objects.filter(pk=submission.pk).update(
        state=Submission.State.DONE,
        score=0,
        max_score=1,
        result={
            "status": "failed",
            "score": 0,
            "max_score": 1,
            "message": hostile,
            "log": hostile,
            "tests": [
                {"name": hostile, "status": "failed", "points": 0, "max_points": 1},
                {"name": "t", "status": "failed", "message": hostile, "max_points": 0},
            ],
        },
    )
    token, learner_secret = token_create(user=learner, name="laptop")
    _, staff_secret = token_create(user=staff, name="desk")
    object_ids = {
        f"{model._meta.app_label}_{model._meta.model_name}": str(pk)
        for model in admin.site._registry
        if (pk := model._default_manager.values_list("pk", flat=True).first()) is not None
    }
    # Staff may delete or change the user admin's addresses name: not one the test logs in as.
    object_ids["auth_user"] = str(UserFactory().pk)
    return World(
        learner=learner,
        staff=staff,
        secrets={"learner": learner_secret, "staff": staff_secret},
        slug=exercise.slug,
        lesson={
            "course": course.slug,
            "chapter": lesson.chapter.slug,
            "lesson": lesson.slug,
        },
        course=course.slug,
        submission=submission.pk,
        token=token.pk,
        object_ids=object_ids,
    )


# Hostile values ------------------------------------------------------------------------------

# Form values travel as UTF-8, which cannot carry a lone surrogate; JSON can, escaped.
FORM_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
SURROGATES = st.characters(categories=["Cs"])
HIDDEN = st.sampled_from(["\x00", "\x1b", "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff"])
ANY_TEXT = st.text(st.one_of(st.characters(exclude_categories=()), SURROGATES, HIDDEN), max_size=40)
HOSTILE_WORDS = st.sampled_from(
    [
        "",
        "\x00",
        "app\x00.py",
        "invoice\u202egpj.py",
        "\u2066x\u2069",
        "zero\u200bwidth",
        "\x1b[31mred",
        "../../etc/passwd",
        "/etc/passwd",
        "C:\\app.py",
        "-1",
        "0",
        "1e999",
        "NaN",
        "9" * 5000,
        "null",
        "[]",
        "{}",
        '{"app.py": "\\ud800"}',
        '["a.py", "\\udfff"]',
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\r\n\r\n",
        "t\u0435acher",
        "x" * 100_000,
        "flask",
        "true",
        "1",
    ]
)
FORM_VALUE = st.one_of(FORM_TEXT, HOSTILE_WORDS)
FILE_NAMES = st.one_of(
    ANY_TEXT,
    st.sampled_from(
        [
            "app.py",
            "templates/index.html",
            "invoice\u202egpj.py",
            "a\u2028b.py",
            "../evil.py",
            "/abs.py",
            "a\\b.py",
            "x" * 300,
            "app\x00.py",
            "\ud800.py",
            "",
            "./.",
            "a//b",
        ]
    ),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.one_of(ANY_TEXT, FILE_NAMES), children, max_size=4)
    ),
    max_leaves=12,
)


# Mostly names the rules accept, so what is inside the files gets checked too.
VALID_NAMES = st.sampled_from(["app.py", "templates/index.html", "main.py"])
NAMES = st.one_of(VALID_NAMES, VALID_NAMES, FILE_NAMES)
CONTENTS = st.one_of(
    st.sampled_from(["x = '\ud800'", "\udfff", "x\x00y", "\x1b[31m", "\u202e", "print(1)\n"]),
    ANY_TEXT,
)
FRAMEWORKS = st.sampled_from(["flask", "fastapi", "flask", "django"])
EDITOR_FILES = st.dictionaries(NAMES, CONTENTS, min_size=1, max_size=3)


def deep(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


DRAFTS = st.fixed_dictionaries({"framework": FRAMEWORKS, "files": EDITOR_FILES}).map(json.dumps)


def pick(*strategies: st.SearchStrategy) -> st.SearchStrategy:
    """Draw from one of `strategies`, each as likely (one_of favours the simpler ones)."""
    return st.sampled_from(strategies).flatmap(lambda strategy: strategy)


def draft_around(files: str) -> str:
    return f'{{"framework": "flask", "files": {files}}}'


JSON_TEXT = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.fixed_dictionaries(
        {
            "framework": st.one_of(FRAMEWORKS, FRAMEWORKS, FRAMEWORKS, JSON_VALUES),
            "files": st.one_of(
                EDITOR_FILES,
                EDITOR_FILES,
                EDITOR_FILES,
                st.dictionaries(FILE_NAMES, st.one_of(ANY_TEXT, JSON_VALUES), max_size=4),
                JSON_VALUES,
            ),
        }
    ).map(json.dumps),
    st.integers(20, 3000).map(deep),
    st.integers(20, 3000).map(lambda d: draft_around(deep(d))),
    st.integers(20, 3000).map(lambda d: draft_around(f'{{"app.py": {deep(d)}}}')),
    st.integers(300, 6000).map(lambda n: draft_around(f'{{"app.py": {"9" * n}}}')),
    st.lists(FILE_NAMES, max_size=4).map(json.dumps),
)


def zip_of(
    members: list[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return buffer.getvalue()


def symlink_member(name: str, target: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777) << 16
    return info, target


def zip_payloads() -> list[bytes]:
    valid = pack_files({"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
    bomb = zip_of([("app.py", b"x"), ("big.bin", b"\0" * (20 * MiB))])
    renamed = zip_of([("appX.py", b"x")]).replace(b"appX.py", b"app\0.py")
    return [
        valid,
        valid[: len(valid) // 2],
        valid[:-22] + b"PK\x05\x06" + b"\xff" * 18,
        b"PK\x03\x04" + b"\0" * 60,
        bomb,
        zip_of([(f"f{i}.py", b"") for i in range(2000)]),
        zip_of([("invoice\u202egpj.py", b"x")]),
        zip_of([("../../evil.py", b"x"), ("/abs.py", b"x")]),
        zip_of([("app.py", b"1"), ("app.py", b"2")]),
        zip_of([symlink_member("app.py", b"/etc/passwd")]),
        zip_of([("nested.zip", valid)]),
        renamed,
        zip_of([("app.py", b"x")], compression=zipfile.ZIP_BZIP2),
    ]


ZIPS = zip_payloads()
OVERSIZED = b"0" * (DEFAULT_POLICY.max_archive_bytes + 7 * MiB)
BROKEN_MULTIPART = [
    b'--b\r\nContent-Disposition: form-data; name="framework"\r\n\r\nflask',
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00.zip"\r\n\r\nPK',
    b"--b--\r\n",
    b"--x\r\n\r\n--x--",
    b'--b\r\nContent-Disposition: form-data; name="folder"; filename="a"\r\n'
    b"Content-Type: application/zip\r\nContent-Length: 999999999\r\n\r\nxx\r\n--b--\r\n",
]
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/zip",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "multipart/form-data",
        "multipart/form-data; boundary=" + "b" * 300,
        "text/plain; charset=utf-16",
        "text/plain; charset=nonsense",
    ]
)
FILES = st.builds(
    lambda name, data: SimpleUploadedFile(name, data, content_type="application/zip"),
    # Names Django's test client can send: it refuses one whose last part is empty, . or ..
    FORM_TEXT.filter(lambda n: os.path.basename(n.strip("\x00")) not in ("", ".", ".."))
    | st.just("app.zip"),
    st.one_of(st.sampled_from(ZIPS), st.binary(max_size=300)),
)
FIELD_VALUES = {
    "framework": st.one_of(FRAMEWORKS, FRAMEWORKS, FRAMEWORKS, FORM_VALUE),
    "files": pick(EDITOR_FILES.map(json.dumps), EDITOR_FILES.map(json.dumps), JSON_TEXT),
    "paths": st.one_of(st.lists(NAMES, max_size=3).map(json.dumps), JSON_TEXT, FORM_VALUE),
    "username": st.one_of(
        st.sampled_from(["ada", "t\u0435acher", "teacher0", "learner0", "ada\u202e"]), FORM_VALUE
    ),
    "password": st.one_of(st.just("correct horse battery"), FORM_VALUE),
    "password1": st.one_of(st.just("analytical engine 1843"), FORM_VALUE),
    "password2": st.one_of(st.just("analytical engine 1843"), FORM_VALUE),
    "next": st.one_of(
        st.sampled_from(["/", "https://evil.example/", "//evil.example", "javascript:alert(1)"]),
        FORM_VALUE,
    ),
    "content": st.one_of(
        st.sampled_from(["[" * 5000, "<script>alert(1)</script>", "![x](javascript:1)"]),
        FORM_VALUE,
    ),
}
QUERY_VALUES = {
    "source": st.one_of(st.sampled_from(["files", "archive", "folder", "files"]), FORM_VALUE),
    "framework": FIELD_VALUES["framework"],
    "wait": st.one_of(st.sampled_from(["0", "1", "yes", "maybe"]), FORM_VALUE),
}
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


# The addresses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """How to reach an address, and which fields its views read."""

    kwargs: Callable[[World], dict[str, Any]] = lambda world: {}
    fields: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    query: tuple[str, ...] = ()
    creates: tuple[str, ...] = ()  # tables a signed-in user's request may add rows to
    api: bool = False
    json: bool = False  # reads a JSON body
    examples: int = EXAMPLES


def exercise_kwargs(world: World) -> dict[str, Any]:
    return {"exercise": world.slug}


def submission_kwargs(world: World) -> dict[str, Any]:
    return {"pk": world.submission}


def live_session_kwargs(world: World) -> dict[str, Any]:
    return {"session": "0" * 32}  # no such live app: every role gets a refusal


def teach_exercise_kwargs(world: World) -> dict[str, Any]:
    return {"course": world.course, "exercise": world.slug}


EXERCISE_FORM_FIELDS = (
    "title",
    "slug",
    "summary",
    "lesson",
    "instructions",
    "frameworks",
    "points",
    "status",
    "files",
    "limit_timeout",
    "limit_memory_mb",
)


def teach_chapter_kwargs(world: World) -> dict[str, Any]:
    chapter = Chapter.objects.filter(course__slug=world.course).first()
    return {"course": world.course, "chapter": chapter.id}


def teach_lesson_kwargs(world: World) -> dict[str, Any]:
    lesson = Lesson.objects.get(chapter__course__slug=world.course, slug=world.lesson["lesson"])
    return {"course": world.course, "lesson": lesson.id}


ENDPOINTS: dict[str, Endpoint] = {
    "signup": Endpoint(
        fields=("username", "email", "password1", "password2", "next"), examples=INPUT_EXAMPLES
    ),
    "login": Endpoint(fields=("username", "password", "next")),
    "logout": Endpoint(fields=("next",)),
    "markdownx_upload": Endpoint(files=("image",)),
    "markdownx_markdownify": Endpoint(fields=("content",)),
    "api:submit": Endpoint(
        kwargs=lambda world: {"slug": world.slug},
        fields=("framework",),
        files=("file",),
        query=("framework", "wait"),
        creates=("exercises.submission", "exercises.submissionarchive"),
        api=True,
        examples=INPUT_EXAMPLES,
    ),
    "api:submission": Endpoint(kwargs=submission_kwargs, api=True),
    "courses:catalog": Endpoint(),
    "courses:dashboard": Endpoint(),
    "courses:course": Endpoint(kwargs=lambda world: {"course": world.course}),
    "lessons:course_image": Endpoint(
        kwargs=lambda world: {"course": world.course, "name": "a.png"}
    ),
    "teach:home": Endpoint(),
    "teach:course": Endpoint(kwargs=lambda world: {"course": world.course}),
    "teach:image_upload": Endpoint(
        kwargs=lambda world: {"course": world.course},
        fields=("alt",),
        files=("image",),
        creates=("courses.courseimage",),
    ),
    "courses:lesson_read": Endpoint(
        kwargs=lambda world: world.lesson, creates=("progress.lessonprogress",)
    ),
    "courses:lesson_unread": Endpoint(
        kwargs=lambda world: world.lesson, creates=("progress.lessonprogress",)
    ),
    "courses:quiz_answer": Endpoint(
        kwargs=lambda world: {**world.lesson, "question": "status-line"},
        fields=("answer",),
        creates=("progress.quizanswer",),
        examples=INPUT_EXAMPLES,
    ),
    "playground:run_start": Endpoint(fields=("lesson", "block", "code", "requests")),
    "playground:run_result": Endpoint(kwargs=lambda world: {"run_id": "0123abcd"}),
    "accounts:tokens": Endpoint(fields=("name",), creates=("accounts.apitoken",)),
    "accounts:token_revoke": Endpoint(
        kwargs=lambda world: {"pk": world.token}, creates=("accounts.apitoken",)
    ),
    "exercises:exercise": Endpoint(kwargs=exercise_kwargs, query=("framework",)),
    "exercises:draft_save": Endpoint(
        kwargs=exercise_kwargs, creates=("exercises.draft",), json=True, examples=INPUT_EXAMPLES
    ),
    "exercises:submit": Endpoint(
        kwargs=exercise_kwargs,
        fields=("framework", "files", "paths"),
        files=("archive", "folder"),
        query=("source",),
        creates=("exercises.submission", "exercises.submissionarchive"),
        examples=INPUT_EXAMPLES,
    ),
    "exercises:starter_zip": Endpoint(
        kwargs=lambda world: {"exercise": world.slug, "framework": "flask"}
    ),
    "exercises:submission": Endpoint(kwargs=submission_kwargs),
    "exercises:submission_status": Endpoint(kwargs=submission_kwargs, query=("where", "seen")),
    "exercises:submission_download": Endpoint(kwargs=submission_kwargs),
    "playground:live_start": Endpoint(kwargs=exercise_kwargs, fields=("framework", "files")),
    "playground:live_state": Endpoint(kwargs=live_session_kwargs),
    "playground:live_request": Endpoint(
        kwargs=live_session_kwargs, fields=("method", "path", "headers", "body")
    ),
    "playground:live_routes": Endpoint(kwargs=live_session_kwargs),
    "playground:live_stop": Endpoint(kwargs=live_session_kwargs),
    "search:search": Endpoint(query=("q",)),
    "lessons:lesson": Endpoint(kwargs=lambda world: world.lesson),
    "lessons:lesson_preview": Endpoint(kwargs=lambda world: world.lesson),
    "teach:lesson_edit": Endpoint(
        kwargs=teach_lesson_kwargs,
        fields=("title", "summary", "body", "loaded", "action"),
        examples=INPUT_EXAMPLES,
    ),
    "teach:lesson_preview": Endpoint(
        kwargs=teach_lesson_kwargs, fields=("title", "summary", "body")
    ),
    "teach:lesson_learner_preview": Endpoint(
        kwargs=teach_lesson_kwargs, fields=("title", "summary", "body")
    ),
    "teach:exercise_list": Endpoint(kwargs=lambda world: {"course": world.course}),
    "teach:exercise_new": Endpoint(
        kwargs=lambda world: {"course": world.course},
        fields=EXERCISE_FORM_FIELDS,
        files=("folder_zip",),
        creates=("exercises.exercise", "exercises.exerciseversion"),
        examples=INPUT_EXAMPLES,
    ),
    "teach:exercise_preview": Endpoint(
        kwargs=lambda world: {"course": world.course}, fields=("instructions",)
    ),
    "teach:exercise_edit": Endpoint(
        kwargs=teach_exercise_kwargs,
        fields=EXERCISE_FORM_FIELDS,
        files=("folder_zip",),
        creates=("exercises.exerciseversion",),
        examples=INPUT_EXAMPLES,
    ),
    "teach:exercise_validate": Endpoint(
        kwargs=teach_exercise_kwargs, creates=("exercises.exercisevalidation",)
    ),
    "teach:exercise_validation": Endpoint(kwargs=teach_exercise_kwargs),
    "teach:exercise_publish": Endpoint(kwargs=teach_exercise_kwargs),
    "teach:ops": Endpoint(),
    "teach:gradebook": Endpoint(
        kwargs=lambda world: {"course": world.course},
        query=("exercise", "not_passed", "drafts"),
    ),
    "teach:gradebook_csv": Endpoint(
        kwargs=lambda world: {"course": world.course}, query=("drafts",)
    ),
    "teach:learner": Endpoint(
        kwargs=lambda world: {"course": world.course, "username": world.learner.username}
    ),
    "teach:exercise_analytics": Endpoint(kwargs=teach_exercise_kwargs),
    "teach:chapter_create": Endpoint(
        kwargs=lambda world: {"course": world.course},
        fields=("title",),
        creates=("courses.chapter",),
    ),
    "teach:chapter_move": Endpoint(
        kwargs=teach_chapter_kwargs, fields=("direction",), creates=("courses.chapter",)
    ),
    "teach:lesson_create": Endpoint(
        kwargs=lambda world: {"course": world.course},
        fields=("chapter", "title"),
        creates=("lessons.lesson",),
    ),
    "teach:lesson_move": Endpoint(kwargs=teach_lesson_kwargs, fields=("direction",)),
    "teach:lesson_status": Endpoint(kwargs=teach_lesson_kwargs, fields=("status",)),
    "teach:enrolment": Endpoint(
        kwargs=lambda world: {"course": world.course}, fields=("enrolment",)
    ),
    "teach:invitation_rotate": Endpoint(kwargs=lambda world: {"course": world.course}),
    "teach:roster_remove": Endpoint(
        kwargs=lambda world: {"course": world.course, "learner": world.learner.pk},
        creates=("courses.enrollment",),  # removes the learner from the roster
    ),
    "teach:staff_add": Endpoint(
        kwargs=lambda world: {"course": world.course},
        fields=("username", "role"),
        creates=("courses.coursestaff",),
    ),
    "teach:staff_remove": Endpoint(
        kwargs=lambda world: {"course": world.course, "member": 1},
        creates=("courses.coursestaff",),
    ),
    "courses:join": Endpoint(
        kwargs=lambda world: {"course": world.course}, creates=("courses.enrollment",)
    ),
    "courses:join_invite": Endpoint(
        kwargs=lambda world: {"course": world.course, "code": "not-the-code"},
        creates=("courses.enrollment",),
    ),
    "teach:regrade_new": Endpoint(
        kwargs=teach_exercise_kwargs,
        fields=("submission", "learner", "every", "lower_best"),
        query=("submission", "learner"),
        creates=("exercises.regrade", "exercises.regradeitem"),
    ),
    "teach:regrade": Endpoint(kwargs=lambda world: {"course": world.course, "pk": 1}),
    "teach:regrade_progress": Endpoint(kwargs=lambda world: {"course": world.course, "pk": 1}),
    "teach:deadline": Endpoint(
        kwargs=teach_exercise_kwargs,
        fields=("deadline", "late_policy", "late_penalty"),
        examples=INPUT_EXAMPLES,
    ),
    "teach:extension_save": Endpoint(
        kwargs=teach_exercise_kwargs,
        fields=("prefix", "username", "until"),
        creates=("exercises.deadlineextension",),
    ),
    "teach:extension_remove": Endpoint(
        kwargs=lambda world: {"course": world.course, "exercise": world.slug, "pk": 1},
        creates=("exercises.deadlineextension",),
    ),
}

ADMIN_FIELDS = (
    "action",
    "_selected_action",
    "select_across",
    "index",
    "post",
    "_save",
    "username",
    "password",
    "password1",
    "password2",
    "name",
    "slug",
    "title",
    "body",
    "q",
)
ADMIN_PARAMETERS = {"object_id", "app_label", "content_type_id", "id"}


def admin_endpoint(name: str, parameters: set[str]) -> Endpoint:
    """Describe an address of Django's admin: its object ids are real ones or junk."""
    model_key = name.removeprefix("admin:").rsplit("_", 1)[0]

    def kwargs(world: World) -> dict[str, Any]:
        object_id = world.object_ids.get(model_key, "1")
        values = {
            "object_id": object_id,
            "id": object_id,
            "content_type_id": "1",
            "app_label": "exercises",
        }
        return {p: values[p] for p in parameters}

    return Endpoint(
        kwargs=kwargs, fields=ADMIN_FIELDS, query=("q", "o", "p", "_changelist_filters")
    )


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """Yield (name, route, parameters) for every pattern of the URL conf."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            parameters = set(pattern.pattern.converters) | set(pattern.pattern.regex.groupindex)
            yield name, prefix + str(pattern.pattern), parameters


def all_endpoints() -> dict[str, Endpoint]:
    endpoints = {}
    for name, _, parameters in url_patterns():
        if name is None:
            continue
        if name.startswith("admin:") and parameters <= ADMIN_PARAMETERS:
            endpoints[name] = admin_endpoint(name, parameters)
        elif name in ENDPOINTS:
            endpoints[name] = ENDPOINTS[name]
    return endpoints


def test_every_address_is_fuzzed():
    endpoints = all_endpoints()
    missing = []
    for name, route, _ in url_patterns():
        if name is None:
            # Admin's per-model patterns repeat with the model in the route.
            shape = route.split("/")
            generic = "/".join([shape[0], "<model>", *shape[3:]]) if len(shape) > 3 else route
            if route not in UNNAMED and generic not in UNNAMED:
                missing.append(route)
        elif name not in endpoints:
            missing.append(name)
    assert not missing, f"Describe these addresses in tests/test_fuzz.py ENDPOINTS: {missing}"
    assert not set(ENDPOINTS) - set(endpoints), "ENDPOINTS names an address that is gone"


# Requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """A raw body; shown by its size and start, so a failing example stays readable."""

    data: bytes

    def __repr__(self) -> str:
        return f"Payload({len(self.data)} bytes: {self.data[:60]!r}...)"


@st.composite
def requests(draw, endpoint: Endpoint, role: str, world: World) -> dict[str, Any]:
    """Draw one request to an address: method, query, body and headers."""
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET"]))
    query = {
        key: draw(QUERY_VALUES.get(key, FORM_VALUE))
        for key in endpoint.query
        if draw(st.integers(0, 3))
    }
    query.update(draw(st.dictionaries(FORM_TEXT, FORM_VALUE, max_size=2)))
    headers = {}
    if draw(st.booleans()):
        headers["HTTP_HX_REQUEST"] = "true"
    if endpoint.api:
        secret = world.secrets.get(role, "")
        headers["HTTP_AUTHORIZATION"] = draw(
            st.one_of(
                st.just(f"Bearer {secret}"),
                st.just(f"Bearer {secret}"),
                HEADER_TEXT,
                HEADER_TEXT.map(lambda t: f"Bearer {t}"),
            )
        )
    request = {"method": method, "query": query, "headers": headers}
    if method == "GET":
        return request

    kinds = ["form", "form", "json", "raw", "multipart", "big"]
    kind = draw(st.sampled_from(kinds + ["json"] * 6 if endpoint.json else kinds))
    if kind == "form":
        # Mostly the fields the view reads, each usually with a value of the right shape.
        data: dict[str, Any] = {
            field: draw(FIELD_VALUES.get(field, FORM_VALUE))
            for field in endpoint.fields
            if draw(st.integers(0, 3))
        }
        data.update(draw(st.dictionaries(FORM_TEXT, FORM_VALUE, max_size=2)))
        for name in endpoint.files:
            if draw(st.booleans()):
                data[name] = draw(st.lists(FILES, min_size=1, max_size=3))
        if data.get("folder") and draw(st.booleans()):
            data["paths"] = json.dumps(draw(st.lists(NAMES, min_size=len(data["folder"]))))
        request["data"] = data
    elif kind == "json":
        request["body"] = Payload(
            draw(pick(DRAFTS, JSON_TEXT) if endpoint.json else JSON_TEXT).encode()
        )
        request["content_type"] = "application/json"
    elif kind == "raw":
        raw = st.one_of(st.binary(max_size=2000), st.sampled_from(ZIPS), JSON_TEXT.map(str.encode))
        request["body"] = Payload(draw(raw))
        request["content_type"] = draw(CONTENT_TYPES)
    elif kind == "multipart":
        broken = st.one_of(st.sampled_from(BROKEN_MULTIPART), st.binary(max_size=500))
        request["body"] = Payload(draw(broken))
        request["content_type"] = draw(CONTENT_TYPES)
    else:
        request["body"] = Payload(OVERSIZED)
        request["content_type"] = draw(CONTENT_TYPES)
    return request


def send(client: Client, path: str, request: dict[str, Any]):
    headers = request["headers"]
    if request["method"] == "GET":
        return client.get(path, request["query"], **headers)
    if request["query"]:
        path = f"{path}?{urlencode(request['query'])}"
    if "data" in request:
        return client.post(path, request["data"], **headers)
    # generic() sends the bytes as they are, whatever charset the content type claims.
    body = request["body"].data
    return client.generic("POST", path, body, content_type=request["content_type"], **headers)


# What a request may change -------------------------------------------------------------------


def table_counts() -> dict[str, int]:
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label_lower not in {"sessions.session", "admin.logentry"}
    }


def check_effects(name: str, endpoint: Endpoint, role: str, status: int, before, after) -> None:
    changed = {label for label in after if after[label] != before[label]}
    if status >= 400:
        allowed: set[str] = set()
    elif role == "staff" and name.startswith("admin:"):
        allowed = set(after)
    elif role == "anonymous":
        allowed = {"auth.user"} if name == "signup" else set()
    else:
        allowed = set(endpoint.creates)
    assert changed <= allowed, f"{role} {name} answered {status} and changed {changed}"


def check_stored_data(since_submission: int) -> None:
    """Every draft and new submission follows the rules the grader applies."""
    for draft in Draft.objects.all():
        check_editor_files(draft.files, policy=DEFAULT_POLICY)
        json.dumps(draft.files).encode()
    for submission in Submission.objects.filter(pk__gt=since_submission):
        assert submission.state == Submission.State.QUEUED
        with tempfile.TemporaryDirectory() as scratch:
            unpack_submission(bytes(submission.archive), Path(scratch), policy=DEFAULT_POLICY)


# The fuzz test -------------------------------------------------------------------------------


@pytest.fixture
def world(db, monkeypatch, settings, tmp_path, sent_gradings, celery_broker) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    # celery_broker: the playground's addresses (runs, the live console) read and write the
    # broker (a real, private Redis).
    # A request the fuzzer gets right may start a lesson run or a live app: its message is
    # dropped, not sent (no host runs here). Grading messages still go to sent_gradings.
    catch_grading = celery_app.send_task

    def send_task(name, args=(), kwargs=None, **options):
        if name in (RUN_TASK, LIVE_TASK):
            return None
        return catch_grading(name, args, kwargs, **options)

    monkeypatch.setattr(celery_app, "send_task", send_task)
    # Sign-ups and logins the fuzzer gets right would each spend a real password hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    # A waiting API request looks once: nothing grades here, so it would wait its whole limit.
    monkeypatch.setattr(
        sandbox_api,
        "wait_until_done",
        lambda pk, *, timeout: Submission.objects.select_related("exercise").get(pk=pk),
    )
    built = build_world()
    yield built
    assert sent_gradings == [], "a grading message was sent"
    cache.clear()


@pytest.mark.parametrize("name", sorted(all_endpoints()))
def test_no_request_ends_in_a_server_error(world: World, name: str):
    endpoint = all_endpoints()[name]
    path = reverse(name, kwargs=endpoint.kwargs(world))
    clients = {role: Client(raise_request_exception=False) for role in ROLES}
    users = {"learner": world.learner, "staff": world.staff}
    first_new = Submission.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    @settings(
        max_examples=ADMIN_EXAMPLES if name.startswith("admin:") else endpoint.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data):
        for role in ROLES:
            request = data.draw(requests(endpoint, role, world), label=role)
            client = clients[role]
            if role in users:
                client.force_login(users[role])  # a fuzzed logout must not change the role
            before = table_counts()
            response = send(client, path, request)
            detail = f"{role} {request['method']} {path}"
            assert response.status_code < 500, f"{detail} answered {response.status_code}" + (
                f": {response.exc_info[1]!r}" if getattr(response, "exc_info", None) else ""
            )
            check_effects(name, endpoint, role, response.status_code, before, table_counts())
            check_stored_data(first_new)

    fuzz()
