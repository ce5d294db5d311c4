"""A private, throw-away PostgreSQL server for tests that must run against PostgreSQL.

The server listens only on a Unix socket in its own temporary directory (no TCP port,
so nothing else on the machine, sandboxed learner code included, can reach it), trusts
local connections, and is stopped and deleted when the test session ends.

It uses the server binaries of Debian's ``postgresql`` package, which the test command
installs. PostgreSQL refuses to run as root, so when the tests run as root the server
runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

DATABASE_NAME = "webcourse"
SUPERUSER = "postgres"
PORT = 5432  # Only names the socket file; the socket lives in a private directory.


@dataclass(frozen=True)
class PostgresServer:
    """A running private server: where its socket is and how to reach its database."""

    socket_dir: Path
    database: str = DATABASE_NAME
    user: str = SUPERUSER

    @property
    def url(self) -> str:
        """Return a DATABASE_URL for config/settings.py (django-environ)."""
        return f"postgres://{self.user}@/{self.database}?host={quote(str(self.socket_dir))}"

    @property
    def settings(self) -> dict[str, object]:
        """Return the entry for Django's DATABASES setting."""
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.database,
            "USER": self.user,
            "PASSWORD": "",
            "HOST": str(self.socket_dir),
            "PORT": str(PORT),
        }


def find_server_binaries() -> Path:
    """Return the directory holding initdb and pg_ctl, newest PostgreSQL first."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parent.parent.name),
        reverse=True,
    )
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(
        "PostgreSQL server programs (initdb, pg_ctl) were not found. "
        "Install them with `apt-get install -y postgresql`."
    )


def _as_server_user(command: list[str]) -> list[str]:
    """Prefix a command so it runs as the postgres user when we are root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SUPERUSER, "--", *command]


def _run(command: list[str], *, what: str) -> None:
    result = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"Could not {what}:\n{result.stdout}\n{result.stderr}")


def start_server(base_dir: Path) -> PostgresServer:
    """Create a cluster under base_dir, start it on a Unix socket and create the database."""
    bin_dir = find_server_binaries()
    data_dir, socket_dir = base_dir / "data", base_dir / "socket"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        server_user = pwd.getpwnam(SUPERUSER)
        for path in (base_dir, socket_dir):
            os.chown(path, server_user.pw_uid, server_user.pw_gid)
    _run(
        [
            str(bin_dir / "initdb"),
            "--pgdata",
            str(data_dir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--no-sync",
        ],
        what="create a PostgreSQL cluster",
    )
    # Durability is pointless for a database deleted at the end of the run.
    server_options = (
        f"-c listen_addresses='' -c unix_socket_directories='{socket_dir}' -p {PORT} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    _run(
        [
            str(bin_dir / "pg_ctl"),
            "--pgdata",
            str(data_dir),
            "--log",
            str(base_dir / "server.log"),
            "--options",
            server_options,
            "--wait",
            "start",
        ],
        what="start PostgreSQL (see server.log in the cluster directory)",
    )
    server = PostgresServer(socket_dir=socket_dir)
    _run(
        [
            str(bin_dir / "createdb"),
            "--host",
            str(socket_dir),
            "--port",
            str(PORT),
            "--username",
            SUPERUSER,
            DATABASE_NAME,
        ],
        what="create the test database",
    )
    return server


def stop_server(base_dir: Path) -> None:
    """Stop the server started in base_dir, if it is running."""
    if not (base_dir / "data" / "postmaster.pid").exists():
        return
    _run(
        [
            str(find_server_binaries() / "pg_ctl"),
            "--pgdata",
            str(base_dir / "data"),
            "--mode",
            "immediate",
            "--wait",
            "stop",
        ],
        what="stop PostgreSQL",
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Run a private PostgreSQL server for the whole test session."""
    # Not pytest's tmp_path: its parent directory is private to root, and the
    # server runs as the postgres user.
    base_dir = Path(tempfile.mkdtemp(prefix="webcourse-pg-"))
    try:
        yield start_server(base_dir)
    finally:
        try:
            stop_server(base_dir)
        finally:
            shutil.rmtree(base_dir, ignore_errors=True)


def run_on_postgresql(
    server: PostgresServer, test_file: str, keyword: str, report: Path
) -> tuple[ElementTree.Element, set[str]]:
    """Run the tests of `test_file` matching `keyword` in a pytest process against `server`.

    Fail with the process's output if it fails; return its JUnit test suite and the database
    vendors its tests recorded (record_property("database_vendor", connection.vendor)).
    """
    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "-m", "pytest", test_file, "-k", keyword, "-p", "no:cacheprovider",
         "-q", "-o", "junit_family=legacy", f"--junitxml={report}"],
        cwd=settings.BASE_DIR, env={**os.environ, "DATABASE_URL": server.url},
        capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    suite = ElementTree.parse(report).getroot().find("testsuite")  # noqa: S314 - our own file
    vendors = {p.get("value") for p in suite.iter("property") if p.get("name") == "database_vendor"}
    return suite, vendors


def main(argv: list[str]) -> int:
    """`python -m tests.postgres start DIR` prints a DATABASE_URL; `stop DIR` removes it all.

    The test command uses this to run the whole suite a second time on PostgreSQL.
    """
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m tests.postgres start|stop DIR", file=sys.stderr)
        return 2
    base_dir = Path(argv[1])
    if argv[0] == "start":
        print(start_server(base_dir).url)
        return 0
    try:
        stop_server(base_dir)
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
