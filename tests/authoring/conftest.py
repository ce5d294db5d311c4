from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# A small course folder, as authors write them.
COURSE_DATA = Path(__file__).parent / "data" / "web-basics"


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """Return a private copy of the fixture course that a test may edit."""
    target = tmp_path / "web-basics"
    shutil.copytree(COURSE_DATA, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
