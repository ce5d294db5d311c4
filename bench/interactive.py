"""Measure interactive runs and warm gradings against the bare-container floor, in one run.

    .venv/bin/python bench/interactive.py [--runs 20] [--strict]

Each round measures, one after the other (so all see the same load on a shared machine), with
the engine alone (no Celery, no broker: what a grading host does once it has the job):

- floor: a bare hardened container boots the hello exercise's Flask solution, answers one GET,
  and is removed (sandbox.runner.floor_probe, as in bench/grading.py);
- grading, pool warm: `sandbox.runner.grade()` of that solution with a warm container ready
  (sandbox.pool; started before the clock starts);
- snippet, cold: a lesson's script run once (sandbox.snippets.run_script) in a fresh container,
  timed until its result is handed on (before the container's removal, as a host sends it);
- snippet, pool warm: the same in a warm container (sandbox.pool.launch_script);
- console round trip: one request to a live app that is already running, and its recorded
  answer (sandbox.live.LiveApp.request, the host's side; see console_round). Where this
  checkout has no live apps the round is reported as not measured, with why.

Goals (medians, as ratios to the floor measured in the same run): grading with the pool warm
<= 0.8x, snippet <= 0.5x, console round trip <= 0.1x. The machine is shared: read the ratios,
not the milliseconds. Everything runs in a temporary run folder under a host id of its own,
removed at the end. --strict: exit 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
HELLO_DIR = BASE_DIR / "content" / "python-web" / "exercises" / "hello"
FRAMEWORK = "flask"
APP_DIR = HELLO_DIR / "solution" / FRAMEWORK
SNIPPET = {"main.py": "from greet import greet\n\nprint(greet('world'))\n",
           "greet.py": "def greet(name):\n    return f'Hello, {name}!'\n"}  # fmt: skip
GOALS = {"grading, pool warm": 0.8, "snippet, pool warm": 0.5, "console round trip": 0.1}


class NotMeasured(Exception):
    """A round this checkout cannot measure; the message says why."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="rounds (>= 2)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be at least 2")

    workdir = Path(tempfile.mkdtemp(prefix="wc-ib-", dir="/tmp"))  # short: socket paths
    os.environ.update(
        SANDBOX_RUN_DIR=str(workdir / "runs"),
        GRADING_HOST_ID=f"bench-interactive-{os.getpid()}",
        VAR_DIR=str(workdir / "var"),
    )
    sys.path.insert(0, str(BASE_DIR))
    from sandbox import engine, images, runner

    try:
        engine.client()
    except engine.EngineUnavailable as exc:
        sys.exit(str(exc))
    if not images.runner_image_ready():
        sys.exit("The runner image is not built: run `python manage.py sandbox_images` first.")
    try:
        rounds = measure(args.runs)
    finally:
        runner.sweep_orphans(0, cgroup_age=3600)  # this host id's only: nothing else's
        shutil.rmtree(workdir, ignore_errors=True)
    return report(rounds, args)


# Rounds ---------------------------------------------------------------------------------------


def floor_round() -> float:
    from sandbox import runner

    return runner.floor_probe(APP_DIR, FRAMEWORK)


def grading_warm_round() -> float:
    from sandbox import pool, runner
    from sandbox.archive import pack_directory
    from sandbox.spec import ExerciseSpec

    spec = ExerciseSpec.from_dir(HELLO_DIR)
    archive = pack_directory(APP_DIR)
    pool.start_warm(policy=spec.policy, framework=FRAMEWORK)  # off the clock
    started = time.perf_counter()
    result = runner.grade(spec=spec, archive=archive, framework=FRAMEWORK)
    seconds = time.perf_counter() - started
    if result["status"] != "passed" or not result["timings"].get("warm"):
        sys.exit(f"The warm grading went wrong: {result['status']}, {result['message']}")
    return seconds


def snippet_cold_round() -> float:
    return _snippet(warm=False)


def snippet_warm_round() -> float:
    return _snippet(warm=True)


def _snippet(*, warm: bool) -> float:
    if importlib.util.find_spec("sandbox.snippets") is None:
        raise NotMeasured("script runs (sandbox.snippets) are not in this checkout")
    from sandbox import pool, snippets

    if warm:
        pool.start_warm(policy=snippets.SCRIPT_POLICY)  # off the clock
    answered: list[float] = []
    started = time.perf_counter()
    ran = snippets.run_script(
        SNIPPET,
        "main.py",
        launch=pool.launch_script if warm else snippets.start_cold,
        # The reader has the result when it is handed on, before the container is removed.
        on_result=lambda _: answered.append(time.perf_counter()),
    )
    seconds = answered[0] - started
    if ran.stdout != "Hello, world!\n" or ran.exit_code != 0:
        sys.exit(f"The snippet went wrong: {ran.exit_code} {ran.stdout!r} {ran.stderr!r}")
    return seconds


@dataclass(frozen=True)
class ConsoleRequest:
    """A request as the live console sends one (grading.interactive.LiveRequest's fields)."""

    method: str = "GET"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""


def console_round() -> float:
    """Time one request to a running live app, and its recorded answer, on the host's side.

    Uses sandbox.live.LiveApp (live apps, built beside this engine) when this checkout has it:
    the app is started off the clock, then one request is timed from the call to the exchange
    it returns. The broker's hops between the site and the host come on top of this.
    """
    if importlib.util.find_spec("sandbox.live") is None:
        raise NotMeasured("live apps (sandbox.live) are not in this checkout")
    from sandbox import live
    from sandbox.spec import ExerciseSpec

    if not hasattr(live, "LiveApp"):
        raise NotMeasured("sandbox.live has no LiveApp")
    files = ExerciseSpec.from_dir(HELLO_DIR).solution(FRAMEWORK)
    app = live.LiveApp(files=files, framework=FRAMEWORK, lifetime=60)
    try:
        app.start()  # off the clock
        started = time.perf_counter()
        exchange = app.request(ConsoleRequest())
        seconds = time.perf_counter() - started
    finally:
        app.stop()
    if (exchange.get("response") or {}).get("status") != 200:
        sys.exit(f"The live app did not answer 200: {exchange}")
    return seconds


ROUNDS: dict[str, Callable[[], float]] = {
    "floor": floor_round,
    "grading, pool warm": grading_warm_round,
    "snippet, cold": snippet_cold_round,
    "snippet, pool warm": snippet_warm_round,
    "console round trip": console_round,
}


def measure(runs: int) -> dict[str, list[float] | str]:
    samples: dict[str, list[float] | str] = {name: [] for name in ROUNDS}
    print("Warming up...")
    for function in ROUNDS.values():
        with contextlib.suppress(NotMeasured):
            function()
    print(f"{runs} rounds of: {', '.join(ROUNDS)}...")
    for _ in range(runs):
        for name, function in ROUNDS.items():
            if isinstance(samples[name], str):
                continue
            try:
                samples[name].append(function())
            except NotMeasured as exc:
                samples[name] = str(exc)
    return samples


# Report ---------------------------------------------------------------------------------------


def report(samples: dict[str, list[float] | str], args) -> int:
    floor = statistics.median(samples["floor"])
    print()
    judged = []
    for name, values in samples.items():
        if isinstance(values, str):
            print(f"{name:<20}  {'-':>9}  not measured: {values}")
            continue
        median = statistics.median(values)
        line = f"{name:<20}  {median:.3f} s  median (min {min(values):.3f}, n={len(values)})"
        if name != "floor":
            line += f"; {median / floor:.2f}x floor"
        goal = GOALS.get(name)
        if goal is not None:
            met = median / floor <= goal
            judged.append(met)
            line += f" (goal <= {goal}x)  {'ok' if met else 'MISSED'}"
        print(line)
    print(f"\nGoals met: {sum(judged)}/{len(judged)} measured")
    return 1 if (args.strict and not all(judged)) else 0


if __name__ == "__main__":
    sys.exit(main())
