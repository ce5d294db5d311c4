"""Measure interactive runs and warm gradings against the bare-container floor, in one run.

    .venv/bin/python bench/interactive.py [--runs 20] [--strict]

Each round measures, one after the other (so all see the same load on a shared machine), with
the engine alone (no Celery: what a grading host does once it has the job), and the broker only
where the product has one between the reader and the host:

- floor: a bare hardened container boots the hello exercise's Flask solution, answers one GET,
  and is removed (sandbox.runner.floor_probe, as in bench/grading.py);
- grading, pool warm: `sandbox.runner.grade()` of that solution with a warm container ready
  (sandbox.pool; started before the clock starts);
- snippet, cold: a lesson's script run once (sandbox.snippets.run_script) in a fresh container,
  timed until its result is handed on (before the container's removal, as a host sends it);
- snippet, pool warm: the same in a warm container (sandbox.pool.launch_script);
- console round trip: one request of the live console through the broker, as a learner's
  travels: a JSON LiveRequest (GET /hello/ada) pushed onto the session's LIVE_REQUESTS list of
  a private redis-server, answered by a live app started with grading.live.start_live_app
  (what a LIVE_TASK does: a `python -m grading.live` process relaying to the app in Docker),
  timed from the push until its exchange is popped from LIVE_REPLY (see BrokerConsole);
- console, host's side: the same request to a live app of this process
  (sandbox.live.LiveApp.request), without the broker and the relay (see HostConsole).

Both live apps are started off the clock, kept for all rounds (started again when their
lifetime runs short) and stopped at the end, even on an error or Ctrl-C.

Goals (medians, as ratios to the floor measured in the same run): grading with the pool warm
<= 0.8x, snippet <= 0.5x, console round trip (through the broker) <= 0.1x. The machine is
shared: read the ratios, not the milliseconds. Everything runs in a temporary run folder under
a host id of its own, with a redis-server of its own, all removed at the end. --strict: exit 1
when a goal is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
    # grading.live's process finds the project here, wherever the bench was started from.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])
    )
    sys.path.insert(0, str(BASE_DIR))
    from bench.grading import start_redis, stop_process
    from sandbox import engine, images, runner

    try:
        engine.client()
    except engine.EngineUnavailable as exc:
        sys.exit(str(exc))
    if not images.runner_image_ready():
        sys.exit("The runner image is not built: run `python manage.py sandbox_images` first.")
    redis = None
    try:
        redis = start_redis(workdir)
        broker_url = f"redis://127.0.0.1:{redis.port}/0"
        # Leaving the block stops both live apps, whatever ended it (an error, Ctrl-C).
        with BrokerConsole(broker_url) as through_broker, HostConsole() as on_host:
            rounds = measure(
                args.runs,
                {
                    **ENGINE_ROUNDS,
                    "console round trip": through_broker.round,
                    "console, host's side": on_host.round,
                },
            )
    finally:
        if redis is not None:
            stop_process(redis.process)
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


ENGINE_ROUNDS: dict[str, Callable[[], float]] = {
    "floor": floor_round,
    "grading, pool warm": grading_warm_round,
    "snippet, cold": snippet_cold_round,
    "snippet, pool warm": snippet_warm_round,
}


# The live console -----------------------------------------------------------------------------

CONSOLE_REQUEST = {"method": "GET", "path": "/hello/ada"}
CONSOLE_ANSWER = "Hello, ada!"
RENEW_BEFORE = 60.0  # seconds of a live app's lifetime left when a new one is started instead
START_TIMEOUT = 60.0  # for a live app to run, as the site waits for one (playground.live)
REPLY_TIMEOUT = 15.0  # for an answer, as the site waits (playground.live.REPLY_TIMEOUT)
KEEP_AFTER = 120  # seconds the request list outlives the app, as the site keeps it
STOP_TIMEOUT = 30.0  # for a live app's process to end once asked to stop


def hello_files() -> dict[str, str]:
    from sandbox.spec import ExerciseSpec

    return ExerciseSpec.from_dir(HELLO_DIR).solution(FRAMEWORK)


def check_answer(exchange: dict, where: str) -> None:
    response = exchange.get("response") or {}
    if response.get("status") != 200 or CONSOLE_ANSWER not in response["body"]["text"]:
        sys.exit(f"The live app ({where}) did not answer {CONSOLE_ANSWER!r}: {exchange}")


class BrokerConsole:
    """A live app started as a grading host starts one, and asked as the site asks it.

    `start_live_app` (what the LIVE_TASK runs) starts the app's own `python -m grading.live`
    process, which boots the app in Docker and relays between the broker and the app's socket.
    A round pushes one request onto the session's LIVE_REQUESTS and pops its exchange from
    LIVE_REPLY, as playground.live sends a console request (the site's checks before that —
    session state, lock, throttle — are a few more Redis commands, not timed here).
    """

    def __init__(self, broker_url: str) -> None:
        import redis

        self.broker_url = broker_url
        # Reads wait longer than the reply may take (redis-py's default is 5 s), as the site's do.
        self.redis = redis.Redis.from_url(broker_url, socket_timeout=REPLY_TIMEOUT + 5)
        self.session = ""
        self.process: subprocess.Popen | None = None
        self.expires = 0.0  # epoch seconds, as the host wrote them in the session's state

    def __enter__(self) -> BrokerConsole:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def round(self) -> float:
        from grading.interactive import LIVE_REPLY, LIVE_REQUESTS, LiveRequest, new_id

        if self.expires - time.time() < RENEW_BEFORE:
            self.stop()
            self.start()  # off the clock
        request = LiveRequest(**CONSOLE_REQUEST, request_id=new_id())
        requests_key = LIVE_REQUESTS.format(session=self.session)
        reply_key = LIVE_REPLY.format(session=self.session, request_id=request.request_id)
        started = time.perf_counter()
        with self.redis.pipeline() as pipe:
            pipe.rpush(requests_key, json.dumps(request.to_message()))
            pipe.expire(requests_key, int(self.expires - time.time()) + KEEP_AFTER)
            pipe.execute()
        reply = self.redis.blpop([reply_key], timeout=REPLY_TIMEOUT)
        seconds = time.perf_counter() - started
        if reply is None:
            ended = self.process.poll()
            sys.exit(
                f"The live app did not answer through the broker within {REPLY_TIMEOUT:g} s"
                + (f": its process ended (exit status {ended})." if ended is not None else ".")
            )
        check_answer(json.loads(reply[1]), "through the broker")
        return seconds

    def start(self) -> None:
        """Start a live app as a LIVE_TASK does, and wait until its host says it runs."""
        from grading import live
        from grading.interactive import LIVE_KEY, LIVE_LIFETIME, LiveJob, new_id

        job = LiveJob(
            session=new_id(), files=hello_files(), framework=FRAMEWORK, lifetime=LIVE_LIFETIME
        )
        host = os.environ["GRADING_HOST_ID"]
        process = live.start_live_app(job, redis=self.redis, host=host, broker_url=self.broker_url)
        if process is None:
            sys.exit(f"Live session {job.session} did not start.")
        self.session, self.process = job.session, process
        key = LIVE_KEY.format(session=job.session)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            state = {k.decode(): v.decode() for k, v in self.redis.hgetall(key).items()}
            if state.get("state") == "running":
                self.expires = float(state["expires"])
                return
            if state.get("state") == "failed" or self.process.poll() is not None:
                sys.exit(f"The live app did not start: {state.get('message') or state}")
            time.sleep(0.02)
        sys.exit(f"The live app was not running after {START_TIMEOUT:g} s.")

    def stop(self) -> None:
        """Ask the live app to stop, as the site does, and wait until its process has ended."""
        import redis

        from grading.interactive import LIVE_REQUESTS

        process, self.process, self.expires = self.process, None, 0.0
        if process is None:
            return
        with contextlib.suppress(redis.RedisError):
            self.redis.rpush(LIVE_REQUESTS.format(session=self.session), json.dumps({"stop": True}))
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.terminate()  # it removes its container on the way out
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()  # the sweep at the end removes what it left
                process.wait()


class HostConsole:
    """A live app of this process, asked directly: the host's side of a console request."""

    def __init__(self) -> None:
        self.app = None

    def __enter__(self) -> HostConsole:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def round(self) -> float:
        from grading.interactive import LIVE_LIFETIME, LiveRequest
        from sandbox.live import LiveApp

        if self.app is None or self.app.expires_at - time.time() < RENEW_BEFORE:
            self.stop()
            self.app = LiveApp(files=hello_files(), framework=FRAMEWORK, lifetime=LIVE_LIFETIME)
            self.app.start()  # off the clock
        started = time.perf_counter()
        exchange = self.app.request(LiveRequest(**CONSOLE_REQUEST))
        seconds = time.perf_counter() - started
        check_answer(exchange, "on the host")
        return seconds

    def stop(self) -> None:
        app, self.app = self.app, None
        if app is not None:
            app.stop()


def measure(runs: int, rounds: dict[str, Callable[[], float]]) -> dict[str, list[float] | str]:
    samples: dict[str, list[float] | str] = {name: [] for name in rounds}
    print("Warming up...")
    for function in rounds.values():
        with contextlib.suppress(NotMeasured):
            function()
    print(f"{runs} rounds of: {', '.join(rounds)}...")
    for _ in range(runs):
        for name, function in rounds.items():
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
            ratio = median / floor
            line += f"; {ratio:.3f}x floor" if ratio < 0.1 else f"; {ratio:.2f}x floor"
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
