"""Start a learner's web app inside the sandbox container.

This file is mounted read-only into the learner's container and run there as the container's
command (``python /opt/webcourse/boot.py FRAMEWORK``) with the runner image's Python. It imports
nothing from the course project. It:

1. copies the read-only submission (/submission) into the writable scratch dir (/scratch/app),
   so a project's SQLite file next to manage.py and migrations can be written;
2. checks requirements.txt: every package named must already be installed (there is no network);
3. finds and imports the app for the framework (Flask: app.py, FastAPI: main.py, Django: manage.py,
   then ``migrate``; any WSGI or ASGI app: the callable ``app`` in app.py);
4. serves it with ONE server process on the Unix socket /run/app/app.sock: gunicorn (gthread,
   1 worker, 4 threads) for WSGI apps, uvicorn for ASGI apps.

Two processes share the work, so that nothing the learner's code prints or does can speak
for the grader:

- the **supervisor** (this file, run as the container's command) takes the run's secret nonce
  from its environment, makes itself undumpable (the learner's code, running as the same user,
  then cannot read its memory, environment or file descriptors through /proc), copies the files,
  checks requirements.txt, and binds both sockets in /run/app: the app's (app.sock) and its own
  control socket (control.sock). It says "sockets" and waits until the grader, having sealed
  the folder (no one in the container may create anything there any more), says "sealed" on
  the control socket. Only then does it start
- the **server** (``boot.py --serve FRAMEWORK REPORT_FD LISTEN_FD``): a fresh interpreter with
  the nonce removed from its environment, which loads the learner's app and serves it on the
  listening socket it inherits. It reports "ready" or a failure to the supervisor on the pipe
  REPORT_FD; its stdout and stderr are the container's stdout. No code of the learner's ever
  runs while the socket folder is writable.

Only the supervisor writes marker lines, and each carries the nonce::

    @@webcourse:<nonce>:sockets
    @@webcourse:<nonce>:ready
    @@webcourse:<nonce>:fail {"kind": "...", "message": "...", ...}
    @@webcourse:<nonce>:mark <token>

A line the app prints that looks like a marker lacks the nonce and stays ordinary output. The
grader's test process asks for a mark on the control socket as each test starts and ends; the
mark lands in the output stream after everything the app printed before it, so the grader can
tell which output belongs to which test (and show none of what hidden tests caused).

A **warm** container (``python /opt/webcourse/boot.py --warm [FRAMEWORK]``) is started before
any learner needs it, with an empty /submission. Its supervisor binds the sockets and waits for
"sealed" as above, then starts the server at once: it imports the expected framework (nothing
of the learner's exists yet) and says "warm", and the supervisor prints::

    @@webcourse:<nonce>:warm

Then both wait. The grader that claims the container writes the learner's files into the
submission folder (from the host side) and sends one command on the control socket::

    go {"mode": "app", "framework": "flask", "deadline": 65.0}

The supervisor answers "ok", resets its deadline to the run's own, copies the files, checks
requirements.txt and hands the command to the server, which loads and serves the app as in a
cold start; from there the run is the same. "go" is taken once: a container serves one run.
A script instead (``go {"mode": "script", "entry": "main.py", "time_limit": 5}``) is run as
script.py runs one in a cold script container, the server being killed first.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.machinery
import importlib.metadata
import inspect
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

SUBMISSION_DIR = "/submission"
APP_DIR = "/scratch/app"
SOCKET_PATH = "/run/app/app.sock"
CONTROL_PATH = "/run/app/control.sock"
NONCE_VARIABLE = "WEBCOURSE_NONCE"
# Seconds the container may live, whoever is left to stop it: the grader removes it sooner,
# but a grader killed mid-run (a grading host that died) cannot.
DEADLINE_VARIABLE = "WEBCOURSE_DEADLINE"

MARKER = "@@webcourse:"
EXIT_FAILED = 3  # boot failed; the marker line says why
EXIT_DEADLINE = 124  # the container's time was up (as timeout(1) says it)
MAX_TOKEN_CHARS = 64  # a mark's token: the grader sends 16 hex digits
MAX_REPORT_BYTES = 64 * 1024  # one message from the server to the supervisor
SEAL_TIMEOUT = 10.0  # how long the supervisor waits for the grader to seal the socket folder
MAX_COMMAND_BYTES = 4096  # a warm container's "go" line
COMMAND_TIMEOUT = 5.0  # how long the supervisor waits for the rest of a "go" line
# What a warm server imports before its run comes, for the framework it expects (any other
# still runs: it imports the rest then, as a cold start does): only modules that are safe to
# import without the learner's settings (Django's core, not its apps). Importing them all
# would cost each warm container a second of CPU and 30 MiB more of its memory limit.
_WSGI_SERVER = ("gunicorn.app.base", "gunicorn.workers.gthread")
_ASGI_SERVER = ("uvicorn", "uvicorn.server")
WARM_MODULES = {
    "flask": ("flask", "werkzeug", "jinja2", *_WSGI_SERVER),
    "fastapi": ("fastapi", "starlette.applications", "pydantic", *_ASGI_SERVER),
    "django": (
        "django", "django.conf", "django.core.handlers.wsgi", "django.core.wsgi",
        "django.core.management", "django.http", "django.urls", "django.db.models",
        "django.views", "django.template", *_WSGI_SERVER,
    ),
    "wsgi": _WSGI_SERVER,
    "asgi": _ASGI_SERVER,
}  # fmt: skip
MODES = ("app", "script")  # what a warm container runs: an app, or a script (see script.py)
# A script's path: relative, no "." or ".." part, and no part starting with "-" (python would
# read the entry as an option).
_SCRIPT_ENTRY = re.compile(
    r"^(?!/)(?!.*(?:^|/)\.\.?(?:/|$))(?!(?:.*/)?-)[A-Za-z0-9_./-]{1,200}\.py$"
)

FRAMEWORK_NAMES = {
    "flask": "Flask",
    "django": "Django",
    "fastapi": "FastAPI",
    "wsgi": "Any WSGI app",
    "asgi": "Any ASGI app",
}
# The frameworks that take any app of an interface, and how a server calls such an app.
INTERFACE_CALLS = {
    "wsgi": "app(environ, start_response)",
    "asgi": "await app(scope, receive, send)",
}
# What a framework's app also is: a Flask app is a WSGI app, so under "wsgi" it is not "another
# framework" (Django is: its entry point is manage.py, not app.py).
COVERED_BY = {"wsgi": {"flask"}, "asgi": {"fastapi"}}
# Longest message sent in a marker line; tracebacks are cut from the top.
MAX_MESSAGE_CHARS = 6000


class BootFailure(Exception):
    """The app cannot be started; `message` is meant for the learner."""

    def __init__(self, kind: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.extra = extra


# Talking to the grader ------------------------------------------------------------------


def emit(name: str, payload: dict[str, Any] | str | None = None, *, nonce: str = "") -> None:
    """Print a marker line for the grader (on a line of its own, whatever came before)."""
    line = MARKER + (f"{nonce}:" if nonce else "") + name
    if isinstance(payload, str):
        line += " " + payload
    elif payload is not None:
        line += " " + json.dumps(payload, ensure_ascii=True)
    with contextlib.suppress(Exception):  # a broken sys.stdout must not hide the marker
        sys.stdout.flush()
    data = ("\n" + line + "\n").encode()
    while data:
        data = data[os.write(1, data) :]


def note(text: str) -> None:
    """Print a note for the learner into the app's output."""
    sys.stdout.write(f"[sandbox] {text}\n")
    sys.stdout.flush()


# The server's end of the pipe to the supervisor (set by serve_main).
_report_fd: int | None = None


def report(name: str, payload: dict[str, Any] | None = None) -> None:
    """Tell the supervisor something ("ready", or "fail" with details) on the report pipe."""
    line = name + ("" if payload is None else " " + json.dumps(payload, ensure_ascii=True))
    if _report_fd is None:
        emit(name, payload)  # run by hand, without a supervisor
        return
    data = (line + "\n").encode()[:MAX_REPORT_BYTES]
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(_report_fd, data) :]


def announce_ready() -> None:
    report("ready")


def announce_worker_ready(worker: Any) -> None:
    """gunicorn's post_worker_init hook: the worker holds the app and accepts connections."""
    announce_ready()


# Copying and requirements -----------------------------------------------------------------


def copy_submission(source: str, target: str) -> None:
    """Copy the submitted files into the writable scratch directory."""
    shutil.copytree(source, target, symlinks=True, copy_function=shutil.copyfile)


def requirement_names(text: str) -> list[tuple[str, str]]:
    """Return (name, version pin or "") for each requirement line of a requirements.txt."""
    found: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line.startswith("-"):
            continue  # options such as -r, -e, --index-url: nothing to install here anyway
        line = line.split(";", 1)[0].strip()  # environment markers
        match = re.match(
            r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$", line
        )
        if not match:
            continue
        pin = ""
        exact = re.match(r"==\s*([A-Za-z0-9.*+!_-]+)\s*$", match.group(3))
        if exact:
            pin = exact.group(1)
        found.append((match.group(1), pin))
    return found


def normalise_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(normalise_name(name))
    except importlib.metadata.PackageNotFoundError:
        return None


def check_requirements(
    text: str, version_of: Callable[[str], str | None] = installed_version
) -> tuple[list[str], list[str]]:
    """Return (missing package names, notes for the learner) for a requirements.txt."""
    missing: list[str] = []
    notes: list[str] = []
    for name, pin in requirement_names(text):
        if name.lower() in sys.stdlib_module_names:
            notes.append(f"requirements.txt lists {name}, which is part of Python itself; ignored.")
            continue
        version = version_of(name)
        if version is None:
            if name not in missing:
                missing.append(name)
        elif pin and pin != version:
            notes.append(f"requirements.txt asks for {name}=={pin}; the sandbox has {version}.")
    return missing, notes


# Finding the app --------------------------------------------------------------------------


def list_top_level(app_dir: str, limit: int = 12) -> str:
    """Describe what is at the top of the submission, for "not found" messages."""
    try:
        entries = sorted(os.scandir(app_dir), key=lambda e: e.name)
    except OSError:
        return "nothing"
    names = [e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in entries]
    if not names:
        return "nothing (the submission is empty)"
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def detect_other_framework(app_dir: str, framework: str) -> str | None:
    """Return the framework a submission looks written for, when it is not `framework`."""
    root = Path(app_dir)
    if framework != "django" and (root / "manage.py").is_file():
        return "django"
    texts = ""
    for path in sorted(root.glob("*.py"))[:30]:
        try:
            texts += path.read_text(encoding="utf-8", errors="replace")[:20000]
        except OSError:
            continue
    covered = {framework, *COVERED_BY.get(framework, ())}
    if "fastapi" not in covered and re.search(r"\bFastAPI\s*\(", texts):
        return "fastapi"
    if "flask" not in covered and re.search(r"\bFlask\s*\(", texts):
        return "flask"
    return None


def find_module(framework: str, app_dir: str) -> tuple[str, str]:
    """Return (module, file) to import for a submission with an app.py or main.py, or raise."""
    root = Path(app_dir)
    if framework == "fastapi":
        candidates = [("main.py", "main"), ("app/main.py", "app.main")]
        wanted, constructor = "main.py", "FastAPI"
    else:
        # Flask, or any WSGI or ASGI app. In Python's own order: a package app/ wins over a
        # module app.py.
        candidates = [("app/__init__.py", "app"), ("app.py", "app")]
        wanted, constructor = "app.py", "Flask" if framework == "flask" else ""
    for filename, module in candidates:
        if (root / filename).is_file():
            return module, filename
    message = f"{wanted} not found at the top of your submission; found: {list_top_level(app_dir)}."
    other = detect_other_framework(app_dir, framework)
    if other:
        message += (
            f" It looks like a {FRAMEWORK_NAMES[other]} app, but you chose "
            f"{FRAMEWORK_NAMES[framework]}: submit it as {FRAMEWORK_NAMES[other]} instead."
        )
    else:
        if constructor:
            hint = _file_matching(root, rf"\b{constructor}\s*\(")
            if hint:
                message += f" {hint} creates a {constructor} app: rename it to {wanted}."
        else:
            hint = _file_matching(root, r"(?m)^(app\s*(:[^=\n]*)?=|(async\s+)?def\s+app\s*\()")
            if hint:
                message += f" {hint} defines app: rename it to {wanted}."
        nested = sorted(p.relative_to(root).as_posix() for p in root.glob(f"*/{wanted}"))
        if nested:
            message += f" ({nested[0]} is inside a folder: move it to the top.)"
    raise BootFailure("layout", message)


def _file_matching(root: Path, pattern: str) -> str | None:
    for path in sorted(root.glob("*.py")):
        try:
            if re.search(pattern, path.read_text(encoding="utf-8", errors="replace")):
                return path.name
        except OSError:
            continue
    return None


def pick_app(module: ModuleType | Any, is_app: Callable[[Any], bool], *, what: str, where: str):
    """Return the app a module defines: `app`, else `create_app()`, else the only app object."""
    candidate = getattr(module, "app", None)
    if candidate is not None and is_app(candidate):
        return candidate
    factory = getattr(module, "create_app", None)
    if callable(factory):
        try:
            made = factory()
        except TypeError as exc:
            if "argument" in str(exc):
                raise BootFailure(
                    "entry",
                    f"create_app() in {where} needs arguments ({exc}); the sandbox calls it "
                    "with none. Give its parameters default values.",
                ) from exc
            raise
        if is_app(made):
            return made
        raise BootFailure(
            "entry", f"create_app() in {where} returned {type(made).__name__}, not a {what} app."
        )
    others = [
        value for name, value in vars(module).items() if not name.startswith("_") and is_app(value)
    ]
    if len(others) == 1:
        return others[0]
    if candidate is not None:
        raise BootFailure(
            "entry", f"`app` in {where} is a {type(candidate).__name__}, not a {what} app."
        )
    raise BootFailure("entry", f"{where} does not define `app` (a {what} app) or `create_app()`.")


def interface_app(module: ModuleType | Any, framework: str, *, where: str) -> tuple[Any, str]:
    """Return a module's `app`, checked to be a WSGI or ASGI callable, and uvicorn's interface.

    The interface is "wsgi" for a WSGI app; for an ASGI app "asgi3", "asgi2" (an old-style
    class), or "auto" when the callable does not say how it is called.
    """
    must = f"{where} must define {_a(framework)} callable named app"
    app = getattr(module, "app", None)
    if app is None:
        message = f"{must}, but it defines no `app`."
        for name in ("application", "create_app"):
            if callable(getattr(module, name, None)):
                made = f"{name}()" if name == "create_app" else name
                message += f" It defines {made}: add the line app = {made}."
                break
        raise BootFailure("entry", message)
    if not callable(app):
        raise BootFailure(
            "entry", f"{must}, but its `app` is a {type(app).__name__}, which cannot be called."
        )
    other = "asgi" if framework == "wsgi" else "wsgi"
    wrong_interface = BootFailure(
        "entry",
        f"{must}, but its `app` is {_a(other)} app, "
        f"called as {INTERFACE_CALLS[other]}: submit it as {FRAMEWORK_NAMES[other]} instead.",
    )
    if inspect.isclass(app):
        # The class of an app instead of an app (app = Bottle, app = Starlette), unless the
        # class itself is the app: PEP 3333 allows one that makes iterables, and ASGI 2 one
        # whose instances take (receive, send).
        call = _call_method(app)
        if framework == "wsgi" and call is None and _accepts(app, 2):
            return app, "wsgi"
        if framework == "asgi" and inspect.iscoroutinefunction(call) and _accepts(call, 3):
            return app, "asgi2"
        raise BootFailure(
            "entry",
            f"{must}, but its `app` is the class {app.__name__} itself: make an app with "
            f"app = {app.__name__}(…).",
        )
    is_async = inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(
        _call_method(type(app))
    )
    if framework == "wsgi":
        if is_async or (not _accepts(app, 2) and _accepts(app, 3)):
            raise wrong_interface
        if _accepts(app, 2) is False:
            raise _uncallable(must, app, framework)
        return app, "wsgi"
    if inspect.isfunction(app) and not is_async and _accepts(app, 3):
        raise BootFailure(
            "entry",
            f"{must}, but its `app` is a plain def function: the server awaits what it "
            "returns, so write async def app(scope, receive, send).",
        )
    if is_async or _accepts(app, 3):
        return app, "asgi3"
    if _accepts(app, 2):
        raise wrong_interface
    if _accepts(app, 3) is False:
        raise _uncallable(must, app, framework)
    return app, "auto"


def _call_method(cls: type) -> Any:
    """Return the __call__ a class gives its instances, if it defines one."""
    return next((vars(c)["__call__"] for c in cls.__mro__ if "__call__" in vars(c)), None)


def _accepts(function: Any, count: int) -> bool | None:
    """Say whether `function` can be called with `count` positional arguments (None: unknown)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins and some C types have no signature
        return None
    try:
        signature.bind(*[None] * count)
    except TypeError:
        return False
    return True


def _a(framework: str) -> str:
    """Return "a WSGI" or "an ASGI"."""
    return ("an " if framework == "asgi" else "a ") + framework.upper()


def _uncallable(must: str, app: Any, framework: str) -> BootFailure:
    try:
        shown = f"its `app` takes {inspect.signature(app)}"
    except (TypeError, ValueError):
        shown = "its `app` takes other arguments"
    return BootFailure(
        "entry",
        f"{must}, but {shown}: {_a(framework)} server calls {INTERFACE_CALLS[framework]}.",
    )


def settings_module_from_manage(source: str) -> str | None:
    """Return the settings module a manage.py names in DJANGO_SETTINGS_MODULE, if it does."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        # os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and len(node.args) == 2
            and _is_str(node.args[0], "DJANGO_SETTINGS_MODULE")
            and _is_str(node.args[1])
        ):
            return node.args[1].value
        # os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Subscript)
            and _is_str(node.targets[0].slice, "DJANGO_SETTINGS_MODULE")
            and _is_str(node.value)
        ):
            return node.value.value
    return None


def _is_str(node: ast.AST, value: str | None = None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (value is None or node.value == value)
    )


def find_settings_module(app_dir: str) -> str:
    """Return the Django settings module of a submission, or raise BootFailure."""
    root = Path(app_dir)
    manage = root / "manage.py"
    if not manage.is_file():
        message = (
            f"manage.py not found at the top of your submission; found: {list_top_level(app_dir)}."
        )
        nested = sorted(p.relative_to(root).as_posix() for p in root.glob("*/manage.py"))
        if nested:
            message += f" ({nested[0]} is inside a folder: submit that folder instead.)"
        else:
            other = detect_other_framework(app_dir, "django")
            if other:
                message += f" It looks like a {FRAMEWORK_NAMES[other]} app, but you chose Django."
        raise BootFailure("layout", message)
    module = settings_module_from_manage(manage.read_text(encoding="utf-8", errors="replace"))
    if module is None:
        candidates = sorted(p.parent.name for p in root.glob("*/settings.py"))
        if len(candidates) == 1:
            return f"{candidates[0]}.settings"
        raise BootFailure(
            "layout",
            "manage.py does not set DJANGO_SETTINGS_MODULE (like "
            'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")).',
        )
    parts = module.split(".")
    if not (
        root.joinpath(*parts).with_suffix(".py").is_file()
        or (root.joinpath(*parts) / "__init__.py").is_file()
    ):
        raise BootFailure(
            "layout",
            f"manage.py names the settings module {module}, but "
            f"{'/'.join(parts)}.py is not in your submission.",
        )
    return module


# Tracebacks ----------------------------------------------------------------------------------


def learner_traceback(exc: BaseException, app_dir: str = APP_DIR) -> str:
    """Format an exception showing the learner's own frames, with paths relative to their app."""
    prefix = app_dir.rstrip("/") + "/"
    te = traceback.TracebackException.from_exception(exc)
    seen: set[int] = set()
    current: traceback.TracebackException | None = te
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = [f for f in current.stack if f.filename.startswith(prefix)]
        if not frames:
            frames = [
                f
                for f in current.stack
                if not f.filename.startswith("<frozen") and not f.filename.endswith("/boot.py")
            ][-3:]
        current.stack = traceback.StackSummary.from_list(frames)
        current = current.__cause__ or current.__context__
    text = "".join(te.format())
    return text.replace(prefix, "")


def _clip(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return "…\n" + text[-MAX_MESSAGE_CHARS:]


# Loading the app ---------------------------------------------------------------------------


@contextlib.contextmanager
def learner_code(kind: str, heading: str) -> Iterator[None]:
    """Turn anything the learner's code raises into a BootFailure showing their traceback."""
    try:
        yield
    except BootFailure:
        raise
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from learner code too
        detail = learner_traceback(exc)
        sys.stderr.write(detail)
        raise BootFailure(kind, f"{heading}\n{_clip(detail)}") from None


def _disable_dev_servers() -> None:
    """Make app.run() / uvicorn.run() at import time harmless: the sandbox serves the app."""

    def ignored(what: str) -> Callable[..., None]:
        def skip(*_args: Any, **_kwargs: Any) -> None:
            note(f"{what} was ignored: in the sandbox your app is served by a real server.")

        return skip

    try:
        import flask

        flask.Flask.run = ignored("app.run()")
    except ImportError:
        pass
    try:
        import uvicorn

        uvicorn.run = ignored("uvicorn.run()")
    except ImportError:
        pass
    try:
        import bottle

        bottle.run = ignored("bottle.run()")  # Bottle.run() calls it too
    except ImportError:
        pass


def load_flask_app(app_dir: str):
    import flask

    module_name, filename = find_module("flask", app_dir)
    with learner_code("import", f"Importing {filename} failed:"):
        module = importlib.import_module(module_name)
    with learner_code("import", "create_app() failed:"):
        return pick_app(
            module, lambda obj: isinstance(obj, flask.Flask), what="Flask", where=filename
        )


def load_fastapi_app(app_dir: str):
    from starlette.applications import Starlette

    module_name, filename = find_module("fastapi", app_dir)
    with learner_code("import", f"Importing {filename} failed:"):
        module = importlib.import_module(module_name)
    with learner_code("import", "create_app() failed:"):
        return pick_app(
            module, lambda obj: isinstance(obj, Starlette), what="FastAPI", where=filename
        )


def load_interface_app(framework: str, app_dir: str) -> tuple[Any, str]:
    """Import app.py and return its WSGI or ASGI callable `app`, and uvicorn's interface."""
    module_name, filename = find_module(framework, app_dir)
    with learner_code("import", f"Importing {filename} failed:"):
        module = importlib.import_module(module_name)
    with learner_code("import", f"Looking at `app` in {filename} failed:"):
        return interface_app(module, framework, where=filename)


def load_django_app(app_dir: str):
    settings_module = find_settings_module(app_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    with learner_code("import", "Loading your Django project failed:"):
        django.setup()
        allow_grader_host(settings)
    try:
        with learner_code("migrate", "`python manage.py migrate` failed:"):
            call_command("migrate", interactive=False, verbosity=1)
    finally:
        # The server forks after this; a connection opened here must not be shared with it.
        connections.close_all()
    with learner_code("import", "Loading your Django project failed:"):
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()


def allow_grader_host(settings) -> None:
    """Let the grader reach the app as http://localhost, whatever ALLOWED_HOSTS says.

    Django with DEBUG=True and empty ALLOWED_HOSTS already accepts localhost; a deployment-ready
    ALLOWED_HOSTS (or DEBUG=False) would turn every test request into 400 Bad Request, which says
    nothing about the app itself.
    """
    from django.http.request import validate_host

    allowed = list(settings.ALLOWED_HOSTS)
    effective = allowed or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    if not validate_host("localhost", effective):
        settings.ALLOWED_HOSTS = [*allowed, "localhost"]
        note('added "localhost" to ALLOWED_HOSTS for this run: the grader calls the app so.')
    if getattr(settings, "SECURE_SSL_REDIRECT", False):
        settings.SECURE_SSL_REDIRECT = False
        note("SECURE_SSL_REDIRECT is off for this run: the grader talks plain HTTP.")


# Serving ------------------------------------------------------------------------------------


def serve_wsgi(app, socket_path: str, listen_fd: int | None = None) -> None:
    """Serve a WSGI app with gunicorn: one worker process, a few threads."""
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": [f"fd://{listen_fd}" if listen_fd is not None else f"unix:{socket_path}"],
        "workers": 1,
        "threads": 4,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 1,
        "loglevel": "warning",
        "errorlog": "-",
        # No access log: the request lines of hidden tests must not reach the learner.
        "accesslog": None,
        "post_worker_init": announce_worker_ready,
    }

    class SandboxServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    SandboxServer().run()


# uvicorn's logging, quiet like gunicorn's above: warnings and errors, no access log (the
# request lines of hidden tests must not reach the learner).
UVICORN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "access": {"()": "uvicorn.logging.AccessFormatter"},  # uvicorn expects it, unused
    },
    "handlers": {
        "default": {"class": "logging.StreamHandler", "formatter": "default"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def serve_asgi(
    app, socket_path: str, listen_fd: int | None = None, *, interface: str = "auto"
) -> None:
    """Serve an ASGI app with uvicorn in this one process."""
    import uvicorn

    config = uvicorn.Config(
        app,
        interface=interface,
        **({"fd": listen_fd} if listen_fd is not None else {"uds": socket_path}),
        log_config=UVICORN_LOGGING,
        log_level=None,
        access_log=False,
        use_colors=False,
        lifespan="auto",
        timeout_graceful_shutdown=1,
    )

    class SandboxServer(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                announce_ready()

    SandboxServer(config).run()


def prepare(framework: str) -> None:
    """Copy the files and check requirements.txt (no learner code runs here)."""
    if framework not in FRAMEWORK_NAMES:
        raise BootFailure("usage", f"unknown framework {framework!r}")
    copy_submission(SUBMISSION_DIR, APP_DIR)
    requirements = Path(APP_DIR, "requirements.txt")
    if requirements.is_file():
        missing, notes = check_requirements(
            requirements.read_text(encoding="utf-8", errors="replace")
        )
        for text in notes:
            note(text)
        if missing:
            raise BootFailure(
                "missing-packages", "packages missing: " + ", ".join(missing), packages=missing
            )


def import_framework(framework: str, app_dir: str = APP_DIR) -> None:
    """Import what an app of `framework` needs (what a warm server imports ahead), before any
    code of the learner's runs on purpose; when that fails because a file of theirs took the
    name of a module the framework needs (a flask.py, a jinja2.py), say so plainly."""
    prefix = app_dir.rstrip("/") + "/"
    for name in WARM_MODULES.get(framework, ()):
        try:
            importlib.import_module(name)
        except Exception as exc:
            culprits = _learner_files_imported(exc, prefix)
            if culprits:
                raise _shadowing(name, culprits, exc) from None
            if isinstance(exc, ModuleNotFoundError) and exc.name == name:
                continue  # the image lacks it, as in preload(): the app's own import will say
            raise
        top = sys.modules.get(name.partition(".")[0])
        file = getattr(top, "__file__", None) or ""
        if file.startswith(prefix):  # a flask.py of the learner's, imported as Flask
            raise _shadowing(name, [file.removeprefix(prefix)], None)


def _learner_files_imported(exc: BaseException, prefix: str) -> list[str]:
    """Return the learner's files (relative) that were imported or ran while `exc` was raised."""
    files = {getattr(module, "__file__", None) or "" for module in list(sys.modules.values())} | {
        frame.filename for frame in traceback.extract_tb(exc.__traceback__)
    }
    return sorted(f.removeprefix(prefix) for f in files if f.startswith(prefix))


def _shadowing(module: str, files: list[str], exc: BaseException | None) -> BootFailure:
    named = " and ".join(files)
    message = (
        f"Your {named} {'has' if len(files) == 1 else 'have'} the name of an installed module "
        f"that is needed to run your app: importing {module} found your file instead. Rename "
        "it, and the imports that use it."
    )
    if exc is not None:
        message += f"\n{_clip(learner_traceback(exc))}"
    return BootFailure("import", message)


def serve(framework: str, listen_fd: int | None = None) -> None:
    """Load and serve the learner's app; raise BootFailure when that is impossible."""
    os.chdir(APP_DIR)
    sys.path.insert(0, APP_DIR)
    import_framework(framework)
    if framework == "django":
        serve_wsgi(load_django_app(APP_DIR), SOCKET_PATH, listen_fd)
        return
    _disable_dev_servers()
    if framework == "flask":
        serve_wsgi(load_flask_app(APP_DIR), SOCKET_PATH, listen_fd)
    elif framework == "fastapi":
        serve_asgi(load_fastapi_app(APP_DIR), SOCKET_PATH, listen_fd)
    elif framework == "wsgi":
        app, _ = load_interface_app(framework, APP_DIR)
        serve_wsgi(app, SOCKET_PATH, listen_fd)
    else:
        app, interface = load_interface_app(framework, APP_DIR)
        serve_asgi(app, SOCKET_PATH, listen_fd, interface=interface)


def serve_main(framework: str, report_fd: int, listen_fd: int) -> int:
    """The server process: serve the app on `listen_fd`, reporting on `report_fd`."""
    global _report_fd
    _report_fd = report_fd
    try:
        serve(framework, listen_fd)
    except BootFailure as failure:
        report("fail", {"kind": failure.kind, "message": failure.message, **failure.extra})
        return EXIT_FAILED
    return 0


def preload(framework: str) -> None:
    """Import what an app of `framework` needs; a module the image lacks is skipped."""
    for name in WARM_MODULES.get(framework, ()):
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def learner_module_names(app_dir: str) -> set[str]:
    """Return the top-level names the learner's files take on the import path (app_dir first):
    a module file of any suffix Python imports, or a folder with an __init__.py."""
    suffixes = tuple(importlib.machinery.all_suffixes())
    names = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir(app_dir):
            if entry.name.endswith(suffixes) and entry.is_file():
                suffix = next(x for x in suffixes if entry.name.endswith(x))
                if (stem := entry.name[: -len(suffix)]).isidentifier():
                    names.add(stem)
            elif entry.is_dir() and os.path.isfile(os.path.join(entry.path, "__init__.py")):
                names.add(entry.name)
    return names


def forget_shadowed(preloaded: set[str], app_dir: str) -> None:
    """Make a warm server import as a cold one would when the learner's files shadow a module
    it imported ahead (say, a jinja2.py of their own): forget the modules imported ahead, so
    that the app's imports find the learner's file first, as at a cold start. Compiled
    extension modules stay (some cannot be initialised twice); nothing of the learner's is
    one of them."""
    if not {name.partition(".")[0] for name in preloaded} & learner_module_names(app_dir):
        return
    extension = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for name in preloaded:
        module = sys.modules.get(name)
        origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
        if not origin.endswith(extension):
            sys.modules.pop(name, None)
    importlib.invalidate_caches()


def read_command(fd: int) -> dict[str, Any] | None:
    """Read the supervisor's one command line from `fd`; None when it closed the pipe."""
    data = b""
    while not data.endswith(b"\n") and len(data) <= MAX_COMMAND_BYTES:
        try:
            chunk = os.read(fd, MAX_COMMAND_BYTES)
        except InterruptedError:
            continue
        if not chunk:
            break
        data += chunk
    return parse_command(data.decode("utf-8", "replace"))


def parse_command(text: str) -> dict[str, Any] | None:
    """Return a warm container's run command if it is one it can carry out, else None."""
    try:
        command = json.loads(text)
    except ValueError:
        return None
    if not isinstance(command, dict) or command.get("mode") not in MODES:
        return None
    if command["mode"] == "app" and command.get("framework") not in FRAMEWORK_NAMES:
        return None
    if command["mode"] == "script" and not (
        isinstance(command.get("entry"), str)
        and _SCRIPT_ENTRY.match(command["entry"])
        and _seconds(command.get("time_limit"))
    ):
        return None
    if command.get("deadline") is not None and not _seconds(command["deadline"]):
        return None
    return command


def _seconds(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def run_warm_script(command: dict[str, Any], server: subprocess.Popen, control) -> int:
    """Run a script as a cold script run does (script.py, mounted beside this file).

    The warm server is not needed: it is killed, and the sockets are closed. script.py then
    copies the files (from /submission here), runs ``python ENTRY`` with its own time limit,
    and this process exits with the script's status.
    """
    control.close()
    server.kill()  # it holds nothing of the run's: no need to let it shut down
    server.wait()
    import script  # sandbox/container/script.py, beside this file

    script.FILES_DIR = SUBMISSION_DIR
    os.environ[script.TIME_LIMIT_VARIABLE] = f"{command['time_limit']:g}"
    return script.main(["script.py", command["entry"]])


def warm_serve_main(report_fd: int, listen_fd: int, command_fd: int, expected: str) -> int:
    """A warm server: import the frameworks, say "warm", then serve what the command says."""
    global _report_fd
    _report_fd = report_fd
    before = set(sys.modules)
    preload(expected)
    preloaded = set(sys.modules) - before
    report("warm")
    command = read_command(command_fd)
    os.close(command_fd)
    if command is None:  # retired unclaimed, or the supervisor is gone
        return 0
    forget_shadowed(preloaded, APP_DIR)  # the files are in place once "go" comes
    return serve_main(command["framework"], report_fd, listen_fd)


# The supervisor -----------------------------------------------------------------------------


def end_at_deadline(seconds: float) -> None:
    """End the container after `seconds`, whatever the app is doing by then.

    The supervisor is the container's first process: when it exits, the kernel kills every
    other process of the container, the learner's server included. SIGALRM is used (with a
    handler: the first process of a PID namespace ignores signals it has no handler for), so
    nothing in the container has to cooperate. The learner's code may send it SIGALRM too,
    which only ends its own run early.
    """

    def expire(signum, frame) -> None:
        os._exit(EXIT_DEADLINE)

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))


def make_undumpable() -> None:
    """Keep same-user processes out of this one's /proc entries (memory, environ, fds)."""
    import ctypes

    pr_set_dumpable = 4
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


def server_environment() -> dict[str, str]:
    """Return the server's environment: ours without the nonce, output unbuffered."""
    environment = {
        k: v for k, v in os.environ.items() if k not in (NONCE_VARIABLE, DEADLINE_VARIABLE)
    }
    environment["PYTHONUNBUFFERED"] = "1"  # output reaches the grader in the order printed
    return environment


def parse_failure(text: str) -> dict[str, Any] | None:
    """Return the failure a server reported, if it is well formed."""
    try:
        failure = json.loads(text)
    except ValueError:
        return None
    if not isinstance(failure, dict) or not isinstance(failure.get("kind"), str):
        return None
    return failure


def listening_socket(path: str) -> socket.socket:
    """Bind and listen on a Unix socket that any user may connect to."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o666)  # noqa: S103 - the grader's test process may be another user
    listener.listen(128)
    return listener


def wait_for_seal(control: socket.socket, timeout: float) -> bool:
    """Wait until the grader says "sealed" on the control socket; False after `timeout` s."""
    control.settimeout(timeout)
    try:
        connection, _ = control.accept()
        with connection:
            connection.settimeout(timeout)
            answer = connection.recv(64)
    except OSError:
        return False
    return answer.strip() == b"sealed"


class Supervisor:
    """Start the server, relay its reports as marker lines, and answer mark requests."""

    def __init__(self, framework: str, nonce: str) -> None:
        self.framework = framework
        self.nonce = nonce
        self.failure: dict[str, Any] | None = None
        self.ready = False
        self.warm = False
        self.selector = selectors.DefaultSelector()
        self.buffers: dict[int, bytes] = {}

    def emit(self, name: str, payload: dict[str, Any] | str | None = None) -> None:
        emit(name, payload, nonce=self.nonce)

    def run(self) -> int:
        try:
            prepare(self.framework)
        except BootFailure as failure:
            return self._failed(failure)
        listener = listening_socket(SOCKET_PATH)
        control = listening_socket(CONTROL_PATH)
        self.emit("sockets")
        if not wait_for_seal(control, SEAL_TIMEOUT):
            self.emit("fail", {"kind": "sandbox", "message": "The grader did not seal the folder."})
            return EXIT_FAILED
        read_end, write_end = os.pipe()
        server = subprocess.Popen(
            [
                sys.executable, __file__, "--serve", self.framework,
                str(write_end), str(listener.fileno()),
            ],
            env=server_environment(),
            stderr=subprocess.STDOUT,  # one stream, in the order printed
            pass_fds=(write_end, listener.fileno()),
            cwd=APP_DIR,
        )  # fmt: skip
        listener.close()
        os.close(write_end)
        return self._supervise(server, control, read_end)

    def run_warm(self, expected: str = "") -> int:
        """Start the server before the files are there; run it once the grader says "go"."""
        listener = listening_socket(SOCKET_PATH)
        control = listening_socket(CONTROL_PATH)
        self.emit("sockets")
        if not wait_for_seal(control, SEAL_TIMEOUT):
            self.emit("fail", {"kind": "sandbox", "message": "The grader did not seal the folder."})
            return EXIT_FAILED
        # Sealed: from here the container can add nothing to the socket folder, so the server
        # may start. It imports the frameworks only; no file of the learner's exists yet.
        read_end, write_end = os.pipe()
        command_read, command_write = os.pipe()
        server = subprocess.Popen(
            [
                sys.executable, __file__, "--serve-warm",
                str(write_end), str(listener.fileno()), str(command_read), expected,
            ],
            env=server_environment(),
            stderr=subprocess.STDOUT,
            pass_fds=(write_end, listener.fileno(), command_read),
            cwd="/",
        )  # fmt: skip
        listener.close()
        os.close(write_end)
        os.close(command_read)
        os.set_blocking(read_end, False)
        self.selector.register(read_end, selectors.EVENT_READ, "report")
        command = self._wait_for_go(control, server)
        if command is None:
            return self._server_ended(server, read_end)
        if command.get("deadline") is not None:
            end_at_deadline(float(command["deadline"]))  # the run's own, from now
        if command["mode"] == "script":
            os.close(command_write)
            return run_warm_script(command, server, control)
        self.framework = command["framework"]
        try:
            prepare(self.framework)
        except BootFailure as failure:
            return self._failed(failure)
        line = (json.dumps(command) + "\n").encode()
        while line:
            line = line[os.write(command_write, line) :]
        os.close(command_write)
        return self._supervise(server, control, read_end, registered=True)

    def _wait_for_go(
        self, control: socket.socket, server: subprocess.Popen
    ) -> dict[str, Any] | None:
        """Relay the server's "warm"; return the first valid "go" command (None: it died)."""
        control.setblocking(False)
        self.selector.register(control, selectors.EVENT_READ, "control")
        try:
            while server.poll() is None:
                for key, _ in self.selector.select(timeout=0.5):
                    if key.data == "report":
                        self._read_report(key.fd)
                    elif key.data == "control":
                        command = self._take_go(control)
                        if command is not None:
                            return command
            return None
        finally:
            self.selector.unregister(control)

    def _take_go(self, control: socket.socket) -> dict[str, Any] | None:
        try:
            connection, _ = control.accept()
        except OSError:
            return None
        with connection:
            connection.settimeout(COMMAND_TIMEOUT)
            data = b""
            with contextlib.suppress(OSError):
                while b"\n" not in data and len(data) <= MAX_COMMAND_BYTES:
                    chunk = connection.recv(MAX_COMMAND_BYTES)
                    if not chunk:
                        break
                    data += chunk
            word, _, payload = data.partition(b"\n")[0].decode("utf-8", "replace").partition(" ")
            command = parse_command(payload) if word == "go" else None
            with contextlib.suppress(OSError):
                connection.sendall(b"ok\n" if command is not None else b"no\n")
        return command

    def _server_ended(self, server: subprocess.Popen, read_end: int) -> int:
        if read_end in self.selector.get_map():
            self._read_report(read_end)
        self.emit("fail", {"kind": "sandbox", "message": "The warm server ended unclaimed."})
        return EXIT_FAILED

    def _failed(self, failure: BootFailure) -> int:
        self.emit("fail", {"kind": failure.kind, "message": failure.message, **failure.extra})
        return EXIT_FAILED

    def _supervise(
        self,
        server: subprocess.Popen,
        control: socket.socket,
        read_end: int,
        *,
        registered: bool = False,
    ) -> int:
        """Relay the server's reports and answer mark requests until the server ends."""
        control.setblocking(False)
        self.selector.register(control, selectors.EVENT_READ, "control")
        if not registered:
            os.set_blocking(read_end, False)
            self.selector.register(read_end, selectors.EVENT_READ, "report")
        while server.poll() is None:
            for key, _ in self.selector.select(timeout=0.1):
                if key.data == "control":
                    self._accept(control)
                elif key.data == "report":
                    self._read_report(read_end)
                else:
                    self._answer(key.fileobj)
        if read_end in self.selector.get_map():
            self._read_report(read_end)  # what the server said just before it ended
        if self.failure is not None:
            self.emit("fail", self.failure)
            return EXIT_FAILED
        code = server.returncode
        return 128 - code if code < 0 else code or 1  # killed by signal N: 128 + N, as a shell

    def _accept(self, control: socket.socket) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            connection, _ = control.accept()
            connection.setblocking(False)
            self.selector.register(connection, selectors.EVENT_READ, "mark")

    def _lines(self, key: int, data: bytes) -> list[bytes]:
        pending = self.buffers.get(key, b"") + data
        *lines, rest = pending.split(b"\n")
        self.buffers[key] = rest[-MAX_REPORT_BYTES:]
        return lines

    def _read_report(self, fd: int) -> None:
        try:
            data = os.read(fd, MAX_REPORT_BYTES)
        except BlockingIOError:
            return
        if not data:  # the server closed the pipe; its exit ends the loop
            self.selector.unregister(fd)
            os.close(fd)
            return
        for line in self._lines(fd, data):
            name, _, payload = line.decode("utf-8", "replace").partition(" ")
            if name == "ready" and not self.ready:
                self.ready = True
                self.emit("ready")
            elif name == "warm" and not self.warm:
                self.warm = True
                self.emit("warm")
            elif name == "fail" and self.failure is None:
                self.failure = parse_failure(payload)

    def _answer(self, connection: socket.socket) -> None:
        try:
            data = connection.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(connection)
            self.buffers.pop(connection.fileno(), None)
            connection.close()
            return
        for line in self._lines(connection.fileno(), data):
            name, _, token = line.decode("ascii", "replace").partition(" ")
            if name == "mark" and re.fullmatch(rf"[0-9a-f]{{1,{MAX_TOKEN_CHARS}}}", token):
                self.emit("mark", token)
                with contextlib.suppress(OSError):
                    connection.sendall(b"ok\n")


def main(argv: list[str]) -> int:
    if len(argv) > 4 and argv[1] == "--serve":
        return serve_main(argv[2], int(argv[3]), int(argv[4]))
    if len(argv) > 5 and argv[1] == "--serve-warm":
        return warm_serve_main(int(argv[2]), int(argv[3]), int(argv[4]), argv[5])
    framework = argv[1] if len(argv) > 1 else ""
    nonce = os.environ.pop(NONCE_VARIABLE, "")
    if nonce:
        make_undumpable()
    deadline = os.environ.pop(DEADLINE_VARIABLE, "")
    if deadline:
        end_at_deadline(float(deadline))
    if framework == "--warm":  # boot.py --warm [FRAMEWORK]: the one to import ahead
        return Supervisor("", nonce).run_warm(argv[2] if len(argv) > 2 else "")
    return Supervisor(framework, nonce).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
