"""Grading real apps end to end through sandbox.runner.grade()."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox import runner
from sandbox.archive import pack_directory, pack_files
from sandbox.results import RESULT_KEYS, TIMING_KEYS
from tests.sandbox.conftest import grade_files

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]

FRAMEWORKS = ("flask", "django", "fastapi")
QUEUED_AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def hello_graded(hello_spec, runner_image):
    """Grade each hello starter and solution once: {(kind, framework): (result, phases)}."""
    graded = {}
    for kind in ("solution", "starter"):
        for framework in FRAMEWORKS:
            files = getattr(hello_spec, kind)(framework)
            phases: list[str] = []
            result = runner.grade(
                spec=hello_spec,
                archive=pack_files(files),
                framework=framework,
                on_phase=phases.append,
                queued_at=QUEUED_AT,
            )
            graded[kind, framework] = (result, phases)
    return graded


# The hello exercise ------------------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_hello_solution_passes_with_full_score(hello_graded, framework):
    result, _ = hello_graded["solution", framework]
    assert result["status"] == "passed", result
    assert result["score"] == result["max_score"] == 6
    assert result["message"] == "All 4 tests passed."
    assert all(t["status"] == "passed" for t in result["tests"])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_hello_starter_fails_with_a_lower_score(hello_graded, framework):
    result, _ = hello_graded["starter", framework]
    assert result["status"] == "failed", result
    assert 0 < result["score"] < result["max_score"]
    assert result["message"] == "2 of 4 tests passed."


def test_a_result_has_exactly_the_documented_keys(hello_graded):
    result, _ = hello_graded["starter", "flask"]
    assert tuple(result) == RESULT_KEYS
    for test in result["tests"]:
        assert set(test) == {
            "name", "status", "points", "max_points", "message", "output", "hidden", "hint",
            "cause", "exchanges", "more_exchanges",
        }  # fmt: skip
    assert tuple(result["timings"]) == TIMING_KEYS


def test_timings_are_utc_moments_in_order(hello_graded):
    result, _ = hello_graded["solution", "django"]
    moments = [datetime.fromisoformat(result["timings"][key]) for key in TIMING_KEYS]
    assert moments[0] == QUEUED_AT
    assert all(m.utcoffset().total_seconds() == 0 for m in moments)
    assert moments == sorted(moments)


def test_phases_are_reported_as_the_run_goes(hello_graded):
    _, phases = hello_graded["solution", "fastapi"]
    assert phases == ["booting", "testing"]


def test_hidden_tests_show_neither_name_nor_message(hello_graded):
    result, _ = hello_graded["starter", "fastapi"]
    hidden = [t for t in result["tests"] if t["name"].startswith("Hidden test")]
    assert [t["name"] for t in hidden] == ["Hidden test 1", "Hidden test 2"]
    assert hidden[0]["status"] == "failed"  # the accented name: not done in the starter
    assert all(t["message"] == "" for t in hidden)


def test_visible_tests_are_named_by_their_docstring(hello_graded):
    result, _ = hello_graded["solution", "flask"]
    assert result["tests"][0]["name"] == 'GET / answers 200 with "Hello, world!".'
    assert result["tests"][1]["max_points"] == 2


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_failure_message_shows_method_path_expected_and_actual(hello_graded, framework):
    result, _ = hello_graded["starter", framework]
    failed = next(t for t in result["tests"] if t["status"] == "failed")
    assert failed["message"].startswith("GET /hello/ada: expected status 200, got 404. Body: ")
    assert failed["points"] == 0 and failed["max_points"] == 2


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_failing_visible_test_shows_the_request_it_sent_and_the_answer(hello_graded, framework):
    result, _ = hello_graded["starter", framework]
    failed = next(t for t in result["tests"] if t["status"] == "failed" and not t["hidden"])
    (exchange,) = failed["exchanges"]
    assert (exchange["request"]["method"], exchange["request"]["path"]) == ("GET", "/hello/ada")
    assert ["Accept-Encoding", "identity"] in exchange["request"]["headers"]
    assert exchange["response"]["status"] == 404
    assert exchange["response"]["body"]["bytes"] > 0
    assert exchange["error"] == "" and exchange["duration_ms"] >= 0
    assert failed["more_exchanges"] == 0
    passed = next(t for t in result["tests"] if t["status"] == "passed" and not t["hidden"])
    assert passed["exchanges"][0]["request"]["path"] == "/"
    assert "Hello, world!" in passed["exchanges"][0]["response"]["body"]["text"]


@pytest.mark.parametrize("kind", ["starter", "solution"])
def test_hidden_tests_show_no_requests_anywhere_in_the_result(hello_graded, kind):
    result, _ = hello_graded[kind, "flask"]
    hidden = [t for t in result["tests"] if t["hidden"]]
    assert len(hidden) == 2
    assert all((t["exchanges"], t["more_exchanges"]) == ([], 0) for t in hidden)
    stored = json.dumps(result, ensure_ascii=False)
    assert "/hello/Zoë" not in stored and "Zo\\u00eb" not in stored
    assert "/no-such-page" not in stored


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_log_holds_no_request_lines_and_no_markers(hello_graded, framework):
    result, _ = hello_graded["solution", framework]
    assert "GET /" not in result["log"]  # no access log: hidden tests' paths stay hidden
    assert "@@webcourse" not in json.dumps(result)


def test_a_framework_the_exercise_does_not_offer_is_an_error(hello_spec):
    flask_only = dataclasses.replace(hello_spec, frameworks=("flask",))
    result = runner.grade(
        spec=flask_only, archive=pack_files(hello_spec.solution("django")), framework="django"
    )
    assert result["status"] == "error"
    assert result["message"] == "This exercise is graded with Flask; Django is not one of them."
    assert tuple(result) == RESULT_KEYS


# Other shapes of app ---------------------------------------------------------------------------


def hello_result(files, hello_spec, framework):
    return runner.grade(spec=hello_spec, archive=pack_files(files), framework=framework)


def test_a_flask_app_factory_is_called(hello_spec):
    app = (
        "from flask import Flask\n\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    app.add_url_rule('/', 'index', lambda: 'Hello, world!')\n"
        "    app.add_url_rule(\n"
        "        '/hello/<name>', 'hello', lambda name: {'message': f'Hello, {name}!'}\n"
        "    )\n"
        "    return app\n"
    )
    result = hello_result({"app.py": app}, hello_spec, "flask")
    assert result["status"] == "passed", result


def test_a_flask_app_built_from_blueprints_in_a_package(hello_spec):
    files = {
        "app.py": "from greetings import create_app\n\napp = create_app()\n",
        "greetings/__init__.py": (
            "from flask import Flask\n\n"
            "def create_app():\n"
            "    from greetings.views import bp\n"
            "    app = Flask(__name__)\n"
            "    app.register_blueprint(bp)\n"
            "    return app\n"
        ),
        "greetings/views.py": (
            "from flask import Blueprint, jsonify\n\n"
            "bp = Blueprint('greetings', __name__)\n\n"
            "@bp.get('/')\n"
            "def index():\n"
            "    return 'Hello, world!'\n\n"
            "@bp.get('/hello/<name>')\n"
            "def hello(name):\n"
            "    return jsonify(message=f'Hello, {name}!')\n"
        ),
    }
    result = hello_result(files, hello_spec, "flask")
    assert result["status"] == "passed", result


def test_app_run_at_import_is_ignored_with_a_note(hello_spec):
    app = hello_spec.solution("flask")["app.py"] + "\napp.run(debug=True)\n"
    result = hello_result({"app.py": app}, hello_spec, "flask")
    assert result["status"] == "passed", result
    assert "app.run() was ignored" in result["log"]


def test_a_fastapi_app_with_routers(hello_spec):
    files = {
        "main.py": (
            "from fastapi import FastAPI\n"
            "from routers import greetings\n\n"
            "app = FastAPI()\n"
            "app.include_router(greetings.router)\n"
        ),
        "routers/__init__.py": "",
        "routers/greetings.py": (
            "from fastapi import APIRouter\n"
            "from fastapi.responses import HTMLResponse\n\n"
            "router = APIRouter()\n\n"
            "@router.get('/', response_class=HTMLResponse)\n"
            "def index():\n"
            "    return '<h1>Hello, world!</h1>'\n\n"
            "@router.get('/hello/{name}')\n"
            "def hello(name: str):\n"
            "    return {'message': f'Hello, {name}!'}\n"
        ),
    }
    result = hello_result(files, hello_spec, "fastapi")
    assert result["status"] == "passed", result


def start_django_project(folder: Path) -> Path:
    """Run this machine's django-admin startproject as a learner would; return the folder."""
    django_admin = Path(sys.executable).with_name("django-admin")
    folder.mkdir()
    subprocess.run([str(django_admin), "startproject", "mysite", str(folder)], check=True)
    return folder


HELLO_URLS = (
    "from django.contrib import admin\n"
    "from django.urls import path\n"
    "from mysite import views\n\n"
    "urlpatterns = [\n"
    "    path('admin/', admin.site.urls),\n"
    "    path('', views.index),\n"
    "    path('hello/<str:name>', views.hello),\n"
    "]\n"
)


def test_a_startproject_default_django_project_is_graded(hello_spec, tmp_path):
    project = start_django_project(tmp_path / "project")
    settings_text = (project / "mysite" / "settings.py").read_text()
    assert "DEBUG = True" in settings_text and "ALLOWED_HOSTS = []" in settings_text
    (project / "mysite" / "views.py").write_text(
        "from django.http import HttpResponse, JsonResponse\n\n"
        "def index(request):\n"
        "    return HttpResponse('Hello, world!')\n\n"
        "def hello(request, name):\n"
        "    return JsonResponse({'message': f'Hello, {name}!'})\n"
    )
    (project / "mysite" / "urls.py").write_text(HELLO_URLS)
    result = runner.grade(spec=hello_spec, archive=pack_directory(project), framework="django")
    assert result["status"] == "passed", result
    assert "Applying auth.0001_initial... OK" in result["log"]


def test_a_django_project_with_debug_off_is_still_reachable(hello_spec, tmp_path):
    project = start_django_project(tmp_path / "project")
    settings_path = project / "mysite" / "settings.py"
    settings_path.write_text(
        settings_path.read_text()
        .replace("DEBUG = True", "DEBUG = False")
        .replace("ALLOWED_HOSTS = []", "ALLOWED_HOSTS = ['example.com']")
    )
    (project / "mysite" / "views.py").write_text(
        "from django.http import HttpResponse, JsonResponse\n"
        "from django.views import View\n\n"
        "def index(request):\n"
        "    return HttpResponse('Hello, world!')\n\n"
        "class Hello(View):\n"
        "    def get(self, request, name):\n"
        "        return JsonResponse({'message': f'Hello, {name}!'})\n\n"
        "hello = Hello.as_view()\n"
    )
    (project / "mysite" / "urls.py").write_text(HELLO_URLS)
    result = runner.grade(spec=hello_spec, archive=pack_directory(project), framework="django")
    assert result["status"] == "passed", result
    assert 'added "localhost" to ALLOWED_HOSTS' in result["log"]


NOTES_TESTS = {
    "test_notes.py": (
        "import pytest\n"
        "from grader import expect\n\n"
        "@pytest.mark.points(3)\n"
        "def test_a_note_is_kept(client):\n"
        "    expect(client.post('/notes', json={'text': 'hi'}), status=201)\n"
        "    expect(client.get('/notes'), status=200, json=[{'text': 'hi'}])\n"
    )
}


def test_a_django_app_with_its_own_models_and_migrations(tmp_path):
    project = start_django_project(tmp_path / "project")
    settings_path = project / "mysite" / "settings.py"
    settings_path.write_text(
        settings_path.read_text().replace(
            "'django.contrib.staticfiles',", "'django.contrib.staticfiles',\n    'notes',"
        )
    )
    notes = project / "notes"
    (notes / "migrations").mkdir(parents=True)
    (notes / "__init__.py").write_text("")
    (notes / "migrations" / "__init__.py").write_text("")
    (notes / "models.py").write_text(
        "from django.db import models\n\n"
        "class Note(models.Model):\n"
        "    text = models.CharField(max_length=200)\n"
    )
    (notes / "migrations" / "0001_initial.py").write_text(
        "from django.db import migrations, models\n\n"
        "class Migration(migrations.Migration):\n"
        "    initial = True\n"
        "    dependencies = []\n"
        "    operations = [migrations.CreateModel(name='Note', fields=[\n"
        "        ('id', models.BigAutoField(auto_created=True, primary_key=True)),\n"
        "        ('text', models.CharField(max_length=200)),\n"
        "    ])]\n"
    )
    (notes / "views.py").write_text(
        "import json\n"
        "from django.http import JsonResponse\n"
        "from django.views.decorators.csrf import csrf_exempt\n"
        "from notes.models import Note\n\n"
        "@csrf_exempt\n"
        "def notes(request):\n"
        "    if request.method == 'POST':\n"
        "        note = Note.objects.create(text=json.loads(request.body)['text'])\n"
        "        return JsonResponse({'text': note.text}, status=201)\n"
        "    return JsonResponse([{'text': n.text} for n in Note.objects.all()], safe=False)\n"
    )
    (project / "mysite" / "urls.py").write_text(
        "from django.urls import path\nfrom notes.views import notes\n\n"
        "urlpatterns = [path('notes', notes)]\n"
    )
    graded = grade_files(
        {p.relative_to(project).as_posix(): p.read_bytes() for p in project.rglob("*.py")},
        framework="django",
        tests=NOTES_TESTS,
    )
    assert graded.result["status"] == "passed", graded.result
    assert graded.result["score"] == 3
    assert "Applying notes.0001_initial... OK" in graded.result["log"]


def test_a_flask_app_keeps_in_memory_state_across_requests():
    app = (
        "from flask import Flask, request\n\n"
        "app = Flask(__name__)\n"
        "NOTES = []\n\n"
        "@app.route('/notes', methods=['GET', 'POST'])\n"
        "def notes():\n"
        "    if request.method == 'POST':\n"
        "        NOTES.append({'text': request.json['text']})\n"
        "        return NOTES[-1], 201\n"
        "    return NOTES\n"
    )
    graded = grade_files({"app.py": app}, tests=NOTES_TESTS)
    assert graded.result["status"] == "passed", graded.result


def test_a_server_error_shows_the_status_and_the_page_in_the_message():
    app = (
        "from flask import Flask\n\n"
        "app = Flask(__name__)\n\n"
        "@app.post('/notes')\n"
        "def notes():\n"
        "    return 1 / 0\n"
    )
    graded = grade_files({"app.py": app}, tests=NOTES_TESTS)
    test = graded.result["tests"][0]
    assert test["status"] == "failed"
    assert re.match(
        r"POST /notes: expected status 201, got 500\. Body: .*Internal Server Error",
        test["message"],
    )
    # The traceback sits next to the failure of the (visible) test during which it was raised.
    assert "ZeroDivisionError" in test["output"]
    assert 'File "app.py", line 7, in notes' in test["output"]
