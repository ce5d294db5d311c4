"""Every code sample in the course that is marked runnable really runs.

Authors mark a complete Python sample with the fence ```{.python .runnable}; this test runs each one
in a fresh interpreter, in an empty folder, and expects exit status 0.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

CONTENT = Path(__file__).resolve().parents[2] / "content"
FENCE = re.compile(
    # Settings may follow the classes (app=flask requests=...; see lessons.runnable).
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\{\s*\.python\s+\.runnable\b[^\n]*\}[ \t]*\n"
    r"(?P<code>.*?)"
    r"^(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def runnable_samples() -> list[tuple[str, str]]:
    samples = []
    for path in sorted(CONTENT.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            indent = match.group("indent")
            code = "\n".join(
                row[len(indent) :] if row.startswith(indent) else row
                for row in match.group("code").splitlines()
            )
            samples.append((f"{path.relative_to(CONTENT)}:{line}", code))
    return samples


SAMPLES = runnable_samples()


def test_the_course_has_runnable_samples():
    assert len(SAMPLES) >= 8


def test_the_fence_pattern_finds_indented_samples_in_tabs():
    text = '=== "Flask"\n\n    ```{.python .runnable}\n    print("hi")\n    ```\n'
    assert [m.group("code") for m in FENCE.finditer(text)] == ['    print("hi")\n']


@pytest.mark.parametrize(("where", "code"), SAMPLES, ids=[where for where, _ in SAMPLES])
def test_sample_runs(where, code, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, f"{where} failed:\n{result.stdout}\n{result.stderr[-3000:]}"
