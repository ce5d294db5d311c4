"""Fixtures for grading for real: the runner image, the hello exercise, a private Redis server,
real Celery processes (the site's worker and grading hosts); and a stand-in for the broker
where no worker is wanted.

A pytest plugin (tests/conftest.py loads it), so every test module can ask for these
fixtures by name. The site's worker shares the test database: settings put it in a file, the
worker is pointed at that file (or at the test database on PostgreSQL) through DATABASE_URL,
and the worker fixtures use `transactional_db` so that what a test saves is committed where
the worker can see it. A grading host gets no database at all: it runs from a folder holding
only the engine and its own package, with an environment made from scratch.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import count
from pathlib import Path
from urllib.parse import quote

import docker
import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from exercises.models import Exercise, Submission
from grading.jobs import GRADE_TASK, GradingJob
from sandbox import engine, images
from sandbox.archive import pack_directory, pack_files
from sandbox.spec import ExerciseSpec
from tests.factories import ExerciseFactory
from tests.sandbox.conftest import HELLO_DIR

REDIS_BINARY_CANDIDATES = ("redis-server", "/usr/bin/redis-server")
CELERY_BIN = Path(sys.executable).with_name("celery")
SCRIPTS_LIB = Path(settings.BASE_DIR) / "scripts" / "lib.sh"
WORKER_READY_TIMEOUT = 60.0
_worker_numbers = count(1)
_running: list[CeleryWorker] = []  # started and not stopped: their logs go with a failure
# Log lines worth showing with a failure wherever they are in a worker's log.
_NOTABLE = re.compile(
    r"ERROR|CRITICAL|WARNING/MainProcess\] consumer|Connected to|Unrecoverable|shutdown"
    r"|^\w*(Error|Exception)\b|Exception ignored"
)


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval=0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")


class RedisServer:
    """A throwaway redis-server on a loopback port, with no persistence."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        binary = next((p for p in map(shutil.which, REDIS_BINARY_CANDIDATES) if p), None)
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install -y redis-server)")
        self.binary = binary
        self.workdir = workdir
        self.port = port or _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        _wait_until(self.answers, timeout=10, what=f"redis-server on port {self.port}")

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self, *, crash: bool = False) -> None:
        """Stop the server; `crash` kills it outright, dropping whatever it held."""
        if self.process is None:
            return
        if crash:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None

    def restart(self, *, crash: bool = True, down_for: float = 0.0) -> None:
        """Stop the server and start a fresh, empty one on the same port."""
        self.stop(crash=crash)
        time.sleep(down_for)
        self.start()

    def flush(self) -> None:
        redis.Redis.from_url(self.url).flushall()


class CeleryWorker:
    """A real `celery worker` process, logging to a file: the site's worker by default.

    The site's worker (`-A config`, queues results and celery) has the test database; a
    grading host (GradingHost) has none. A `supervised` worker runs as scripts/up runs it,
    under scripts/lib.sh's `supervise`, which starts it again if it fails.
    """

    app = "config"
    queues = "results,celery"
    kind = "site"

    def __init__(
        self,
        *,
        broker_url: str,
        database_url: str,
        log_dir: Path,
        run_dir: Path,
        concurrency: int = 2,
        supervised: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = f"{self.kind}{next(_worker_numbers)}-{os.getpid()}"
        self.log_path = log_dir / f"{self.name}.log"
        self.cwd = Path(settings.BASE_DIR)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "REDIS_URL": broker_url,
            "DATABASE_URL": database_url,
            "SANDBOX_RUN_DIR": str(run_dir),
            **(env or {}),
        }
        self.concurrency = concurrency
        self.supervised = supervised
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        celery = [
            str(CELERY_BIN), "-A", self.app, "worker",
            "-Q", self.queues, "-c", str(self.concurrency), "--pool", "prefork",
            "-l", "info", "-n", f"{self.name}@%h",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        if not self.supervised:
            return celery
        # As scripts/up runs it: started again if it fails.
        script = 'source "$1" && supervise "$2" "${@:3}"'
        return ["bash", "-c", script, "supervise", str(SCRIPTS_LIB), self.name, *celery]

    def start(self) -> CeleryWorker:
        self._asked = False
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so it can be killed whole
            )
        self._log_start = self.log_path.stat().st_size
        try:
            _wait_until(self._ready, timeout=WORKER_READY_TIMEOUT, what=f"worker {self.name}")
        except TimeoutError:
            self.kill()
            pytest.fail(f"Celery worker did not start:\n{self.log_tail()}")
        _running.append(self)
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"Celery worker exited with {self.process.returncode}:\n{self.log_tail()}")
        return " ready." in self.log()[self._log_start :]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def report(self, notable: int = 30, tail: int = 40) -> str:
        """Say whether the worker still runs, its notable log lines, then the end of its log.

        Notable lines (connections, errors, tracebacks' last lines) come from the whole log, so
        a failure long before the end is still shown when the tail is full of routine lines.
        """
        if self.process is None:
            state = "stopped"
        elif self.process.poll() is None:
            state = f"running, pid {self.process.pid}"
        else:
            state = f"exited with {self.process.returncode}"
        lines = self.log().splitlines()
        picked = [
            line for line in lines if _NOTABLE.search(line) and "Trying again in" not in line
        ][-notable:]
        return "\n".join(
            [
                f"--- {self.name} ({state}) ---",
                "notable lines:",
                *picked,
                f"last {tail} lines:",
                *lines[-tail:],
            ]
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def main_pid(self) -> int:
        """Return the pid of Celery's main process (a supervised worker's runs below a shell)."""
        if not self.supervised:
            return self.pid
        (celery,) = _children(self.pid)
        return celery

    def pool_pids(self) -> list[int]:
        """Return the pids of the worker's pool processes (the ones running tasks)."""
        return _children(self.main_pid())

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool), like a machine that died."""
        if self.process is None:
            return
        self._kill_group()
        self.process.wait(timeout=10)

    def ask_to_stop(self) -> None:
        """Ask for a warm shutdown without waiting for it (stop() waits)."""
        if self.process is not None and self.process.poll() is None and not self._asked:
            self.process.terminate()
            self._asked = True

    def stop(self) -> None:
        """Ask for a warm shutdown; kill what is left after a grace period."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.ask_to_stop()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        # Pool processes may outlive their parent for a moment; take the group down.
        self._kill_group()
        self.process.wait(timeout=10)
        self.process = None
        with contextlib.suppress(ValueError):
            _running.remove(self)

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


class GradingHost(CeleryWorker):
    """A grading host (`celery -A grading.worker worker -Q grading,interactive`), on its own.

    It runs from a folder holding only the engine and the host's code (grading_host_root),
    with an environment made from scratch: the broker, its id, its scratch folder, the runner
    image and, optionally, its own Docker engine. No database settings, no secret key.
    """

    app = "grading.worker"
    queues = "grading,interactive"
    kind = "grading"

    def __init__(
        self,
        *,
        broker_url: str,
        root: Path,
        log_dir: Path,
        run_dir: Path,
        image: str,
        host_id: str | None = None,
        docker_host: str | None = None,
        concurrency: int = 2,
        supervised: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = f"{self.kind}{next(_worker_numbers)}-{os.getpid()}"
        self.host_id = host_id or f"{self.name}-{uuid.uuid4().hex[:6]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.cwd = root
        self.run_dir = run_dir
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(root),
            "REDIS_URL": broker_url,
            "GRADING_HOST_ID": self.host_id,
            "GRADING_CONCURRENCY": str(concurrency),
            "SANDBOX_RUN_DIR": str(run_dir),
            "SANDBOX_IMAGE": image,
            "VAR_DIR": str(root / "var"),
            "SANDBOX_WARM_POOL_MAX": "0",  # cold runs, as these tests expect; a test may say more
            **({"DOCKER_HOST": docker_host} if docker_host else {}),
            **(env or {}),
        }
        self.concurrency = concurrency
        self.supervised = supervised
        self.process = None


@pytest.fixture(scope="session")
def grading_host_root(tmp_path_factory) -> Path:
    """Return a folder holding only what a grading host runs: the sandbox and grading packages."""
    root = tmp_path_factory.mktemp("grading-host")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("sandbox", "grading"):
        shutil.copytree(Path(settings.BASE_DIR) / package, root / package, ignore=ignore)
    return root


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """Start a private redis-server for the session; the test may restart it."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_broker(redis_server: RedisServer) -> Iterator[RedisServer]:
    """Point this process's Celery app at the private Redis, so enqueued tasks reach it."""
    previous = celery_app.conf.broker_url
    _use_broker(redis_server.url)
    yield redis_server
    _use_broker(previous)


def _use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    # Drop pooled connections to the old broker; the app makes new ones on the next send.
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None


def shared_database_url(database: dict) -> str:
    """Return a DATABASE_URL that points another process at the test database."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        user = quote(database["USER"], safe="")
        if database.get("PASSWORD"):
            user += ":" + quote(database["PASSWORD"], safe="")
        host = database.get("HOST") or database.get("OPTIONS", {}).get("host", "")
        port = database.get("PORT", "")
        if host.startswith("/"):  # a Unix socket directory
            return f"postgres://{user}@/{database['NAME']}?host={quote(host, safe='')}"
        return f"postgres://{user}@{host}{f':{port}' if port else ''}/{database['NAME']}"
    name = database["NAME"]
    assert Path(name).is_file(), "the workers need a file database (see config/settings.py)"
    return f"sqlite:///{name}"


@pytest.fixture
def start_celery_worker(
    transactional_db, celery_broker: RedisServer, tmp_path: Path
) -> Iterator[Callable[..., CeleryWorker]]:
    """Return a function that starts a site worker on the test database; all stop at teardown."""
    database_url = shared_database_url(connection.settings_dict)
    celery_broker.flush()  # messages left by an earlier test name rows that no longer exist
    workers: list[CeleryWorker] = []

    def start(**options) -> CeleryWorker:
        worker = CeleryWorker(
            broker_url=celery_broker.url,
            database_url=database_url,
            log_dir=tmp_path,
            run_dir=tmp_path / "no-runs",
            **options,
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def start_grading_host(
    celery_broker: RedisServer, runner_image: str, grading_host_root: Path, tmp_path: Path
) -> Iterator[Callable[..., GradingHost]]:
    """Return a function that starts a grading host; all stop at teardown.

    Each host has its own run folder (short: the app's Unix socket lives below it) and its own
    id, unless given the id and run folder of one to restart.
    """
    hosts: list[GradingHost] = []
    run_dirs: list[Path] = []

    def start(*, run_dir: Path | None = None, **options) -> GradingHost:
        if run_dir is None:
            run_dir = Path(tempfile.mkdtemp(prefix="wc-runs-"))
            run_dirs.append(run_dir)
        host = GradingHost(
            broker_url=celery_broker.url,
            root=grading_host_root,
            log_dir=tmp_path,
            run_dir=run_dir,
            image=runner_image,
            **options,
        )
        hosts.append(host)
        return host.start()

    yield start
    # Every worker of the test shuts down at once (each takes about two seconds); the site
    # workers' own teardown then finds them stopped.
    for worker in [*hosts, *(w for w in _running if w.kind == "site")]:
        worker.ask_to_stop()
    for host in hosts:
        host.stop()
    for host in hosts:
        remove_host_containers(host)
    for run_dir in run_dirs:
        shutil.rmtree(run_dir, ignore_errors=True)


def remove_host_containers(host: GradingHost) -> int:
    """Remove the sandbox containers a grading host left in its engine (a killed host's)."""
    removed = 0
    try:
        client = docker.DockerClient(base_url=host.env.get("DOCKER_HOST") or None, timeout=60)
    except docker.errors.DockerException:
        return removed  # its engine is gone already
    try:
        labels = [engine.SANDBOX_LABEL, f"{engine.HOST_LABEL}={host.host_id}"]
        for container in client.containers.list(all=True, filters={"label": labels}):
            container.remove(force=True)
            removed += 1
    except docker.errors.DockerException:
        pass  # its engine is gone already
    finally:
        client.close()
    return removed


@pytest.fixture
def celery_worker_proc(start_celery_worker, start_grading_host) -> GradingHost:
    """Start a site worker and one grading host (concurrency 2); return the grading host."""
    start_celery_worker()
    return start_grading_host()


# No broker ------------------------------------------------------------------------------


@pytest.fixture
def sent_gradings(monkeypatch) -> list[tuple[tuple, dict]]:
    """Catch the grading jobs the site sends instead of sending them.

    Each is kept as ((submission id,), options), the options holding the job ("job") next to
    the queue and time limits.
    """
    sent: list[tuple[tuple, dict]] = []

    def send_task(name, args=(), kwargs=None, **options):
        assert name == GRADE_TASK
        (message,) = args
        job = GradingJob.from_message(message)
        sent.append(((job.submission,), {**options, "job": job}))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return sent


# The runner image and the hello exercise ------------------------------------------------


@pytest.fixture(scope="session")
def runner_image() -> str:
    """Build the runner image once per session (a no-op when it is already there)."""
    return images.build_runner_image(progress=lambda line: None)


@pytest.fixture(scope="session")
def hello_spec() -> ExerciseSpec:
    return ExerciseSpec.from_dir(HELLO_DIR)


def hello_archive(kind: str, framework: str) -> bytes:
    """Return the hello exercise's starter or solution for a framework, zipped."""
    return pack_directory(HELLO_DIR / kind / framework)


@pytest.fixture
def hello_exercise(db, hello_spec: ExerciseSpec) -> Exercise:
    """Return the hello exercise stored in the database, as the site grades it."""
    spec = hello_spec
    return ExerciseFactory(
        slug=spec.slug,
        title=spec.title,
        frameworks=list(spec.frameworks),
        points=spec.points or 0,
        limits=spec.limits,
        instructions=spec.instructions,
        files=spec.files,
    )


def slow_booting_hello_archive(seconds: float = 4.0) -> bytes:
    """Return the hello Flask solution, made to take `seconds` to import (a wide kill window)."""
    files = {
        path.relative_to(HELLO_DIR / "solution" / "flask").as_posix(): path.read_bytes()
        for path in (HELLO_DIR / "solution" / "flask").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    files["app.py"] = f"import time\n\ntime.sleep({seconds})\n".encode() + files["app.py"]
    return pack_files(files)


# Waiting on the database ----------------------------------------------------------------


def wait_for_rows(
    check: Callable[[], bool], *, timeout: float, what: str, workers: Iterable[CeleryWorker] = ()
) -> None:
    """Poll the database until `check()` holds; on timeout fail with the workers' logs."""
    try:
        _wait_until(check, timeout=timeout, what=what, interval=0.02)
    except TimeoutError as exc:
        shown = list(dict.fromkeys([*workers, *_running]))
        logs = "\n".join(w.report() for w in shown)
        pytest.fail(f"{exc}\n{logs}")


def wait_until_graded(
    ids: Iterable[int], *, timeout: float = 180, workers: Iterable[CeleryWorker] = ()
) -> list[Submission]:
    """Wait until every submission is done; return them in the order of `ids`."""
    ids = list(ids)
    done = Submission.objects.filter(pk__in=ids, state=Submission.State.DONE)
    wait_for_rows(
        lambda: done.count() == len(ids),
        timeout=timeout,
        what=f"{len(ids)} submissions to be graded",
        workers=workers,
    )
    by_id = Submission.objects.in_bulk(ids)
    return [by_id[i] for i in ids]
