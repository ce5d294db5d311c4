"""The grading engine is plain Python: every module of it imports with Django not installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

# Modules of sandbox/ that may import Django: none since the Django side moved to exercises/
# (pyproject.toml's import contracts say the same).
DJANGO_SIDE: set[str] = set()
# Modules that do import Django: the probe must refuse each of them.
NEEDS_DJANGO = {"exercises.models", "exercises.services", "exercises.views"}

# Run in a fresh interpreter: make "django" (and anything below it) impossible to import, import
# every engine module, and report what was imported and what was loaded.
PROBE = """
import importlib, importlib.abc, json, pkgutil, sys

class NoDjango(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError(f"the grading engine imported {name}")
        return None

sys.meta_path.insert(0, NoDjango())
django_side = set(json.loads(sys.argv[1]))
needs_django = json.loads(sys.argv[2])

import sandbox

def side(name):
    return any(name == m or name.startswith(m + ".") for m in django_side)

imported, refused = [], []
for info in pkgutil.walk_packages(sandbox.__path__, "sandbox.", onerror=lambda name: None):
    if side(info.name):
        continue
    importlib.import_module(info.name)
    imported.append(info.name)
for name in sorted(needs_django):
    try:
        importlib.import_module(name)
    except ImportError:
        refused.append(name)
loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print(json.dumps({"imported": imported, "refused": refused, "django": loaded}))
"""


def probe() -> dict[str, list[str]]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [
            sys.executable, "-c", PROBE,
            json.dumps(sorted(DJANGO_SIDE)), json.dumps(sorted(NEEDS_DJANGO)),
        ],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_every_engine_module_imports_without_django():
    report = probe()
    assert report["django"] == []
    engine = {
        "sandbox.archive", "sandbox.config", "sandbox.container.boot", "sandbox.engine",
        "sandbox.harness.cgroup", "sandbox.harness.forkserver",
        "sandbox.harness.grader", "sandbox.harness.limits", "sandbox.harness.plugin",
        "sandbox.images", "sandbox.policy", "sandbox.results", "sandbox.runner", "sandbox.spec",
    }  # fmt: skip
    assert engine <= set(report["imported"])


def test_the_probe_would_see_django_imported():
    # Modules that import Django cannot import under the probe, so a module of the engine
    # that imported Django, or one of these, would fail the test above.
    report = probe()
    assert set(report["refused"]) == NEEDS_DJANGO
