from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import Status
from exercises import uploads as sandbox_uploads
from exercises import views as sandbox_views
from exercises.forms import SubmissionForm
from exercises.models import Draft, Submission, Verdict
from sandbox.archive import NOT_A_ZIP, pack_files
from sandbox.exchanges import exchange
from tests.factories import ExerciseFactory, LessonFactory, SubmissionFactory, UserFactory

FILES = {
    "tests/test_hello.py": "def test_it(client): ...\n",
    "starter/flask/app.py": "from flask import Flask\napp = Flask(__name__)\n",
    "starter/fastapi/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
}
APP = {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def exercise(db):
    lesson = LessonFactory(title="What a web framework does")
    return ExerciseFactory(
        course=lesson.chapter.course,
        lesson=lesson,
        slug="hello",
        title="Hello, web",
        summary="Answer your first requests.",
        frameworks=["flask", "fastapi"],
        points=3,
        files=FILES,
        instructions="# Hello, web\n\nWrite a tiny app that answers `GET /`.\n",
    )


def exercise_url(slug: str = "hello") -> str:
    return reverse("exercises:exercise", kwargs={"exercise": slug})


def submit_url(source: str = "files", slug: str = "hello") -> str:
    return reverse("exercises:submit", kwargs={"exercise": slug}) + f"?source={source}"


def make_submission(learner, exercise, *, result=None, state=None, minutes=0) -> Submission:
    submission = SubmissionFactory(
        learner=learner,
        exercise=exercise,
        archive=pack_files(APP),
        state=state or (Submission.State.DONE if result else Submission.State.QUEUED),
        result=result,
        verdict=(result or {}).get("status", ""),
        score=(result or {}).get("score"),
        max_score=(result or {}).get("max_score"),
    )
    moment = timezone.now() + timedelta(minutes=minutes)
    Submission.objects.filter(pk=submission.pk).update(created=moment, queued_at=moment)
    submission.refresh_from_db()
    return submission


def result(status: str, *, score: int = 0, tests=None, message: str = "", log: str = "") -> dict:
    tests = tests or []
    return {
        "status": status,
        "score": score,
        "max_score": sum(t["max_points"] for t in tests) or 3,
        "message": message,
        "tests": tests,
        "log": log,
        "timings": {},
    }


def outcome(name, status, points=1, message="") -> dict:
    return {
        "name": name,
        "status": status,
        "points": points if status == "passed" else 0,
        "max_points": points,
        "message": message,
    }


def editor_data(response) -> dict:
    match = re.search(
        r'<script id="editor-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.DOTALL,
    )
    assert match, "no editor data in the page"
    return json.loads(match.group(1))


def zip_names(data: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())


# The exercise page


def test_anonymous_visitors_read_the_instructions_and_are_asked_to_log_in(client, exercise):
    response = client.get(exercise_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Hello, web" in html
    assert "Write a tiny app that answers <code>GET /</code>." in html
    assert f'href="/accounts/login/?next={exercise_url()}"' in html
    assert "Log in to solve this exercise" in html
    assert 'id="editor-data"' not in html
    assert 'id="editor"' not in html
    assert "X-CSRFToken" not in html


def test_the_readmes_title_is_not_repeated_under_the_pages_title(client, exercise):
    html = client.get(exercise_url()).content.decode()

    assert html.count("Hello, web</h1>") + html.count('Hello, web<a class="headerlink"') == 1


def test_the_page_links_its_lesson_and_course_and_lists_the_sandbox(client, exercise):
    html = client.get(exercise_url()).content.decode()

    assert f'href="{exercise.lesson.get_absolute_url()}">What a web framework does</a>' in html
    assert exercise.course.title in html
    assert "<code>flask</code>" in html  # a package of the runner image
    assert "<dt>Memory</dt><dd>256 MiB (no swap)</dd>" in html
    assert "Solve it with Flask or FastAPI." in html


def test_draft_exercises_are_hidden_from_learners_and_shown_to_staff(
    client, learner, staff, exercise
):
    exercise.status = Status.DRAFT
    exercise.save()

    assert client.get(exercise_url()).status_code == 404
    client.force_login(learner)
    assert client.get(exercise_url()).status_code == 404
    client.force_login(staff)
    response = client.get(exercise_url())
    assert response.status_code == 200
    assert 'class="badge badge--draft">Draft' in response.content.decode()


def test_an_unknown_exercise_is_404(learner_client, db):
    assert learner_client.get(exercise_url("nope")).status_code == 404


def test_a_learner_gets_the_editor_with_the_starter_files(learner_client, exercise):
    response = learner_client.get(exercise_url())

    data = editor_data(response)
    assert data["framework"] == "flask"
    assert data["chosen"] is False
    assert data["files"]["flask"] == {"app.py": FILES["starter/flask/app.py"]}
    assert data["starters"]["fastapi"] == {"main.py": FILES["starter/fastapi/main.py"]}
    assert data["saveUrl"] == reverse("exercises:draft_save", kwargs={"exercise": "hello"})
    html = response.content.decode()
    assert '<meta name="csp-nonce" content="' in html
    assert "nonce-" in response["Content-Security-Policy"]
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_the_editor_opens_the_file_the_exercise_names_else_the_first_with_a_todo(
    learner_client, exercise
):
    exercise.files = {
        **FILES,
        "starter/flask/models.py": "# TODO: the Note model\n",
        "starter/flask/views.py": "# TODO: the views\n",
    }
    exercise.open_first = {"flask": "views.py"}
    exercise.save()

    data = editor_data(learner_client.get(exercise_url()))

    # Named for Flask; FastAPI names none and has no TODO, so its entry point opens.
    assert data["open"] == {"flask": "views.py", "fastapi": "main.py"}

    exercise.open_first = {}
    exercise.save()
    assert editor_data(learner_client.get(exercise_url()))["open"]["flask"] == "models.py"


def test_the_picker_offers_any_wsgi_or_asgi_app_saying_what_to_submit(learner_client, exercise):
    exercise.frameworks = ["flask", "wsgi", "asgi"]
    exercise.files = {
        **FILES,
        "starter/wsgi/app.py": "from bottle import Bottle\napp = Bottle()\n",
        "starter/asgi/app.py": "async def app(scope, receive, send): ...\n",
    }
    exercise.save()

    response = learner_client.get(exercise_url() + "?framework=wsgi")

    html = response.content.decode()
    assert "Solve it with Flask, Any WSGI app or Any ASGI app." in html
    assert 'value="wsgi" data-label="Any WSGI app" checked>' in html
    assert 'value="asgi" data-label="Any ASGI app">' in html
    notes = dict(re.findall(r'data-framework-note="(\w+)"( hidden)?>', html, flags=re.ASCII))
    assert notes == {"flask": " hidden", "wsgi": "", "asgi": " hidden"}
    assert (
        '<p class="framework-picker__note" data-framework-note="wsgi">app.py defining a WSGI '
        "callable named app: a Bottle, Pyramid or Flask app, or a plain function "
        "app(environ, start_response). Served by gunicorn.</p>"
    ) in html
    data = editor_data(response)
    assert data["framework"] == "wsgi"
    assert data["files"]["asgi"] == {"app.py": "async def app(scope, receive, send): ...\n"}
    assert {"key": "asgi", "label": "Any ASGI app"} in data["frameworks"]


def test_a_learners_draft_is_loaded_instead_of_the_starter(learner_client, learner, exercise):
    Draft.objects.create(
        learner=learner, exercise=exercise, framework="fastapi", files={"main.py": "mine"}
    )

    data = editor_data(learner_client.get(exercise_url()))

    assert data["framework"] == "fastapi"
    assert data["chosen"] is True
    assert data["files"]["fastapi"] == {"main.py": "mine"}
    assert "fastapi" in data["saved"]


def test_another_learners_draft_is_never_loaded(learner_client, exercise):
    Draft.objects.create(
        learner=UserFactory(), exercise=exercise, framework="flask", files={"app.py": "theirs"}
    )

    data = editor_data(learner_client.get(exercise_url()))

    assert data["files"]["flask"] == {"app.py": FILES["starter/flask/app.py"]}
    assert data["saved"] == {}


def test_the_history_numbers_gradable_attempts_and_marks_the_best(
    learner_client, learner, exercise
):
    make_submission(learner, exercise, result=result("failed", score=1), minutes=0)
    make_submission(learner, exercise, result=result("error"), minutes=1)
    best = make_submission(learner, exercise, result=result("passed", score=3), minutes=2)

    html = learner_client.get(exercise_url()).content.decode()

    assert "Your best score counts: <strong>3 / 3</strong> (attempt 2)." in html
    assert f'<a href="/submissions/{best.pk}/">Attempt 2</a>' in html
    assert ">Not counted</a>" in html
    assert '<tr class="is-best">' in html
    assert html.count('class="badge badge--best"') == 1


# Drafts


def draft_url() -> str:
    return reverse("exercises:draft_save", kwargs={"exercise": "hello"})


def post_draft(client, body) -> object:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(draft_url(), data=data, content_type="application/json")


def test_a_draft_is_saved_and_its_time_returned(learner_client, learner, exercise):
    response = post_draft(learner_client, {"framework": "flask", "files": {"app.py": "v1"}})

    assert response.status_code == 200
    assert response.json()["framework"] == "flask"
    assert Draft.objects.get(learner=learner).files == {"app.py": "v1"}
    assert response.json()["saved"] == Draft.objects.get().updated.isoformat()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{oops", "must be sent as a JSON object"),
        ({"framework": "flask", "files": {"../x.py": ""}}, "Not saved: The submission contains"),
        ({"framework": "flask", "files": {f"f{i}.py": "" for i in range(201)}}, "201 files"),
        ({"framework": "flask", "files": {"a.py": "x" * (2 * 1024 * 1024 + 1)}}, "2 MiB"),
        ({"framework": "django", "files": {}}, "Framework: Select a valid choice"),
    ],
)
def test_a_bad_draft_gets_a_clear_json_error_and_the_old_draft_is_kept(
    learner_client, learner, exercise, body, words
):
    post_draft(learner_client, {"framework": "flask", "files": {"app.py": "kept"}})

    response = post_draft(learner_client, body)

    assert response.status_code == 400
    assert words in response.json()["error"]
    assert Draft.objects.get(learner=learner).files == {"app.py": "kept"}


def test_a_draft_too_large_to_read_is_refused(learner_client, exercise, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = post_draft(learner_client, {"framework": "flask", "files": {"a.py": "x" * 2000}})

    assert response.status_code == 413
    assert "too large" in response.json()["error"]


def test_anonymous_visitors_cannot_save_drafts(client, exercise):
    response = post_draft(client, {"framework": "flask", "files": {}})

    assert response.status_code == 403
    assert "not logged in" in response.json()["error"]
    assert not Draft.objects.exists()


def test_saving_a_draft_needs_the_csrf_token(learner, exercise):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)

    response = post_draft(client, {"framework": "flask", "files": {}})

    assert response.status_code == 403
    assert not Draft.objects.exists()


def test_drafts_cannot_be_read_with_get(learner_client, exercise):
    assert learner_client.get(draft_url()).status_code == 405


# Starter downloads


def test_the_starter_zip_is_a_download_of_the_frameworks_files(client, exercise):
    url = reverse("exercises:starter_zip", kwargs={"exercise": "hello", "framework": "fastapi"})

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="hello-fastapi-starter.zip"'
    assert zip_names(response.content) == ["hello-fastapi/main.py"]


def test_a_starter_for_a_framework_not_offered_is_404(client, exercise):
    url = reverse("exercises:starter_zip", kwargs={"exercise": "hello", "framework": "django"})

    assert client.get(url).status_code == 404


# Submitting


def test_submitting_the_editors_files_creates_a_submission_and_shows_it(
    learner_client, learner, exercise, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        response = learner_client.post(
            submit_url(), {"framework": "flask", "files": json.dumps(APP)}
        )

    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exercises:submission", kwargs={"pk": submission.pk})
    assert (submission.learner, submission.framework) == (learner, "flask")
    archive = zipfile.ZipFile(io.BytesIO(bytes(submission.archive)))
    assert archive.read("app.py").decode() == APP["app.py"]
    assert len(enqueued) == 1


def test_an_htmx_submit_swaps_the_live_status_into_the_result_panel(learner_client, exercise):
    response = learner_client.post(
        submit_url(), {"framework": "flask", "files": json.dumps(APP)}, **HTMX
    )

    submission = Submission.objects.get()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#latest"
    assert response["HX-Reswap"].startswith("innerHTML")
    html = response.content.decode()
    status_url = reverse("exercises:submission_status", kwargs={"pk": submission.pk})
    assert f'hx-get="{status_url}?where=exercise' in html
    assert 'hx-trigger="every 500ms"' in html
    assert 'id="attempts" class="attempts" hx-swap-oob="true"' in html
    assert "is still being graded" in html  # the submit bar, disabled until it is done
    assert f"Submission #{submission.pk} received." in html


def test_an_uploaded_zip_is_submitted_as_is(learner_client, exercise):
    data = pack_files({"proj/app.py": APP["app.py"]})
    upload = io.BytesIO(data)
    upload.name = "proj.zip"

    response = learner_client.post(
        submit_url("archive"), {"framework": "fastapi", "archive": upload}
    )

    submission = Submission.objects.get()
    assert response.status_code == 302
    assert bytes(submission.archive) == data
    assert submission.framework == "fastapi"


def test_an_uploaded_folder_is_packed_with_its_paths(learner_client, exercise):
    app, page = io.BytesIO(b"x = 1\n"), io.BytesIO(b"<p>hi</p>")
    app.name, page.name = "app.py", "index.html"

    response = learner_client.post(
        submit_url("folder"),
        {
            "framework": "flask",
            "folder": [app, page],
            "paths": json.dumps(["proj/app.py", "proj/templates/index.html"]),
        },
    )

    assert response.status_code == 302
    archive = bytes(Submission.objects.get().archive)
    assert zip_names(archive) == ["proj/app.py", "proj/templates/index.html"]


def test_uploading_junk_shows_the_reason_keeps_the_framework_and_creates_nothing(
    learner_client, exercise
):
    junk = io.BytesIO(b"\x00\x01 definitely not a zip")
    junk.name = "solution.zip"

    response = learner_client.post(submit_url("archive"), {"framework": "fastapi", "archive": junk})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<p class="message message--error form-error" role="alert">{NOT_A_ZIP}</p>' in html
    assert '<option value="fastapi" selected>FastAPI</option>' in html
    assert editor_data(response)["framework"] == "fastapi"
    assert not Submission.objects.exists()


def test_an_htmx_upload_of_junk_puts_the_reason_next_to_its_form(learner_client, exercise):
    junk = io.BytesIO(b"junk")
    junk.name = "solution.zip"

    response = learner_client.post(
        submit_url("archive"), {"framework": "flask", "archive": junk}, **HTMX
    )

    assert response.status_code == 200  # htmx swaps only successful answers
    assert response["HX-Retarget"] == "#archive-errors"
    assert NOT_A_ZIP in response.content.decode()
    assert not Submission.objects.exists()


def test_a_request_too_large_is_refused_before_it_is_read(learner_client, exercise):
    response = learner_client.post(
        submit_url("archive"),
        {"framework": "flask"},
        CONTENT_LENGTH=str(7 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert "The upload is too large to be accepted (7.0 MiB)" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_folder_with_too_many_files_asks_for_a_zip(learner_client, exercise, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    uploads = []
    for i in range(3):
        f = io.BytesIO(b"x")
        f.name = f"f{i}.py"
        uploads.append(f)

    response = learner_client.post(
        submit_url("folder"), {"framework": "flask", "folder": uploads, "paths": "[]"}
    )

    assert response.status_code == 413
    assert "Zip the folder and upload the zip instead." in response.content.decode()


def test_submitting_needs_the_csrf_token(learner, exercise):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)

    response = client.post(submit_url(), {"framework": "flask", "files": json.dumps(APP)})

    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_anonymous_visitors_cannot_submit(client, exercise):
    response = client.post(submit_url(), {"framework": "flask", "files": json.dumps(APP)})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Submission.objects.exists()


def test_a_second_submission_waits_for_the_first(learner_client, exercise):
    learner_client.post(submit_url(), {"framework": "flask", "files": json.dumps(APP)})

    response = learner_client.post(submit_url(), {"framework": "flask", "files": json.dumps(APP)})

    assert response.status_code == 429
    assert "is still being graded" in response.content.decode()
    assert Submission.objects.count() == 1


def test_the_rate_limit_shows_when_the_next_submission_is_possible(learner_client, exercise):
    for _ in range(3):
        learner_client.post(submit_url(), {"framework": "flask", "files": json.dumps(APP)})
        Submission.objects.update(state=Submission.State.DONE, result=result("failed"))

    response = learner_client.post(submit_url(), {"framework": "flask", "files": json.dumps(APP)})

    assert response.status_code == 429
    assert response["Retry-After"] == "20"
    html = response.content.decode()
    assert "Next submission possible in <span data-countdown-value>20</span> s." in html
    assert re.search(r"data-submit-button\s+disabled>Submit for grading", html)
    assert Submission.objects.count() == 3


@pytest.mark.parametrize("source", ["files", "archive", "folder"])
def test_the_rate_limit_is_checked_before_an_upload_is_read_or_unpacked(
    learner_client, learner, exercise, monkeypatch, source
):
    make_submission(learner, exercise)  # still being graded
    unpacked: list[bytes] = []
    monkeypatch.setattr(
        sandbox_uploads, "unpack_submission", lambda data, *a, **k: unpacked.append(data)
    )

    class Unread(SubmissionForm):
        def __init__(self, *args, **kwargs):
            pytest.fail("the submitted form was read")

    monkeypatch.setattr(sandbox_views, "SubmissionForm", Unread)
    upload = {
        "files": {"files": json.dumps(APP)},
        "archive": {"archive": SimpleUploadedFile("app.zip", pack_files(APP))},
        "folder": {"folder": [SimpleUploadedFile("app.py", b"x = 1\n")], "paths": '["app.py"]'},
    }[source]

    response = learner_client.post(submit_url(source), {"framework": "flask", **upload})

    assert response.status_code == 429
    assert "is still being graded" in response.content.decode()
    assert unpacked == []
    assert Submission.objects.count() == 1


def test_the_exercise_page_shows_the_wait_before_the_button_is_pressed(learner_client, exercise):
    for _ in range(3):
        learner_client.post(submit_url(), {"framework": "flask", "files": json.dumps(APP)})
        Submission.objects.update(state=Submission.State.DONE, result=result("failed"))

    html = learner_client.get(exercise_url()).content.decode()

    assert 'data-allowed="false"' in html
    assert 'data-countdown="20"' in html


def test_not_gradable_submissions_do_not_use_up_the_rate_limit(learner_client, exercise):
    for _ in range(4):
        response = learner_client.post(
            submit_url(), {"framework": "flask", "files": json.dumps(APP)}
        )
        assert response.status_code == 302
        Submission.objects.update(
            state=Submission.State.DONE, result=result("error"), verdict=Verdict.ERROR
        )

    assert Submission.objects.count() == 4


# The submission page, its status and its files: only the learner and staff


def submission_urls(submission: Submission) -> list[str]:
    return [
        reverse(name, kwargs={"pk": submission.pk})
        for name in (
            "exercises:submission",
            "exercises:submission_status",
            "exercises:submission_download",
        )
    ]


def test_a_learner_sees_their_own_submission_everywhere(learner_client, learner, exercise):
    submission = make_submission(learner, exercise, result=result("passed", score=3))

    for url in submission_urls(submission):
        assert learner_client.get(url).status_code == 200, url


def test_other_learners_get_404_on_every_url_with_an_id(learner_client, exercise):
    theirs = make_submission(UserFactory(), exercise, result=result("passed", score=3))

    for url in submission_urls(theirs):
        assert learner_client.get(url).status_code == 404, url


def test_staff_see_any_learners_submission(staff_client, exercise):
    learner = UserFactory(username="ada")
    submission = make_submission(learner, exercise, result=result("passed", score=3))

    for url in submission_urls(submission):
        assert staff_client.get(url).status_code == 200, url
    html = staff_client.get(submission_urls(submission)[0]).content.decode()
    assert "You are looking at the submission of <strong>ada</strong> as staff." in html


def test_anonymous_visitors_are_sent_to_log_in(client, learner, exercise):
    submission = make_submission(learner, exercise)

    for url in submission_urls(submission):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")


def test_the_download_is_the_archive_that_was_graded(learner_client, learner, exercise):
    submission = make_submission(learner, exercise)

    response = learner_client.get(
        reverse("exercises:submission_download", kwargs={"pk": submission.pk})
    )

    assert response.content == bytes(submission.archive)
    assert response["Content-Disposition"] == (
        f'attachment; filename="hello-flask-submission-{submission.pk}.zip"'
    )


def test_a_submission_whose_files_are_no_longer_kept_says_so(learner_client, learner, exercise):
    submission = make_submission(learner, exercise, result=result("failed", score=1))
    Submission.objects.filter(pk=submission.pk).update(archive=None)

    page = learner_client.get(reverse("exercises:submission", kwargs={"pk": submission.pk}))
    download = learner_client.get(
        reverse("exercises:submission_download", kwargs={"pk": submission.pk})
    )

    html = page.content.decode()
    assert 'id="files-gone"' in html
    assert "no longer kept" in html
    assert "<strong>1</strong> / 3 points" in html  # the result stays
    assert download.status_code == 410
    assert "no longer kept" in download.content.decode()


def test_a_submission_with_its_files_has_no_such_notice(learner_client, learner, exercise):
    submission = make_submission(learner, exercise, result=result("failed"))

    page = learner_client.get(reverse("exercises:submission", kwargs={"pk": submission.pk}))

    assert 'id="files-gone"' not in page.content.decode()


# Live status


def status_url(submission: Submission, **params) -> str:
    url = reverse("exercises:submission_status", kwargs={"pk": submission.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_a_queued_submission_shows_its_place_in_the_queue(learner_client, learner, exercise):
    for minutes in (0, 1):
        make_submission(UserFactory(), exercise, minutes=minutes)
    mine = make_submission(learner, exercise, minutes=2)

    response = learner_client.get(status_url(mine), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Queued: 2 submissions ahead of yours." in html
    assert 'hx-trigger="every 500ms"' in html
    assert 'aria-current="step"' in html
    assert '<div id="live-status" hx-swap-oob="innerHTML">Queued: 2 submissions' in html


def test_a_running_submission_shows_its_phase(learner_client, learner, exercise):
    submission = make_submission(learner, exercise, state=Submission.State.RUNNING)
    Submission.objects.filter(pk=submission.pk).update(phase="testing")
    submission.refresh_from_db()

    html = learner_client.get(status_url(submission), **HTMX).content.decode()

    assert "Running the tests…" in html
    assert re.search(
        r'phases__step--done"[^>]*>\s*<span class="phases__dot"[^>]*></span>\s*'
        r'<span class="phases__label">Starting your app',
        html,
    )


def test_the_poll_answers_204_while_nothing_changed(learner_client, learner, exercise):
    submission = make_submission(learner, exercise)

    first = learner_client.get(status_url(submission), **HTMX).content.decode()
    seen = re.search(r"seen=([^\"&]+)", first).group(1)
    again = learner_client.get(status_url(submission, seen=seen), **HTMX)

    assert again.status_code == 204
    Submission.objects.filter(pk=submission.pk).update(
        state=Submission.State.RUNNING, phase="booting"
    )
    assert learner_client.get(status_url(submission, seen=seen), **HTMX).status_code == 200


def test_the_poll_stops_once_the_submission_is_done(learner_client, learner, exercise):
    submission = make_submission(learner, exercise, result=result("passed", score=3))

    response = learner_client.get(status_url(submission, seen="x"), **HTMX)

    assert response.status_code == 286  # htmx stops polling
    html = response.content.decode()
    assert "hx-trigger" not in html
    assert "Graded: Passed, 3 of 3 points." in html


def test_the_last_poll_on_the_exercise_page_refreshes_attempts_and_submit_bar(
    learner_client, learner, exercise
):
    submission = make_submission(learner, exercise, result=result("failed", score=1))

    html = learner_client.get(status_url(submission, where="exercise"), **HTMX).content.decode()

    assert 'id="attempts" class="attempts" hx-swap-oob="true"' in html
    assert 'id="submit-bar" class="submit-bar" data-submit-bar data-allowed="true"' in html


def test_staff_polling_a_learners_submission_get_no_panels_of_their_own(staff_client, exercise):
    submission = make_submission(UserFactory(), exercise, result=result("failed", score=1))

    html = staff_client.get(status_url(submission, where="exercise"), **HTMX).content.decode()

    assert 'hx-swap-oob="true"' not in html


def test_without_javascript_the_submission_page_refreshes_itself_until_done(
    learner_client, learner, exercise
):
    pending = make_submission(learner, exercise)
    done = make_submission(learner, exercise, result=result("passed", score=3))

    page = reverse("exercises:submission", kwargs={"pk": pending.pk})
    assert '<meta http-equiv="refresh"' in learner_client.get(page).content.decode()
    page = reverse("exercises:submission", kwargs={"pk": done.pk})
    assert '<meta http-equiv="refresh"' not in learner_client.get(page).content.decode()


# Results


HIDDEN_FAILED = outcome("Hidden test 1", "failed", 2)
TESTS = [
    outcome("GET / answers 200", "passed"),
    outcome("GET /hello/ada greets Ada", "failed", 1, "GET /hello/ada\nexpected 200, got 404"),
    HIDDEN_FAILED,
]


def result_html(client, learner, exercise, res: dict) -> str:
    submission = make_submission(learner, exercise, result=res)
    return client.get(
        reverse("exercises:submission", kwargs={"pk": submission.pk})
    ).content.decode()


def test_a_failed_result_shows_each_test_with_points_and_messages(
    learner_client, learner, exercise
):
    html = result_html(
        learner_client,
        learner,
        exercise,
        result("failed", score=1, tests=TESTS, message="1 of 3 tests passed.", log="booted\n"),
    )

    assert '<span aria-hidden="true">✗</span> Failed' in html
    assert "<strong>1</strong> / 4 points" in html
    assert "1 of 3 tests passed." in html
    assert '<span class="test__status">Passed</span>' in html
    assert '<pre class="test__message">GET /hello/ada\nexpected 200, got 404</pre>' in html
    assert '<span class="test__points">0/2 pts</span>' in html
    assert "Hidden test 1" in html
    assert '<p class="test__note">This test is hidden: what it checks is not shown.</p>' in html
    assert '<details class="result__log">' in html
    assert "<pre>booted\n</pre>" in html


def with_exchanges(test: dict, *sent: dict, more: int = 0) -> dict:
    return {**test, "exchanges": list(sent), "more_exchanges": more}


HELLO_500 = exchange(
    method="GET", path="/hello/ada", request_headers=[("Accept", "*/*")], status=500,
    reason="INTERNAL SERVER ERROR", response_headers=[("Content-Type", "text/plain")],
    response_body=b"Traceback\x1b[31m boom", duration_ms=4.0,
)  # fmt: skip


def test_a_failing_visible_test_shows_its_requests_and_answers_open(
    learner_client, learner, exercise
):
    failing = with_exchanges(TESTS[1], HELLO_500, more=3)
    html = result_html(learner_client, learner, exercise, result("failed", tests=[failing]))

    assert '<details class="test__exchanges" open>' in html
    assert "<code>GET /hello/ada</code>" in html
    assert "500 INTERNAL SERVER ERROR" in html
    assert "exchange__status--5xx" in html
    assert "Traceback␛[31m boom" in html  # a control character is shown, not obeyed
    assert "3 other requests of this test are not shown." in html
    assert "css/exchange.css" in html


def test_a_passing_test_s_requests_are_folded(learner_client, learner, exercise):
    ok = exchange(method="GET", path="/", status=200, reason="OK", response_body=b"Hi")
    passing = with_exchanges(outcome("GET / answers 200", "passed"), ok)
    html = result_html(learner_client, learner, exercise, result("passed", tests=[passing]))

    assert '<details class="test__exchanges">' in html
    assert "<code>GET /</code>" in html


def test_a_page_the_app_answered_is_framed_without_scripts(learner_client, learner, exercise):
    page = b'<h1>Hi</h1><script>alert("x")</script><img src="https://evil.example/t.png">'
    answered = exchange(
        method="GET", path="/page", status=200, response_body=page,
        response_headers=[("Content-Type", "text/html; charset=utf-8")],
    )  # fmt: skip
    test = with_exchanges(outcome("GET /page", "failed", 1, "expected a list"), answered)
    html = result_html(learner_client, learner, exercise, result("failed", tests=[test]))

    frame = re.search(r'<iframe class="exchange__page" sandbox="" [^>]*>', html).group()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in frame
    assert "<script>alert" not in html
    assert "default-src &#x27;none&#x27;" in frame or "default-src 'none'" in frame


def test_a_group_of_tests_that_could_not_run_shows_its_first_request(
    learner_client, learner, exercise
):
    cause = "POST /notes answered 501"
    post = exchange(method="POST", path="/notes", status=501, reason="NOT IMPLEMENTED")
    tests = [
        {**with_exchanges(outcome(name, "failed", 1, "Could not create a note."), post),
         "cause": cause}
        for name in ("read", "update")
    ]  # fmt: skip
    html = result_html(learner_client, learner, exercise, result("failed", tests=tests))

    assert "2 tests could not run:" in html
    assert html.count("<code>POST /notes</code>") == 1
    assert "501 NOT IMPLEMENTED" in html


def test_a_hidden_test_shows_no_requests_even_if_stored(learner_client, learner, exercise):
    secret = {**outcome("test_secret", "failed", 1, ""), "hidden": True}
    stored = with_exchanges(secret, exchange(method="GET", path="/admin-secret", status=404))
    html = result_html(learner_client, learner, exercise, result("failed", tests=[stored]))

    assert "admin-secret" not in html
    assert "test__exchanges" not in html


def test_an_older_result_without_requests_still_renders(learner_client, learner, exercise):
    html = result_html(learner_client, learner, exercise, result("failed", tests=TESTS))

    assert "GET /hello/ada greets Ada" in html
    assert "test__exchanges" not in html


def test_a_passed_result_says_so_in_words(learner_client, learner, exercise):
    tests = [outcome("GET / answers 200", "passed", 3)]
    html = result_html(learner_client, learner, exercise, result("passed", score=3, tests=tests))

    assert '<span aria-hidden="true">✓</span> Passed' in html
    assert "<strong>3</strong> / 3 points" in html
    assert "This test is hidden" not in html


def test_a_hidden_test_that_passed_shows_no_note(learner_client, learner, exercise):
    tests = [outcome("Hidden test 1", "passed", 1)]
    html = result_html(learner_client, learner, exercise, result("passed", score=1, tests=tests))

    assert "Hidden test 1" in html
    assert "This test is hidden" not in html


def test_a_test_still_marked_hidden_is_anonymised(learner_client, learner, exercise):
    secret = {**outcome("test_secret_admin_path", "failed", 1, "GET /admin-secret"), "hidden": True}
    html = result_html(learner_client, learner, exercise, result("failed", tests=[secret]))

    assert "test_secret_admin_path" not in html
    assert "admin-secret" not in html
    assert "Hidden test 1" in html


NOT_RUN = "POST /notes answered 501"
NOT_RUN_MESSAGE = (
    "Could not create a note to test with. POST /notes: expected status 201, got 501. Body: "
    '{"detail": "Not implemented yet"}'
)


def could_not_run(name, points=1, *, hidden=False, message=NOT_RUN_MESSAGE) -> dict:
    return {**outcome(name, "failed", points, message), "cause": NOT_RUN, "hidden": hidden}


def test_tests_that_could_not_run_for_one_cause_are_shown_once_under_it(
    learner_client, learner, exercise
):
    tests = [
        outcome("GET /notes answers a list", "passed"),
        could_not_run("GET /notes/<id> answers the note", 2),
        could_not_run("PUT /notes/<id> updates it"),
        could_not_run("test_ids_are_never_reused", hidden=True, message="POST /notes secret"),
        outcome("GET /notes/<id> answers 404", "failed", 1, "GET /notes/999: expected 404"),
    ]
    html = result_html(learner_client, learner, exercise, result("failed", score=1, tests=tests))

    group = html.split('class="test test--failed test-group"', 1)[1].split("</ul>", 1)[0]
    assert "<strong>3 tests could not run:</strong> POST /notes answered 501" in group
    assert html.count("Could not create a note to test with.") == 1
    assert html.count("GET /notes/&lt;id&gt; answers the note") == 1
    assert '<span class="test__points">0/4 pts</span>' in group
    assert [n in group for n in ("answers the note", "updates it", "Hidden test 1")] == [True] * 3
    assert "test_ids_are_never_reused" not in html and "secret" not in html
    assert "GET /notes/999: expected 404" in html.split("test-group", 2)[2]


def test_a_cause_only_hidden_tests_share_is_not_shown(learner_client, learner, exercise):
    tests = [
        {**outcome("secret one", "failed"), "cause": "POST /admin-secret answered 404"},
        {**outcome("secret two", "failed"), "cause": "POST /admin-secret answered 404"},
    ]
    tests = [{**t, "hidden": True} for t in tests]
    html = result_html(learner_client, learner, exercise, result("failed", tests=tests))

    assert "admin-secret" not in html
    assert "could not run" not in html
    assert "Hidden test 2" in html


def test_a_hidden_test_that_failed_shows_its_hint_and_nothing_else(
    learner_client, learner, exercise
):
    tests = [
        {**outcome("test_accents", "failed", 1, "GET /hello/José: 404"), "hidden": True,
         "hint": "names with accents"},
        {**outcome("test_long_names", "passed", 1), "hidden": True, "hint": "very long names"},
    ]  # fmt: skip
    html = result_html(learner_client, learner, exercise, result("failed", tests=tests))

    assert '<p class="test__hint"><strong>Hint:</strong> names with accents</p>' in html
    assert "very long names" not in html
    assert "José" not in html and "test_accents" not in html


def test_an_html_page_in_a_message_is_shown_as_its_text(learner_client, learner, exercise):
    page = (
        "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
        "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>"
    )
    tests = [outcome("POST /notes", "failed", 1, f"POST /notes: got 500. Body: {page}")]
    html = result_html(learner_client, learner, exercise, result("failed", tests=tests))

    assert (
        '<pre class="test__message">POST /notes: got 500. Body:\nInternal Server Error\n'
        "The server encountered an internal error.</pre>"
    ) in html
    assert "&lt;h1&gt;" not in html and "<h1>Internal" not in html


def test_a_not_gradable_result_explains_it_costs_no_attempt(learner_client, learner, exercise):
    message = "Your app stopped while starting. SyntaxError: invalid syntax (app.py, line 3)"
    html = result_html(learner_client, learner, exercise, result("error", message=message))

    assert '<span aria-hidden="true">!</span> Not gradable' in html
    assert "this submission does not count as an attempt" in html
    assert f'<pre class="result__detail">{message}</pre>' in html
    assert "result__score" not in html


def test_a_timeout_names_the_limit(learner_client, learner, exercise):
    message = "The grading was stopped at the whole-run time limit (60 s)."
    html = result_html(learner_client, learner, exercise, result("timeout", message=message))

    assert '<span aria-hidden="true">⏱</span> Timed out' in html
    assert message in html
    assert "<strong>0</strong> / 3 points" in html


def test_result_text_is_escaped(learner_client, learner, exercise):
    tests = [outcome("<script>alert(1)</script>", "failed", 1, "<img src=x onerror=alert(1)>")]
    html = result_html(
        learner_client, learner, exercise, result("failed", tests=tests, log="<b>log</b>")
    )

    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;log&lt;/b&gt;" in html


def test_the_exercise_page_shows_the_latest_result(learner_client, learner, exercise):
    make_submission(learner, exercise, result=result("failed", score=1), minutes=0)
    make_submission(learner, exercise, result=result("passed", score=3), minutes=1)

    html = learner_client.get(exercise_url()).content.decode()
    latest = html.split('id="latest"', 1)[1].split("</section>", 1)[0]

    assert "Passed" in latest
    assert "Failed" not in latest


# "Next" after a pass


@pytest.fixture
def path(exercise):
    """The course of `exercise` ("hello", on lesson one): one more exercise there, then lesson
    two, and an exercise of no lesson at the end."""
    one = exercise.lesson
    two = LessonFactory(chapter=one.chapter, slug="two", title="Lesson two", order=one.order + 1)
    more = ExerciseFactory(
        course=exercise.course, lesson=one, slug="more", title="More routes", order=2, files=FILES
    )
    last = ExerciseFactory(
        course=exercise.course, lesson=None, slug="last", title="Last one", order=3, files=FILES
    )
    return {"hello": exercise, "more": more, "two": two, "last": last}


def next_link(html: str) -> str:
    """Return the "Next" link of a result, tags removed and spaces collapsed, with its URL."""
    match = re.search(r'<p class="result__next"><a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html)
    assert match, "no Next link"
    return f"{' '.join(re.sub(r'<[^>]+>', ' ', match.group(2)).split())} -> {match.group(1)}"


def test_a_pass_offers_the_next_exercise_of_the_same_lesson(learner_client, learner, path):
    make_submission(learner, path["hello"], result=result("passed", score=3))

    html = learner_client.get(exercise_url("hello")).content.decode()

    assert next_link(html) == "Next → Exercise: More routes -> /exercises/more/"


def test_a_pass_on_a_lessons_last_exercise_offers_the_next_lesson(learner_client, learner, path):
    make_submission(learner, path["more"], result=result("passed", score=3))

    html = learner_client.get(exercise_url("more")).content.decode()

    assert next_link(html) == f"Next → Lesson: Lesson two -> {path['two'].get_absolute_url()}"


def test_a_pass_on_the_last_step_leads_back_to_the_course(learner_client, learner, path):
    make_submission(learner, path["last"], result=result("passed", score=3))

    html = learner_client.get(exercise_url("last")).content.decode()

    course = path["last"].course
    assert next_link(html) == f"Next → Course: {course.title} -> {course.get_absolute_url()}"


@pytest.mark.parametrize("verdict", ["failed", "error", "timeout"])
def test_only_a_pass_offers_a_next_step(learner_client, learner, path, verdict):
    make_submission(learner, path["hello"], result=result(verdict, score=1))

    html = learner_client.get(exercise_url("hello")).content.decode()

    assert "result__next" not in html
    assert 'href="/exercises/more/"' not in html


def test_the_poll_that_brings_a_pass_brings_the_next_step(learner_client, learner, path):
    submission = make_submission(learner, path["hello"], result=result("passed", score=3))

    html = learner_client.get(status_url(submission, where="exercise"), **HTMX).content.decode()

    assert next_link(html) == "Next → Exercise: More routes -> /exercises/more/"


def test_the_submission_page_of_a_pass_offers_the_next_step(learner_client, learner, path):
    submission = make_submission(learner, path["more"], result=result("passed", score=3))

    html = learner_client.get(
        reverse("exercises:submission", kwargs={"pk": submission.pk})
    ).content.decode()

    assert next_link(html).startswith("Next → Lesson: Lesson two -> ")


def test_the_next_step_costs_the_same_queries_however_big_the_course(learner_client, learner, path):
    make_submission(learner, path["hello"], result=result("passed", score=3))

    def page_queries() -> int:
        cache.clear()  # the outline is built again: the costly case
        with CaptureQueriesContext(connection) as queries:
            html = learner_client.get(exercise_url("hello")).content.decode()
        assert next_link(html) == "Next → Exercise: More routes -> /exercises/more/"
        return len(queries)

    small = page_queries()
    for n in range(80):
        LessonFactory(chapter=path["two"].chapter, order=100 + n)
        ExerciseFactory(course=path["hello"].course, order=100 + n)

    assert page_queries() == small
    # Warm, the outline comes from the cache: two queries fewer.
    with CaptureQueriesContext(connection) as queries:
        learner_client.get(exercise_url("hello"))
    assert len(queries) == small - 2


def test_tests_that_did_not_run_say_why_only_when_there_is_a_reason(
    learner_client, learner, exercise
):
    tests = [
        outcome("GET / answers 200", "skipped", 1, "not run"),
        outcome(
            "GET /hello/ada", "skipped", 1, "not run: the whole-run time limit (60 s) was reached"
        ),
    ]
    html = result_html(learner_client, learner, exercise, result("timeout", tests=tests))

    assert html.count('<span class="test__status">Not run</span>') == 2
    assert '<p class="test__note">Not run: the whole-run time limit (60 s) was reached</p>' in html
    assert ">not run<" not in html


def test_a_successful_htmx_submit_clears_the_errors_of_every_form(learner_client, exercise):
    response = learner_client.post(
        submit_url(), {"framework": "flask", "files": json.dumps(APP)}, **HTMX
    )

    html = response.content.decode()
    for source in ("files", "archive", "folder"):
        assert f'<div id="{source}-errors" hx-swap-oob="innerHTML"></div>' in html


def test_the_exercise_page_costs_the_same_queries_however_many_attempts(
    learner_client, learner, exercise, django_assert_max_num_queries
):
    for minutes in range(12):
        make_submission(learner, exercise, result=result("failed", score=1), minutes=minutes)
    Draft.objects.create(learner=learner, exercise=exercise, framework="flask", files=APP)

    with django_assert_max_num_queries(8):
        response = learner_client.get(exercise_url())

    assert response.content.decode().count("<tr") == 13  # the heading and 12 attempts


def test_a_draft_nested_too_deep_is_refused_cleanly(learner_client, exercise):
    response = post_draft(learner_client, b"[" * 100_000 + b"]" * 100_000)

    assert response.status_code == 400
    assert "nested more than 32 levels deep" in response.json()["error"]


def test_an_unknown_source_is_treated_as_the_editor(learner_client, exercise):
    response = learner_client.post(
        submit_url("evil\nheader"), {"framework": "flask", "files": ""}, **HTMX
    )

    assert response["HX-Retarget"] == "#files-errors"
