"""scripts/lib.sh's ensure_secret_key: a random SECRET_KEY in .env on the first run, never
replacing one."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from django.conf import settings

LIB = Path(settings.BASE_DIR) / "scripts" / "lib.sh"


def ensure_secret_key(env_file: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    environment |= {"ENV_FILE": str(env_file), "VAR_DIR": str(tmp_path / "var"), **env}
    return subprocess.run(
        ["bash", "-c", f"source {LIB} && ensure_secret_key"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def keys(env_file: Path) -> list[str]:
    return re.findall(r"^SECRET_KEY=(.*)$", env_file.read_text(), flags=re.MULTILINE)


def test_the_first_run_writes_a_long_random_key_readable_only_by_its_owner(tmp_path):
    env_file = tmp_path / ".env"

    ensure_secret_key(env_file, tmp_path)

    (key,) = keys(env_file)
    assert len(key) >= 50 and len(set(key)) >= 5  # what check --deploy asks of a key
    assert env_file.stat().st_mode & 0o077 == 0


def test_later_runs_keep_the_key(tmp_path):
    env_file = tmp_path / ".env"
    ensure_secret_key(env_file, tmp_path)
    first = keys(env_file)

    ensure_secret_key(env_file, tmp_path)

    assert keys(env_file) == first


def test_a_key_already_in_the_file_is_kept_and_other_lines_untouched(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=false\nSECRET_KEY=mine\nALLOWED_HOSTS=course.example.org")

    ensure_secret_key(env_file, tmp_path)

    assert env_file.read_text() == "DEBUG=false\nSECRET_KEY=mine\nALLOWED_HOSTS=course.example.org"


def test_a_file_without_a_key_gets_one_on_a_line_of_its_own(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true")  # no newline at the end

    ensure_secret_key(env_file, tmp_path)

    lines = env_file.read_text().splitlines()
    assert lines[0] == "DEBUG=true"
    assert lines[1].startswith("SECRET_KEY=")


def test_a_key_in_the_environment_writes_nothing(tmp_path):
    env_file = tmp_path / ".env"

    ensure_secret_key(env_file, tmp_path, SECRET_KEY="from-the-environment")

    assert not env_file.exists()
