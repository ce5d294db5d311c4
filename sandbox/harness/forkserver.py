"""A fork server for the grading harness: pytest and httpx imported once, a fork per run.

A fresh interpreter spends a good share of a grading's CPU importing pytest and httpx. The
server is started once per worker process as a fresh interpreter, with the harness's clean
environment (``python -m sandbox.harness.forkserver``); it imports what every run needs, then
forks one child per request. Each child is set up as ``python -m sandbox.harness`` would be
(its own session, output to the run's log, the given working folder and HOME, "go" on its
stdin) and runs sandbox.harness.__main__.main(), which joins the cgroup and applies the
resource limits and the user given in argv (sandbox.harness.limits) before pytest reads a
test. The server itself keeps the privileges (and the cgroup) of the worker that started it:
it only forks.

The protocol, on a Unix seqpacket socket the client creates and hands over: one connection
per request; the request is a JSON object (argv, cwd, log, home) sent with two file
descriptors (the read end of the "go" pipe and the write end of the "done" pipe); the answer
is a JSON object, {"pid": N} or {"error": "..."}. The server exits when its stdin (a pipe
from the process that started it) ends, so it never outlives that process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

MAX_MESSAGE = 64 * 1024
REPLY_TIMEOUT = 30.0  # the first request waits for the server's imports
# Imported once in the server. Not sandbox.harness.plugin: pytest rewrites the asserts of a
# plugin only if it imports the plugin itself.
PRELOAD = (
    "pytest",
    "httpx",
    "sandbox.harness.grader",
    "sandbox.harness.__main__",
    "sandbox.harness.limits",
    # What pytest imports as it starts (pdb for --pdb, faulthandler for its plugin).
    "_pytest._argcomplete",
    "encodings.ascii",
    "faulthandler",
    "pdb",
)


class ForkServerError(Exception):
    """The fork server could not start a harness."""


# The server ----------------------------------------------------------------------------------


def preload() -> None:
    """Import everything a harness run imports anyway, pytest's built-in plugins included."""
    import importlib

    from _pytest.config import default_plugins

    for name in PRELOAD:
        importlib.import_module(name)
    for name in default_plugins:
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{name}")


def serve(listener: socket.socket, lifeline: int) -> None:
    """Answer requests until `lifeline` ends (the starting process is gone)."""
    import gc

    preload()
    # Children then share the preloaded objects instead of copying the pages gc would touch.
    gc.freeze()
    poller = select.poll()
    poller.register(listener.fileno(), select.POLLIN)
    poller.register(lifeline, select.POLLIN)
    try:
        while True:
            events = dict(poller.poll(1000))
            _reap()
            if lifeline in events:
                return
            if listener.fileno() in events:
                connection, _ = listener.accept()
                with connection:
                    _answer(connection, listener, lifeline)
    finally:
        _reap()


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _answer(connection: socket.socket, listener: socket.socket, lifeline: int) -> None:
    fds: list[int] = []
    try:
        message, fds, _, _ = socket.recv_fds(connection, MAX_MESSAGE, 2)
        request = json.loads(message)
        if len(fds) != 2:
            raise ValueError("expected two file descriptors")
        pid = os.fork()
        if pid == 0:
            connection.close()
            listener.close()
            os.close(lifeline)
            run_child(request, go=fds[0], done=fds[1])
        reply: dict[str, Any] = {"pid": pid}
    except Exception as exc:
        reply = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        for fd in fds:
            os.close(fd)
    with contextlib.suppress(OSError):
        connection.sendall(json.dumps(reply).encode())


def run_child(request: Mapping[str, Any], *, go: int, done: int) -> NoReturn:
    """Become ``python -m sandbox.harness <argv>`` for one run, then exit."""
    code = 1
    try:
        os.setsid()  # its own process group, so a kill takes everything
        output = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        os.dup2(go, 0)
        os.close(go)
        os.chdir(request["cwd"])
        os.environ["HOME"] = request["home"]
        # As if started there: ``python -m`` puts the working folder first on sys.path.
        sys.path[0] = request["cwd"]
        from sandbox.harness.__main__ import main

        code = main([*request["argv"], "--done-fd", str(done)])
    except SystemExit as exc:  # argparse's way to refuse a command line
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Skip the interpreter's clean-up: it belongs to the server.
        os._exit(code)


def main(argv: list[str]) -> None:
    """Serve on the listening socket whose file descriptor is argv[0]."""
    listener = socket.socket(fileno=int(argv[0]))
    try:
        serve(listener, lifeline=0)
    finally:
        # The client made the socket in a private folder of its own: remove both.
        address = listener.getsockname()
        listener.close()
        if isinstance(address, str) and address:
            shutil.rmtree(os.path.dirname(address), ignore_errors=True)


# The client ----------------------------------------------------------------------------------


class ForkServer:
    """A running fork server, started by (and living no longer than) this process."""

    def __init__(self, environment: Mapping[str, str], cwd: Path) -> None:
        self.environment = dict(environment)
        self.folder = tempfile.mkdtemp(prefix="webcourse-harness-")  # mode 0700
        self.address = os.path.join(self.folder, "server.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            listener.bind(self.address)
            listener.listen(64)
            # Its stdin is a pipe from this process: when we are gone, it ends, and so does
            # the server.
            read_end, self._lifeline = os.pipe()
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", __name__, str(listener.fileno())],
                    stdin=read_end,
                    stdout=subprocess.DEVNULL,
                    cwd=cwd,
                    # HOME too, so nothing depends on whose home folder the worker has.
                    env={**self.environment, "HOME": self.folder},
                    pass_fds=(listener.fileno(),),
                )
            finally:
                os.close(read_end)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        finally:
            # Once the server is gone, connecting fails at once rather than waiting forever.
            listener.close()

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, *, argv: list[str], cwd: str, log: str, home: str, go: int, done: int) -> int:
        """Start one harness with `go` as its stdin and `done` as its --done-fd; return its pid."""
        request = json.dumps({"argv": argv, "cwd": cwd, "log": log, "home": home}).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as connection:
                connection.settimeout(REPLY_TIMEOUT)
                connection.connect(self.address)
                socket.send_fds(connection, [request], [go, done])
                reply = json.loads(connection.recv(MAX_MESSAGE) or b"{}")
        except (OSError, ValueError) as exc:
            raise ForkServerError(f"no answer from the fork server: {exc}") from exc
        if not isinstance(reply.get("pid"), int):
            raise ForkServerError(reply.get("error") or "the fork server closed the connection")
        return reply["pid"]

    def close(self) -> None:
        """Stop the server (harnesses it started go on) and wait for it."""
        with contextlib.suppress(OSError):
            os.close(self._lifeline)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


# One server per process, started on first use. A forked child (a Celery pool process) starts
# its own: the parent's is not its child, and must end when the parent does.
_server: ForkServer | None = None
_server_lock = threading.Lock()


def _forget_server_after_fork() -> None:
    global _server, _server_lock
    _server_lock = threading.Lock()  # another thread may have held it at the fork
    if _server is not None:
        with contextlib.suppress(OSError):
            os.close(_server._lifeline)
        _server = None


os.register_at_fork(after_in_child=_forget_server_after_fork)


def _running_server(environment: dict[str, str], cwd: Path) -> ForkServer:
    global _server
    with _server_lock:
        if _server is not None and (not _server.alive() or _server.environment != environment):
            _server.close()
            _server = None
        if _server is None:
            _server = ForkServer(environment, cwd)
        return _server


def spawn(
    *,
    argv: list[str],
    cwd: str,
    log: str,
    environment: Mapping[str, str],
    server_cwd: Path,
    go: int,
    done: int,
) -> int:
    """Start a harness from this process's fork server (started, or restarted, as needed).

    The server runs with `environment` but HOME; each harness gets `environment["HOME"]`.
    Raise ForkServerError when no server can start it.
    """
    request = {"argv": argv, "cwd": cwd, "log": log, "go": go, "done": done}
    request["home"] = environment.get("HOME", cwd)
    server_environment = {k: v for k, v in environment.items() if k != "HOME"}
    server = _running_server(server_environment, server_cwd)
    try:
        return server.spawn(**request)
    except ForkServerError:
        if server.alive():
            raise  # up but failing: do not ask again
    # It died since we looked: ask a new one.
    return _running_server(server_environment, server_cwd).spawn(**request)


@atexit.register
def stop_server() -> None:
    """Stop this process's fork server, if it has one."""
    global _server
    with _server_lock:
        if _server is not None:
            _server.close()
            _server = None


def current_server() -> ForkServer | None:
    """Return this process's fork server, if it has one."""
    return _server


if __name__ == "__main__":
    main(sys.argv[1:])
