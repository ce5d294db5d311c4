"""What a learner sees of a hostile app's run: no hidden test's path anywhere, and stored results.

The app runs for real in the sandbox; the result then goes through the site's pages, the API and
`manage.py grade`, and into the database (SQLite here, PostgreSQL by the last test).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

from sandbox import runner
from sandbox.archive import pack_files
from sandbox.policy import DEFAULT_POLICY
from sandbox.spec import ExerciseSpec
from tests.postgres import postgres_server, run_on_postgresql  # noqa: F401 - a fixture
from tests.sandbox.conftest import HELLO_DIR, flask_app, grade_bounded, hello_with, leftovers

QUICK = DEFAULT_POLICY.with_overrides({"boot_timeout": 5, "wall_timeout": 20, "request_timeout": 2})

pytestmark = pytest.mark.usefixtures("runner_image")


PRINT_EVERY_REQUEST = {
    "flask": (
        "app = Flask(__name__)\n",
        "app = Flask(__name__)\n\n"
        "@app.before_request\n"
        "def tell():\n"
        "    from flask import request\n"
        "    print('request for', request.full_path, flush=True)\n",
    ),
    "fastapi": (
        "app = FastAPI()\n",
        "app = FastAPI()\n\n"
        "@app.middleware('http')\n"
        "async def tell(request, call_next):\n"
        "    print('request for', request.url.path, flush=True)\n"
        "    return await call_next(request)\n",
    ),
}
# Every way the hidden tests of `hello` could show their paths, in what the learner sees.
HIDDEN_PATHS = ("no-such-page", "Zo%C3%AB", "Zoë", "Zo\\u00eb", "Zo\\u00c3")


@pytest.mark.django_db
@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_no_hidden_request_path_reaches_the_learner(framework, client, capsys):
    from accounts.tokens import token_create
    from exercises.models import Submission
    from tests.factories import ExerciseFactory, UserFactory

    spec = ExerciseSpec.from_dir(HELLO_DIR)
    files = hello_with(framework, PRINT_EVERY_REQUEST[framework])
    archive = pack_files(files)
    result = runner.grade(spec=spec, archive=archive, framework=framework)
    assert result["status"] == "passed"
    visible = next(t for t in result["tests"] if t["name"].startswith("GET /hello/ada"))
    assert "request for /hello/ada" in visible["output"]  # a visible test's output is shown

    learner = UserFactory()
    exercise = ExerciseFactory(slug="hello", frameworks=["flask", "fastapi", "django"])
    submission = Submission.objects.create(
        learner=learner, exercise=exercise, framework=framework, archive=archive,
        state=Submission.State.DONE, result=result, score=result["score"],
        max_score=result["max_score"],
    )  # fmt: skip
    client.force_login(learner)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    token = token_create(user=learner, name="cli")[1]
    api = client.get(
        f"/api/submissions/{submission.pk}/", headers={"Authorization": f"Bearer {token}"}
    ).content.decode()
    with tempfile.TemporaryDirectory() as folder:
        for rel, text in files.items():
            Path(folder, rel).parent.mkdir(parents=True, exist_ok=True)
            Path(folder, rel).write_text(text)
        call_command("grade", str(HELLO_DIR), folder, "--framework", framework, "--json")
        cli_json = capsys.readouterr().out
        call_command("grade", str(HELLO_DIR), folder, "--framework", framework)
        cli_text = capsys.readouterr().out
    assert "request for /hello/ada" in page
    for seen in (json.dumps(result), page, api, cli_json, cli_text):
        for path in HIDDEN_PATHS:
            assert path not in seen


# Storing what a hostile app produced -------------------------------------------------------------

NUL_AND_SURROGATES = flask_app(
    top="import sys",
    body=(
        "@app.get('/dirty')\n"
        "def dirty():\n"
        "    sys.stdout.buffer.write(b'nul\\x00 esc\\x1b[31mred bad\\xed\\xa0\\x80\\n')\n"
        "    sys.stdout.flush()\n"
        '    return app.response_class(\'{"a": "lone \\\\ud800 nul \\\\u0000"}\','
        " mimetype='application/json')\n"
    ),
)
DIRTY_TESTS = {
    "test_app.py": (
        "from grader import expect\n\n"
        "def test_dirty(client):\n"
        "    expect(client.get('/dirty'), status=200, json={'a': 'clean'})\n"
    )
}


def strings(value) -> list[str]:
    """Return every string in a JSON-like value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


class TestHostileOutputStores:
    """Run on SQLite here, and on PostgreSQL by the test after this class."""

    @pytest.mark.django_db
    def test_nul_and_surrogates_from_a_real_app_are_stored_cleaned(self, record_property):
        from django.db import connection

        from exercises.models import Submission
        from tests.factories import ExerciseFactory, UserFactory

        record_property("database_vendor", connection.vendor)
        graded = grade_bounded({"app.py": NUL_AND_SURROGATES}, tests=DIRTY_TESTS, policy=QUICK)
        test = graded.result["tests"][0]
        assert test["status"] == "failed"
        submission = Submission.objects.create(
            learner=UserFactory(), exercise=ExerciseFactory(), framework="flask",
            archive=pack_files({"app.py": NUL_AND_SURROGATES}), state=Submission.State.DONE,
            result=graded.result, score=0, max_score=1,
        )  # fmt: skip
        stored = Submission.objects.get(pk=submission.pk).result
        assert stored == graded.result
        assert not any("\x00" in text or has_surrogate(text) for text in strings(stored))
        assert "lone \ufffd nul" in test["message"]
        assert "nul\u2400 escred bad" in test["output"]
        # The answer the test got, shown beside it, is stored cleaned the same way.
        answered = test["exchanges"][0]["response"]["body"]["text"]
        assert '"a": "lone \ufffd nul \\u0000"' in answered  # JSON escapes the NUL itself
        assert leftovers(graded) == []


def test_hostile_output_stores_on_postgresql(postgres_server, tmp_path):  # noqa: F811
    """Run TestHostileOutputStores in a separate pytest process against a private PostgreSQL."""
    suite, vendors = run_on_postgresql(
        postgres_server, __file__, "TestHostileOutputStores", tmp_path / "report.xml"
    )
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "0")
    assert vendors == {"postgresql"}
