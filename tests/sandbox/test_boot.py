"""boot.py's pure parts, on this host: requirements, entry points, settings, tracebacks."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import django
import pytest

from sandbox.container import boot


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# requirements.txt ---------------------------------------------------------------------------


def test_requirement_lines_give_names_and_exact_pins():
    text = (
        "# the web app\n"
        "Flask==3.0.3  # pinned\n"
        "flask-sqlalchemy[async] >=3.1\n"
        "-r other.txt\n"
        "--index-url https://example.org/simple\n"
        "\n"
        "pydantic>=2; python_version >= '3.8'\n"
        "mylib @ https://example.org/mylib.zip\n"
    )
    assert boot.requirement_names(text) == [
        ("Flask", "3.0.3"),
        ("flask-sqlalchemy", ""),
        ("pydantic", ""),
        ("mylib", ""),
    ]


def test_missing_packages_are_listed_once_and_pins_only_noted():
    installed = {"flask": "3.1.0", "flask-sqlalchemy": "3.1.1"}
    missing, notes = boot.check_requirements(
        "Flask==2.3.0\nFlask_SQLAlchemy\nnumpy\nnumpy>=1\nsqlite3\nleftpad\n",
        version_of=lambda name: installed.get(boot.normalise_name(name)),
    )
    assert missing == ["numpy", "leftpad"]
    assert notes == [
        "requirements.txt asks for Flask==2.3.0; the sandbox has 3.1.0.",
        "requirements.txt lists sqlite3, which is part of Python itself; ignored.",
    ]


def test_installed_versions_are_read_from_package_metadata():
    assert boot.installed_version("Django") == django.__version__
    assert boot.installed_version("no-such-package-here") is None


# Django settings ----------------------------------------------------------------------------


def startproject_manage_py(project: str = "mysite") -> str:
    template = Path(django.__file__).parent / "conf" / "project_template" / "manage.py-tpl"
    return template.read_text().replace("{{ project_name }}", project)


def test_the_settings_module_is_read_from_a_startproject_manage_py():
    assert boot.settings_module_from_manage(startproject_manage_py("blog")) == "blog.settings"


def test_the_settings_module_may_be_assigned_directly():
    source = 'import os\nos.environ["DJANGO_SETTINGS_MODULE"] = "conf.prod"\n'
    assert boot.settings_module_from_manage(source) == "conf.prod"


@pytest.mark.parametrize(
    "source", ["import os\n", "def broken(:\n", "os.environ.setdefault(NAME, x)"]
)
def test_no_settings_module_is_none(source):
    assert boot.settings_module_from_manage(source) is None


def test_a_django_project_settings_module_is_found(tmp_path):
    write(tmp_path, {"manage.py": startproject_manage_py(), "mysite/settings.py": ""})
    assert boot.find_settings_module(str(tmp_path)) == "mysite.settings"


def test_a_settings_package_counts(tmp_path):
    source = startproject_manage_py().replace("mysite.settings", "mysite.settings.dev")
    write(tmp_path, {"manage.py": source, "mysite/settings/dev.py": ""})
    assert boot.find_settings_module(str(tmp_path)) == "mysite.settings.dev"


def test_a_manage_py_without_the_setting_falls_back_to_the_only_settings_file(tmp_path):
    write(tmp_path, {"manage.py": "print('hi')\n", "site/settings.py": ""})
    assert boot.find_settings_module(str(tmp_path)) == "site.settings"


def test_a_missing_settings_file_is_named(tmp_path):
    write(tmp_path, {"manage.py": startproject_manage_py("blog")})
    with pytest.raises(boot.BootFailure) as failure:
        boot.find_settings_module(str(tmp_path))
    assert failure.value.message == (
        "manage.py names the settings module blog.settings, "
        "but blog/settings.py is not in your submission."
    )


def test_a_missing_manage_py_points_at_a_nested_one(tmp_path):
    write(tmp_path, {"README.md": "", "project/manage.py": startproject_manage_py()})
    with pytest.raises(boot.BootFailure) as failure:
        boot.find_settings_module(str(tmp_path))
    assert failure.value.message == (
        "manage.py not found at the top of your submission; found: README.md, project/. "
        "(project/manage.py is inside a folder: submit that folder instead.)"
    )


# Flask and FastAPI entry points ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("framework", "files", "expected"),
    [
        ("flask", {"app.py": ""}, ("app", "app.py")),
        ("flask", {"app/__init__.py": ""}, ("app", "app/__init__.py")),
        ("fastapi", {"main.py": ""}, ("main", "main.py")),
        ("fastapi", {"app/main.py": "", "app/__init__.py": ""}, ("app.main", "app/main.py")),
        ("wsgi", {"app.py": ""}, ("app", "app.py")),
        ("asgi", {"app.py": ""}, ("app", "app.py")),
    ],
)
def test_the_entry_module_is_found(tmp_path, framework, files, expected):
    write(tmp_path, files)
    assert boot.find_module(framework, str(tmp_path)) == expected


def test_a_missing_app_py_suggests_renaming_the_file_that_makes_the_app(tmp_path):
    write(
        tmp_path, {"server.py": "from flask import Flask\napp = Flask(__name__)\n", "static/x": ""}
    )
    with pytest.raises(boot.BootFailure) as failure:
        boot.find_module("flask", str(tmp_path))
    assert failure.value.kind == "layout"
    assert failure.value.message == (
        "app.py not found at the top of your submission; found: server.py, static/. "
        "server.py creates a Flask app: rename it to app.py."
    )


def test_a_nested_main_py_is_pointed_at(tmp_path):
    write(tmp_path, {"project/main.py": "", "notes.txt": ""})
    with pytest.raises(boot.BootFailure, match=r"\(project/main\.py is inside a folder"):
        boot.find_module("fastapi", str(tmp_path))


def test_a_submission_for_another_framework_is_recognised(tmp_path):
    write(tmp_path, {"main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
    with pytest.raises(boot.BootFailure, match="looks like a FastAPI app, but you chose Flask"):
        boot.find_module("flask", str(tmp_path))
    django_project = write(tmp_path / "django", {"manage.py": "", "mysite/settings.py": ""})
    with pytest.raises(boot.BootFailure, match="looks like a Django app"):
        boot.find_module("fastapi", str(django_project))


def test_a_missing_app_py_for_any_wsgi_app_points_at_the_file_defining_app(tmp_path):
    write(tmp_path, {"hello.py": "def app(environ, start_response):\n    pass\n"})
    with pytest.raises(boot.BootFailure) as failure:
        boot.find_module("wsgi", str(tmp_path))
    assert failure.value.message == (
        "app.py not found at the top of your submission; found: hello.py. "
        "hello.py defines app: rename it to app.py."
    )


def test_a_flask_app_is_not_another_framework_under_wsgi_nor_fastapi_under_asgi(tmp_path):
    write(tmp_path / "flask", {"server.py": "from flask import Flask\napp = Flask(__name__)\n"})
    with pytest.raises(boot.BootFailure) as failure:
        boot.find_module("wsgi", str(tmp_path / "flask"))
    assert failure.value.message.endswith("server.py defines app: rename it to app.py.")
    write(tmp_path / "fastapi", {"main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
    with pytest.raises(boot.BootFailure) as failure:
        boot.find_module("asgi", str(tmp_path / "fastapi"))
    assert "looks like" not in failure.value.message
    assert failure.value.message.endswith("main.py defines app: rename it to app.py.")
    with pytest.raises(boot.BootFailure, match="looks like a FastAPI app, but you chose Any WSGI"):
        boot.find_module("wsgi", str(tmp_path / "fastapi"))


def test_the_top_level_listing_is_sorted_and_cut(tmp_path):
    assert boot.list_top_level(str(tmp_path)) == "nothing (the submission is empty)"
    write(tmp_path, {f"f{n:02}.txt": "" for n in range(15)})
    assert boot.list_top_level(str(tmp_path), limit=3) == "f00.txt, f01.txt, f02.txt and 12 more"


class FakeApp:
    pass


def is_fake(obj) -> bool:
    return isinstance(obj, FakeApp)


def test_pick_app_prefers_app_then_create_app_then_the_only_app():
    app = FakeApp()
    assert boot.pick_app(SimpleNamespace(app=app), is_fake, what="Flask", where="app.py") is app
    made = FakeApp()
    module = SimpleNamespace(create_app=lambda: made)
    assert boot.pick_app(module, is_fake, what="Flask", where="app.py") is made
    other = FakeApp()
    module = SimpleNamespace(application=other, helper=object())
    assert boot.pick_app(module, is_fake, what="Flask", where="app.py") is other


def test_pick_app_explains_what_is_wrong():
    with pytest.raises(boot.BootFailure, match=r"`app` in app\.py is a str, not a Flask app"):
        boot.pick_app(SimpleNamespace(app="hello"), is_fake, what="Flask", where="app.py")
    with pytest.raises(boot.BootFailure, match=r"does not define `app` \(a FastAPI app\)"):
        boot.pick_app(SimpleNamespace(), is_fake, what="FastAPI", where="main.py")

    def factory(config):
        return FakeApp()

    with pytest.raises(boot.BootFailure, match="needs arguments"):
        boot.pick_app(SimpleNamespace(create_app=factory), is_fake, what="Flask", where="app.py")
    with pytest.raises(boot.BootFailure, match=r"returned NoneType, not a Flask app"):
        boot.pick_app(
            SimpleNamespace(create_app=lambda: None), is_fake, what="Flask", where="app.py"
        )


# Any WSGI or ASGI app ----------------------------------------------------------------------------


def wsgi_function(environ, start_response):
    return [b""]


async def asgi_function(scope, receive, send):
    pass


class WsgiIterable:
    """PEP 3333 allows a class as the app: calling it makes the iterable."""

    def __init__(self, environ, start_response):
        pass

    def __iter__(self):
        yield b""


class Asgi2App:
    """An ASGI 2 app: the class takes the scope, its instances (receive, send)."""

    def __init__(self, scope):
        pass

    async def __call__(self, receive, send):
        pass


def interface_of(framework: str, app) -> str:
    return boot.interface_app(SimpleNamespace(app=app), framework, where="app.py")[1]


def test_wsgi_callables_of_every_shape_are_served_by_gunicorn():
    import flask

    for app in (wsgi_function, flask.Flask(__name__), WsgiIterable):
        assert interface_of("wsgi", app) == "wsgi", app


def test_asgi_callables_are_served_by_uvicorn_with_the_right_interface():
    import fastapi
    import starlette.applications

    assert interface_of("asgi", asgi_function) == "asgi3"
    assert interface_of("asgi", starlette.applications.Starlette()) == "asgi3"
    assert interface_of("asgi", fastapi.FastAPI()) == "asgi3"
    assert interface_of("asgi", Asgi2App) == "asgi2"


@pytest.mark.parametrize(
    ("framework", "module", "message"),
    [
        (
            "wsgi",
            SimpleNamespace(),
            "app.py must define a WSGI callable named app, but it defines no `app`.",
        ),
        (
            "asgi",
            SimpleNamespace(create_app=lambda: asgi_function),
            "app.py must define an ASGI callable named app, but it defines no `app`. "
            "It defines create_app(): add the line app = create_app().",
        ),
        (
            "wsgi",
            SimpleNamespace(app="Hello, world!"),
            "app.py must define a WSGI callable named app, but its `app` is a str, which "
            "cannot be called.",
        ),
        (
            "wsgi",
            SimpleNamespace(app=asgi_function),
            "app.py must define a WSGI callable named app, but its `app` is an ASGI app, "
            "called as await app(scope, receive, send): submit it as Any ASGI app instead.",
        ),
        (
            "asgi",
            SimpleNamespace(app=wsgi_function),
            "app.py must define an ASGI callable named app, but its `app` is a WSGI app, "
            "called as app(environ, start_response): submit it as Any WSGI app instead.",
        ),
        (
            "wsgi",
            SimpleNamespace(app=lambda request: "hi"),
            "app.py must define a WSGI callable named app, but its `app` takes (request): "
            "a WSGI server calls app(environ, start_response).",
        ),
        (
            "asgi",
            SimpleNamespace(app=lambda: "hi"),
            "app.py must define an ASGI callable named app, but its `app` takes (): "
            "an ASGI server calls await app(scope, receive, send).",
        ),
    ],
)
def test_an_app_that_no_server_can_call_is_explained(framework, module, message):
    with pytest.raises(boot.BootFailure) as failure:
        boot.interface_app(module, framework, where="app.py")
    assert failure.value.kind == "entry"
    assert failure.value.message == message


def test_the_class_of_an_app_is_not_the_app():
    import flask
    import starlette.applications

    with pytest.raises(boot.BootFailure) as failure:
        interface_of("wsgi", flask.Flask)
    assert failure.value.message == (
        "app.py must define a WSGI callable named app, but its `app` is the class Flask "
        "itself: make an app with app = Flask(…)."
    )
    with pytest.raises(boot.BootFailure, match=r"the class Starlette itself"):
        interface_of("asgi", starlette.applications.Starlette)


# Tracebacks ------------------------------------------------------------------------------------


def import_failure(app_dir: Path, module: str) -> BaseException:
    sys.path.insert(0, str(app_dir))
    try:
        importlib.import_module(module)
    except BaseException as exc:
        return exc
    finally:
        sys.path.remove(str(app_dir))
        for name in list(sys.modules):
            if name.startswith(("learner_", "helpers_")):
                del sys.modules[name]
    raise AssertionError("the import did not fail")


def test_a_traceback_shows_only_the_learners_frames_with_short_paths(tmp_path):
    write(
        tmp_path, {"learner_app.py": "import helpers_mod\n", "helpers_mod.py": "x = {}\nx['key']\n"}
    )
    text = boot.learner_traceback(import_failure(tmp_path, "learner_app"), str(tmp_path))
    assert 'File "learner_app.py", line 1, in <module>' in text
    assert 'File "helpers_mod.py", line 2, in <module>' in text
    assert text.rstrip().endswith("KeyError: 'key'")
    assert str(tmp_path) not in text
    assert "importlib" not in text and "test_boot.py" not in text


def test_a_syntax_error_shows_file_line_and_caret(tmp_path):
    write(tmp_path, {"learner_bad.py": "x = 1\ndef f(:\n    pass\n"})
    text = boot.learner_traceback(import_failure(tmp_path, "learner_bad"), str(tmp_path))
    assert 'File "learner_bad.py", line 2' in text
    assert "SyntaxError" in text
    assert str(tmp_path) not in text


# Django's allowed hosts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("debug", "hosts", "expected"),
    [
        (True, [], []),  # DEBUG already lets localhost in
        (False, [], ["localhost"]),
        (False, ["example.com"], ["example.com", "localhost"]),
        (False, ["*"], ["*"]),
        (False, [".localhost"], [".localhost"]),
    ],
)
def test_the_grader_host_is_allowed(debug, hosts, expected):
    settings = SimpleNamespace(DEBUG=debug, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False)
    boot.allow_grader_host(settings)
    assert expected == settings.ALLOWED_HOSTS


def test_https_redirects_are_turned_off(capsys):
    settings = SimpleNamespace(DEBUG=True, ALLOWED_HOSTS=[], SECURE_SSL_REDIRECT=True)
    boot.allow_grader_host(settings)
    assert settings.SECURE_SSL_REDIRECT is False
    assert "SECURE_SSL_REDIRECT is off" in capsys.readouterr().out


# Talking to the grader ----------------------------------------------------------------------------


def test_a_failure_is_one_marker_line(capfd):
    boot.emit("fail", {"kind": "layout", "message": "line one\nline two"})
    out = capfd.readouterr().out
    assert out == '\n@@webcourse:fail {"kind": "layout", "message": "line one\\nline two"}\n'


def test_an_unknown_framework_fails_with_a_marker(capfd):
    assert boot.main(["boot.py", "rails"]) == boot.EXIT_FAILED
    assert '@@webcourse:fail {"kind": "usage"' in capfd.readouterr().out


def test_the_submission_is_copied_whole(tmp_path):
    source = write(tmp_path / "in", {"app.py": "x", "templates/index.html": "<h1>"})
    boot.copy_submission(str(source), str(tmp_path / "out"))
    assert (tmp_path / "out" / "templates" / "index.html").read_text() == "<h1>"
