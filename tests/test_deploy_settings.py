"""The production settings README's "Serving a class" documents pass `check --deploy`, and the
site refuses to start with DEBUG off and no secret key of its own.

Each check runs manage.py in a fresh process with exactly the variables it names (plus PATH),
and ENV_FILE pointing at an empty file so that a developer's .env cannot leak in.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

README = Path(settings.BASE_DIR) / "README.md"
SECTION = "## Serving a class"


def documented_settings() -> dict[str, str]:
    """Return the variables of the `.env` lines in README's "Serving a class"."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    (block,) = re.findall(r"^```ini\n(.*?)^```$", text[start:end], flags=re.MULTILINE | re.DOTALL)
    pairs = [line.split("=", 1) for line in block.splitlines() if line and line[0] != "#"]
    return {name.strip(): value.strip() for name, value in pairs}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": str(empty), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def a_secret_key() -> str:
    """Return a key as scripts/up writes one to .env."""
    return secrets.token_urlsafe(50)


def test_the_documented_settings_turn_debug_off_behind_https():
    documented = documented_settings()

    assert documented["DEBUG"] == "false"
    assert documented["BEHIND_HTTPS_PROXY"] == "true"
    assert "SECRET_KEY" not in documented  # scripts/up writes a random one


def test_check_deploy_passes_with_the_documented_settings(tmp_path):
    env = {**documented_settings(), "SECRET_KEY": a_secret_key()}

    done = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNINGS" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "secret_key", [None, "", settings.DEV_SECRET_KEY], ids=["unset", "empty", "development key"]
)
def test_the_site_refuses_to_start_with_debug_off_and_no_key_of_its_own(tmp_path, secret_key):
    env = documented_settings()
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    done = manage("check", env=env, tmp_path=tmp_path)

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "Set SECRET_KEY to a long random value" in done.stderr


def test_with_debug_on_the_development_key_still_works(tmp_path):
    done = manage("check", env={"DEBUG": "true"}, tmp_path=tmp_path)

    assert done.returncode == 0, done.stderr
