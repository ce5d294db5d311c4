"""The terminal API: token authentication, uploads, errors in plain words, waiting, access."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client

from accounts.tokens import token_create, token_revoke
from courses.models import Status
from exercises import api as api_module
from exercises.models import Submission, SubmissionArchive
from sandbox.archive import NOT_A_ZIP, pack_files
from sandbox.exchanges import exchange, exchange_from_data
from sandbox.policy import DEFAULT_POLICY
from tests.celery_fixtures import hello_archive, wait_until_graded
from tests.factories import ExerciseFactory, StaffFactory, UserFactory

ZIP = pack_files({"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
SUBMIT = "/api/exercises/hello/submissions/"
PASSED = {
    "status": "passed",
    "score": 6,
    "max_score": 6,
    "message": "All 4 tests passed.",
    "tests": [],
    "log": "",
    "timings": {},
}


@pytest.fixture
def exercise(db):
    return ExerciseFactory(slug="hello", frameworks=["flask", "django", "fastapi"])


@pytest.fixture
def secret(learner) -> str:
    return token_create(user=learner, name="laptop")[1]


@pytest.fixture
def api(secret, sent_gradings) -> Client:
    """A client that sends the learner's token, never a session cookie."""
    return Client(headers={"Authorization": f"Bearer {secret}"})


def post_zip(client: Client, url: str, data: bytes = ZIP, **extra):
    return client.post(url, data=data, content_type="application/zip", **extra)


def error_of(response) -> str:
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


# Submitting ------------------------------------------------------------------------------


def test_a_zip_sent_as_the_body_becomes_a_queued_submission(api, exercise, learner):
    response = post_zip(api, SUBMIT + "?framework=flask")

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    body = response.json()
    submission = Submission.objects.get()
    assert submission.learner == learner
    assert submission.exercise == exercise
    assert submission.framework == "flask"
    assert bytes(submission.archive) == ZIP
    assert body == {
        "id": submission.pk,
        "exercise": "hello",
        "framework": "flask",
        "attempt": 1,
        "state": "queued",
        "phase": "",
        "url": f"http://testserver{api_module.submission_page_path(submission.pk)}",
        "status_url": f"http://testserver/api/submissions/{submission.pk}/",
        "created": body["created"],
        "result": None,
    }
    assert response.content.endswith(b"\n")  # the shell prompt starts on a new line


def test_the_submission_url_is_the_submissions_page_on_the_site():
    assert api_module.submission_page_path(42).endswith("/submissions/42/")


def test_a_zip_sent_as_form_field_file_is_accepted(api, exercise):
    upload = SimpleUploadedFile("hello.zip", ZIP, content_type="application/zip")

    response = api.post(SUBMIT + "?framework=django", {"file": upload})

    assert response.status_code == 201
    submission = Submission.objects.get()
    assert bytes(submission.archive) == ZIP
    assert submission.framework == "django"


def test_the_framework_may_be_a_form_field_too(api, exercise):
    upload = SimpleUploadedFile("hello.zip", ZIP)

    response = api.post(SUBMIT, {"file": upload, "framework": "fastapi"})

    assert response.status_code == 201
    assert Submission.objects.get().framework == "fastapi"


def test_a_body_without_a_zip_content_type_is_still_read_as_the_zip(api, exercise):
    # What `curl --data-binary @app.zip` sends when no Content-Type header is given.
    response = api.generic(
        "POST", SUBMIT + "?framework=flask", ZIP, "application/x-www-form-urlencoded"
    )

    assert response.status_code == 201
    assert bytes(Submission.objects.get().archive) == ZIP


def test_the_grading_is_enqueued_once_the_submission_is_saved(
    api, exercise, sent_gradings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_zip(api, SUBMIT + "?framework=flask")

    assert [args for args, _ in sent_gradings] == [(response.json()["id"],)]


def test_the_only_framework_of_an_exercise_need_not_be_named(api, db):
    ExerciseFactory(slug="notes-api", frameworks=["fastapi"])

    response = post_zip(api, "/api/exercises/notes-api/submissions/")

    assert response.status_code == 201
    assert Submission.objects.get().framework == "fastapi"


def test_the_framework_must_be_named_when_several_are_offered(api, exercise):
    response = post_zip(api, SUBMIT)

    assert response.status_code == 400
    assert error_of(response) == (
        "Say which framework your app uses: this exercise can be solved with Flask, Django "
        "or FastAPI. Add ?framework=flask or ?framework=django or ?framework=fastapi to the "
        "address."
    )
    assert not Submission.objects.exists()


def test_a_framework_the_exercise_does_not_offer_is_refused(api, db):
    ExerciseFactory(slug="hello", frameworks=["flask", "fastapi"])

    response = post_zip(api, SUBMIT + "?framework=rails")

    assert response.status_code == 400
    assert error_of(response) == (
        "This exercise can be solved with Flask or FastAPI; “rails” is not one of them. "
        "Use ?framework=flask or ?framework=fastapi."
    )
    assert not Submission.objects.exists()


def test_any_wsgi_or_asgi_app_is_named_like_the_other_frameworks(api, db):
    ExerciseFactory(slug="hello", frameworks=["flask", "wsgi", "asgi"])

    refused = post_zip(api, SUBMIT)
    response = post_zip(api, SUBMIT + "?framework=WSGI")

    assert error_of(refused) == (
        "Say which framework your app uses: this exercise can be solved with Flask, Any WSGI "
        "app or Any ASGI app. Add ?framework=flask or ?framework=wsgi or ?framework=asgi to "
        "the address."
    )
    assert response.status_code == 201
    assert response.json()["framework"] == "wsgi"
    assert Submission.objects.get().framework == "wsgi"


@pytest.mark.celery
@pytest.mark.sandbox
def test_a_wsgi_app_submitted_with_framework_wsgi_is_graded_in_the_sandbox(
    runner_image, celery_worker_proc, hello_exercise, learner
):
    _, secret = token_create(user=learner, name="laptop")
    api = Client(headers={"Authorization": f"Bearer {secret}"})

    response = post_zip(api, SUBMIT + "?framework=wsgi", hello_archive("solution", "wsgi"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["framework"] == "wsgi"
    (submission,) = wait_until_graded([body["id"]], workers=[celery_worker_proc])
    done = api.get(body["status_url"]).json()
    assert done["state"] == "done"
    assert done["framework"] == "wsgi"
    assert done["result"]["status"] == "passed", done["result"]["message"]
    assert (done["result"]["score"], done["result"]["max_score"]) == (6, 6)
    assert submission.verdict == "passed"
    # Each visible test says what it sent and got; the hidden ones say nothing of theirs.
    tests = done["result"]["tests"]
    visible = [t for t in tests if not t["hidden"]]
    assert [t["exchanges"][0]["request"]["path"] for t in visible] == ["/", "/hello/ada"]
    assert visible[1]["exchanges"][0]["response"]["status"] == 200
    assert [t["exchanges"] for t in tests if t["hidden"]] == [[], []]


def test_an_empty_body_is_refused_with_how_to_send_the_zip(api, exercise):
    response = post_zip(api, SUBMIT + "?framework=flask", b"")

    assert response.status_code == 400
    assert error_of(response) == (
        "The request has no zip in it. Send the zip as the request body (curl --data-binary "
        "@app.zip) or as a form field named “file” (curl -F file=@app.zip)."
    )


def test_a_form_without_a_file_field_is_refused(api, exercise):
    upload = SimpleUploadedFile("hello.zip", ZIP)

    response = api.post(SUBMIT + "?framework=flask", {"upload": upload})

    assert response.status_code == 400
    assert error_of(response).startswith("The form has no field named “file”.")


def test_something_that_is_not_a_zip_is_refused(api, exercise):
    response = post_zip(api, SUBMIT + "?framework=flask", b"print('hello')\n")

    assert response.status_code == 400
    assert error_of(response) == NOT_A_ZIP
    assert not Submission.objects.exists()


def test_a_zip_that_breaks_the_rules_is_refused_before_it_is_saved(api, exercise):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.py", "import os\n")

    response = post_zip(api, SUBMIT + "?framework=flask", buffer.getvalue())

    assert response.status_code == 400
    assert error_of(response) == "The zip contains a path that leaves its folder: ../evil.py"
    assert not Submission.objects.exists()


def test_an_empty_zip_is_refused(api, exercise):
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()

    response = post_zip(api, SUBMIT + "?framework=flask", buffer.getvalue())

    assert response.status_code == 400
    assert error_of(response).startswith("The zip contains no files to grade")


def test_a_body_over_the_upload_limit_is_too_large(api, exercise):
    data = b"x" * (DEFAULT_POLICY.max_archive_bytes + 1)

    response = post_zip(api, SUBMIT + "?framework=flask", data)

    assert response.status_code == 413
    assert error_of(response) == (
        "Your files are 2.0 MiB once zipped; the limit is 2 MiB. Leave out virtual "
        "environments, databases and other generated files."
    )
    assert not Submission.objects.exists()


def test_a_form_upload_over_the_limit_is_too_large(api, exercise):
    upload = SimpleUploadedFile("big.zip", b"x" * (DEFAULT_POLICY.max_archive_bytes + 1))

    response = api.post(SUBMIT + "?framework=flask", {"file": upload})

    assert response.status_code == 413
    assert "the limit is 2 MiB" in error_of(response)


def test_an_unknown_exercise_is_not_found(api, db):
    response = post_zip(api, "/api/exercises/no-such-thing/submissions/?framework=flask")

    assert response.status_code == 404
    assert error_of(response) == (
        "There is no exercise “no-such-thing”. Check its name in the address."
    )


def test_a_draft_exercise_is_not_found_for_learners_but_open_to_staff(api, sent_gradings, db):
    ExerciseFactory(slug="hello", frameworks=["flask"], status=Status.DRAFT)

    assert post_zip(api, SUBMIT).status_code == 404

    staff_secret = token_create(user=StaffFactory(), name="staff")[1]
    staff = Client(headers={"Authorization": f"Bearer {staff_secret}"})
    assert post_zip(staff, SUBMIT).status_code == 201


def test_a_bad_wait_value_is_refused(api, exercise):
    response = post_zip(api, SUBMIT + "?framework=flask&wait=soon")

    assert response.status_code == 400
    assert error_of(response) == "“wait” must be 1 or 0, not “soon”."


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_the_submit_address_accepts_only_post(api, exercise, method):
    response = getattr(api, method)(SUBMIT)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert error_of(response) == "This address accepts POST requests only."


def test_submitting_needs_no_csrf_token_since_it_uses_no_cookie(secret, exercise, sent_gradings):
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})

    assert post_zip(client, SUBMIT + "?framework=flask").status_code == 201


# Rate limit ------------------------------------------------------------------------------


def test_a_second_submission_waits_for_the_first_to_be_graded(api, exercise):
    first = post_zip(api, SUBMIT + "?framework=flask").json()

    response = post_zip(api, SUBMIT + "?framework=flask")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert error_of(response) == (
        f"Your submission #{first['id']} is still being graded. "
        "You can submit again as soon as it is done."
    )
    assert Submission.objects.count() == 1


def test_the_rate_limit_is_checked_before_the_upload_is_read_or_unpacked(
    api, exercise, monkeypatch
):
    post_zip(api, SUBMIT + "?framework=flask")
    unpacked: list[bytes] = []
    monkeypatch.setattr(
        api_module, "unpack_submission", lambda data, *a, **k: unpacked.append(data)
    )
    monkeypatch.setattr(api_module, "_read_archive", lambda *a: pytest.fail("the upload was read"))

    response = post_zip(api, SUBMIT + "?framework=flask")

    assert response.status_code == 429
    assert unpacked == []
    assert Submission.objects.count() == 1


def test_two_identical_uploads_are_stored_once(api, exercise):
    first = post_zip(api, SUBMIT + "?framework=flask").json()
    Submission.objects.update(state=Submission.State.DONE, result=PASSED)
    second = post_zip(api, SUBMIT + "?framework=flask").json()

    rows = Submission.objects.filter(pk__in=[first["id"], second["id"]])
    assert len({row.archive_id for row in rows}) == 1
    assert SubmissionArchive.objects.count() == 1
    assert all(bytes(row.archive) == ZIP for row in rows)


# Authentication --------------------------------------------------------------------------


def test_a_request_without_a_token_is_unauthorized(client, exercise, sent_gradings):
    response = post_zip(client, SUBMIT + "?framework=flask")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response) == (
        "Send your API token in the header “Authorization: Bearer <token>”. "
        "You can create a token at http://testserver/accounts/tokens/."
    )
    assert not Submission.objects.exists()


def test_a_logged_in_browser_session_is_not_enough(learner_client, exercise, sent_gradings):
    response = post_zip(learner_client, SUBMIT + "?framework=flask")

    assert response.status_code == 401
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "header",
    ["Bearer wfc_mistyped", "Basic bGVhcm5lcjpwYXNzd29yZA==", "Bearer", "Token {secret}"],
)
def test_a_wrong_or_malformed_token_is_unauthorized(secret, exercise, sent_gradings, header):
    client = Client(headers={"Authorization": header.format(secret=secret)})

    response = post_zip(client, SUBMIT + "?framework=flask")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Submission.objects.exists()


def test_a_revoked_token_is_unauthorized_and_says_why(api, learner, exercise):
    token = learner.api_tokens.get()
    token_revoke(user=learner, token_id=token.pk)

    response = post_zip(api, SUBMIT + "?framework=flask")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert error_of(response) == (
        "This API token is not valid: it was mistyped or has been revoked. "
        "You can create a new one at http://testserver/accounts/tokens/."
    )


def test_using_a_token_notes_when_it_was_last_used(api, learner, exercise):
    post_zip(api, SUBMIT + "?framework=flask")

    assert learner.api_tokens.get().last_used is not None


# Waiting for the result ------------------------------------------------------------------


def finish(pk: int, result: dict = PASSED) -> None:
    Submission.objects.filter(pk=pk).update(
        state=Submission.State.DONE,
        result=result,
        score=result["score"],
        max_score=result["max_score"],
    )


def test_wait_answers_with_the_result_once_graded(api, exercise, monkeypatch):
    looks: list[int] = []

    def grade_during_pause(seconds: float) -> None:
        looks.append(seconds)
        if len(looks) == 3:
            finish(Submission.objects.get().pk)

    monkeypatch.setattr(api_module, "pause", grade_during_pause)

    response = post_zip(api, SUBMIT + "?framework=flask&wait=1")

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "done"
    assert body["result"] == PASSED
    assert body["id"] == Submission.objects.get().pk
    assert looks == [api_module.WAIT_POLL_INTERVAL] * 3


def test_wait_gives_up_with_202_and_the_state_so_far(api, exercise, monkeypatch):
    # No time to wait at all: the first look is also the last.
    monkeypatch.setattr(api_module, "WAIT_MARGIN", -DEFAULT_POLICY.wall_timeout)

    response = post_zip(api, SUBMIT + "?framework=flask&wait=1")

    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "queued"
    assert body["result"] is None
    assert body["status_url"].endswith(f"/api/submissions/{body['id']}/")


def test_the_wait_is_bounded_by_the_exercises_time_limit(api, db, monkeypatch):
    ExerciseFactory(slug="hello", frameworks=["flask"], limits={"wall_timeout": 10})
    timeouts: list[float] = []

    def record(pk: int, *, timeout: float) -> Submission:
        timeouts.append(timeout)
        return Submission.objects.get(pk=pk)

    monkeypatch.setattr(api_module, "wait_until_done", record)

    post_zip(api, SUBMIT + "?wait=1")

    assert timeouts == [10 + api_module.WAIT_MARGIN]


@pytest.mark.django_db(transaction=True)
def test_wait_sees_a_result_stored_by_another_connection_and_holds_no_transaction(
    learner, secret, sent_gradings, monkeypatch
):
    ExerciseFactory(slug="hello", frameworks=["flask"])
    in_transaction: list[bool] = []
    real_pause = api_module.pause

    def pause(seconds: float) -> None:
        in_transaction.append(connection.in_atomic_block)
        real_pause(seconds)

    monkeypatch.setattr(api_module, "pause", pause)

    def grader() -> None:
        # Stands in for a worker: its own thread, so its own database connection.
        try:
            rows = Submission.objects.filter(state=Submission.State.QUEUED)
            while not rows.exists():
                real_pause(0.05)
            while not in_transaction:  # let the request look at least once
                real_pause(0.05)
            finish(rows.get().pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=grader)
    thread.start()
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    response = post_zip(client, SUBMIT + "?wait=1")
    thread.join()

    assert response.status_code == 200
    assert response.json()["result"] == PASSED
    assert in_transaction and not any(in_transaction)


# How many requests may wait at once ------------------------------------------------------


def test_past_the_wait_slots_a_waiting_request_answers_202_at_once(api, exercise, settings):
    settings.API_WAIT_SLOTS = 2
    with api_module.wait_slot(hold_for=60) as first, api_module.wait_slot(hold_for=60) as second:
        assert first and second

        response = post_zip(api, SUBMIT + "?framework=flask&wait=1")

    assert response.status_code == 202
    body = response.json()
    assert body["message"] == api_module.BUSY_MESSAGE
    assert body["state"] == "queued"
    assert body["status_url"] == f"http://testserver/api/submissions/{body['id']}/"
    assert Submission.objects.get().pk == body["id"]  # saved and queued all the same


def test_a_waiting_request_gives_its_slot_back(api, exercise, settings, monkeypatch):
    settings.API_WAIT_SLOTS = 1
    monkeypatch.setattr(api_module, "pause", lambda seconds: finish(Submission.objects.get().pk))

    assert post_zip(api, SUBMIT + "?framework=flask&wait=1").status_code == 200

    with api_module.wait_slot(hold_for=60) as slot:
        assert slot


def test_a_slot_whose_request_died_comes_free_once_its_wait_is_over(api, exercise, settings):
    settings.API_WAIT_SLOTS = 1
    crashed = api_module.wait_slot(hold_for=5)
    assert crashed.__enter__() is True  # and never left: its process was killed
    with api_module.wait_slot(hold_for=5) as slot:
        assert not slot

    later = time.time() + 5 + api_module.WAIT_SLOT_SLACK + 1
    with (
        mock.patch("django.core.cache.backends.locmem.time.time", return_value=later),
        api_module.wait_slot(hold_for=5) as slot,
    ):
        assert slot


def test_without_wait_slots_no_request_waits(api, exercise, settings, monkeypatch):
    settings.API_WAIT_SLOTS = 0
    monkeypatch.setattr(api_module, "wait_until_done", lambda *a, **k: pytest.fail("waited"))

    response = post_zip(api, SUBMIT + "?framework=flask&wait=1")

    assert response.status_code == 202


def test_a_slow_grading_says_so_in_its_202(api, exercise, monkeypatch):
    monkeypatch.setattr(api_module, "WAIT_MARGIN", -DEFAULT_POLICY.wall_timeout)

    body = post_zip(api, SUBMIT + "?framework=flask&wait=1").json()

    assert body["message"] == api_module.SLOW_MESSAGE


# Reading a submission --------------------------------------------------------------------


def test_a_learner_reads_the_state_and_result_of_their_submission(api, exercise):
    pk = post_zip(api, SUBMIT + "?framework=flask").json()["id"]
    status_url = f"/api/submissions/{pk}/"

    queued = api.get(status_url)
    assert queued.status_code == 200
    assert queued.json()["state"] == "queued"
    assert queued.json()["result"] is None

    finish(pk)
    done = api.get(status_url).json()
    assert done["state"] == "done"
    assert done["result"] == PASSED
    assert done["url"].endswith(f"/submissions/{pk}/")


def test_the_result_shows_the_tests_as_learners_may_see_them(api, exercise):
    pk = post_zip(api, SUBMIT + "?framework=flask").json()["id"]
    secret = {
        "name": "test_secret_admin_path", "status": "failed", "points": 0, "max_points": 2,
        "message": "GET /admin-secret: 404", "output": "", "hidden": True,
        "hint": "an admin page",
        # A grader should never send a hidden test's requests; if one did, they stay unseen.
        "exchanges": [exchange(method="GET", path="/admin-secret", status=404)],
        "more_exchanges": 3,
    }  # fmt: skip
    stored = {**PASSED, "status": "failed", "score": 0, "tests": [secret]}
    finish(pk, stored)

    body = api.get(f"/api/submissions/{pk}/").content.decode()

    assert "admin-secret" not in body and "test_secret_admin_path" not in body
    assert json.loads(body)["result"]["tests"] == [
        {"name": "Hidden test 1", "status": "failed", "points": 0, "max_points": 2,
         "message": "", "output": "", "hidden": True, "hint": "an admin page", "cause": "",
         "exchanges": [], "more_exchanges": 0},
    ]  # fmt: skip


def test_the_result_shows_what_a_visible_test_sent_and_got(api, exercise):
    pk = post_zip(api, SUBMIT + "?framework=flask").json()["id"]
    sent = exchange(
        method="GET", path="/hello/ada", request_headers=[("Accept", "application/json")],
        status=500, reason="INTERNAL SERVER ERROR",
        response_headers=[("Content-Type", "text/html")], response_body=b"<h1>Oops</h1>",
        duration_ms=3.25,
    )  # fmt: skip
    visible = {
        "name": "GET /hello/ada answers JSON", "status": "failed", "points": 0,
        "max_points": 2, "message": "GET /hello/ada: expected status 200, got 500.",
        "hidden": False, "exchanges": [sent, {"not": "an exchange"}], "more_exchanges": 7,
    }  # fmt: skip
    finish(pk, {**PASSED, "status": "failed", "score": 0, "tests": [visible]})

    test = api.get(f"/api/submissions/{pk}/").json()["result"]["tests"][0]

    assert test["exchanges"] == [exchange_from_data(sent)]
    assert test["exchanges"][0]["request"]["path"] == "/hello/ada"
    assert test["exchanges"][0]["response"]["status"] == 500
    assert test["exchanges"][0]["response"]["body"]["text"] == "<h1>Oops</h1>"
    assert test["more_exchanges"] == 7


def test_an_older_result_without_exchanges_reads_with_none(api, exercise):
    pk = post_zip(api, SUBMIT + "?framework=flask").json()["id"]
    older = {"name": "GET / answers 200", "status": "passed", "points": 1, "max_points": 1}
    finish(pk, {**PASSED, "score": 1, "max_score": 1, "tests": [older]})

    test = api.get(f"/api/submissions/{pk}/").json()["result"]["tests"][0]

    assert (test["name"], test["exchanges"], test["more_exchanges"]) == ("GET / answers 200", [], 0)


def test_another_learners_submission_is_not_found(api, exercise, sent_gradings):
    other = UserFactory()
    theirs = Submission.objects.create(
        learner=other, exercise=exercise, framework="flask", archive=ZIP, result=PASSED
    )

    response = api.get(f"/api/submissions/{theirs.pk}/")

    assert response.status_code == 404
    assert error_of(response) == f"You have no submission number {theirs.pk}."
    assert "passed" not in response.content.decode()


def test_even_staff_tokens_read_only_their_own_submissions(exercise, learner, sent_gradings):
    theirs = Submission.objects.create(
        learner=learner, exercise=exercise, framework="flask", archive=ZIP
    )
    staff_secret = token_create(user=StaffFactory(), name="staff")[1]
    staff = Client(headers={"Authorization": f"Bearer {staff_secret}"})

    assert staff.get(f"/api/submissions/{theirs.pk}/").status_code == 404


def test_reading_a_submission_needs_a_token(client, learner, exercise):
    mine = Submission.objects.create(
        learner=learner, exercise=exercise, framework="flask", archive=ZIP
    )

    response = client.get(f"/api/submissions/{mine.pk}/")

    assert response.status_code == 401
    assert json.loads(response.content)["error"].startswith("Send your API token")


def test_a_submission_cannot_be_changed_through_the_api(api, learner, exercise):
    mine = Submission.objects.create(
        learner=learner, exercise=exercise, framework="flask", archive=ZIP
    )

    response = api.post(f"/api/submissions/{mine.pk}/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
