"""Measure grading latency and throughput through Celery against the bare-container floor.

    .venv/bin/python bench/grading.py [--runs 30] [--burst 50] [--concurrency 2] [--pool N]
                                      [--strict]

In one run, on this machine (the Docker engine must be running and the runner image built,
see `manage.py sandbox_images`), with the hello exercise's Flask solution:

1. Sequential, `--runs` rounds. Each round measures, one after the other (so all three see
   the same load on a shared machine):
   - floor: a bare hardened container (same image and limits as a grading) boots the app,
     answers one GET, and is removed;
   - direct: `sandbox.runner.grade()` called in this process (what `manage.py grade` does),
     cold: no warm container in this process's pool;
   - warm: the same with one warm container ready (sandbox.pool; started off the clock);
   - Celery: submit -> verdict through a real worker on a private Redis, timed from the call
     that saves (and enqueues) the submission until the worker's finished_at. The grading
     host keeps a warm pool of up to `--pool` containers (default: its own default; 0: cold
     runs only); each round waits, off the clock, until the pool has a container ready.
   Reported: the floor's median, direct cold and warm medians, Celery p50 and p95 and how
   many of its gradings ran warm, and where the time goes (medians of the stages recorded
   in each result's timings).
2. Burst: `--burst` bare containers, `--concurrency` at a time, back to back; then `--burst`
   submissions saved at once (the grading throughput = graded / seconds from the first submit
   to the last verdict); then the bare containers again. The floor's throughput is that of
   both container bursts together, so that a load from elsewhere that rises or falls during
   the run weighs on the floor as on the grading. Lost = not done by the deadline.
   The nominal floor throughput, concurrency / floor median, is printed for reference: it
   assumes containers never compete for the CPUs, which even bare ones do on a small machine.

Goals: p50 <= 1.5x floor, p95 <= 2.5x floor, grading p50 with the pool warm (direct, warm)
<= 0.8x floor, burst throughput >= 0.7x the floor's, 0 lost.
Everything runs in a temporary folder (SQLite database, run folders, logs) with a private
redis-server and worker, all removed at the end. --strict: exit 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
HELLO_DIR = BASE_DIR / "content" / "python-web" / "exercises" / "hello"
FRAMEWORK = "flask"
APP_DIR = HELLO_DIR / "solution" / FRAMEWORK
GOALS = {"p50": 1.5, "p95": 2.5, "warm": 0.8, "throughput": 0.7}
GRADING_HOST_ID = f"bench-grading-{os.getpid()}"  # its pool is its own, not this process's
# Stages of one grading, from the timings stored in its result (see sandbox.results).
STAGES = (
    ("to worker", "submitted", "started"),  # save, enqueue, Redis, worker, claim
    ("boot", "started", "booted"),  # unpack, container start, app answering
    ("tests", "booted", "tested"),
    ("clean-up", "tested", "finished"),  # container and run folders removed
    ("store", "finished", "stored"),  # verdict written to the row
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="sequential rounds (>= 30)")
    parser.add_argument("--burst", type=int, default=50, help="submissions sent at once")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--pool", type=int, default=None, help="the grading host's warm pool maximum (0: none)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    if args.runs < 2 or args.burst < 1 or args.concurrency < 1:
        parser.error("--runs must be at least 2, --burst and --concurrency at least 1")
    if args.pool is not None and args.pool < 0:
        parser.error("--pool must be 0 or more")

    workdir = Path(tempfile.mkdtemp(prefix="wc-bench-"))
    redis = worker = None
    try:
        redis = start_redis(workdir)
        # Django reads these when it starts, so they are set before setup().
        os.environ.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            VAR_DIR=str(workdir / "var"),
            DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
            SANDBOX_RUN_DIR=str(workdir / "runs"),
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
            LOG_LEVEL="ERROR",
        )
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        check_engine()
        learner, exercise = prepare_database()
        archive = hello_archive()

        from sandbox import pool

        if args.pool is None:
            args.pool = pool.max_size()
        host_env = {"GRADING_HOST_ID": GRADING_HOST_ID, "SANDBOX_WARM_POOL_MAX": str(args.pool)}
        worker = [
            start_worker(workdir, "site", ["-A", "config", "worker", "-Q", "results,celery"], 2),
            start_worker(
                workdir, "grading", ["-A", "grading.worker", "worker", "-Q", "grading"],
                args.concurrency, env=host_env,
            ),
        ]  # fmt: skip
        print(f"Worker ready (concurrency {args.concurrency}, pool {args.pool}); warming up...")
        floor_probe()
        submit_burst(learner, exercise, archive, 2 * args.concurrency, timeout=120)

        print(f"Sequential: {args.runs} rounds of floor, direct grading, Celery grading...")
        rounds = sequential(learner, exercise, archive, args.runs, pool_size=args.pool)

        print(f"Floor burst: {args.burst} bare containers, {args.concurrency} at a time...")
        floor_before = measure_floor_burst(args.burst, args.concurrency)
        print(f"Burst: {args.burst} submissions at once...")
        timeout = max(120.0, 5 * args.burst / floor_before)
        burst = submit_burst(learner, exercise, archive, args.burst, timeout=timeout)
        print("Floor burst again, after the submissions...")
        floor_after = measure_floor_burst(args.burst, args.concurrency)
        # Both together: as many containers over the seconds the two bursts took.
        floor_burst = 2 / (1 / floor_before + 1 / floor_after)
    finally:
        for process in worker or ():
            stop_process(process)
        if redis is not None:
            stop_process(redis.process)
        remove_leftover_containers(workdir)
        shutil.rmtree(workdir, ignore_errors=True)

    return report(rounds, floor_burst, burst, args)


# Services -----------------------------------------------------------------------------


class Redis:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process = process
        self.port = port


def start_redis(workdir: Path) -> Redis:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install -y redis-server).")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return Redis(process, port)
        time.sleep(0.05)
    stop_process(process)
    sys.exit("redis-server did not start.")


def start_worker(
    workdir: Path,
    name: str,
    arguments: list[str],
    concurrency: int,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """Start the site's worker or a grading host (`arguments`), as scripts/up does."""
    log_path = workdir / f"{name}.log"
    command = [
        str(Path(sys.executable).with_name("celery")), *arguments,
        "-c", str(concurrency), "--pool", "prefork", "-l", "info", "-n", f"{name}@%h",
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, "LOG_LEVEL": "INFO", **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if " ready." in log_path.read_text(errors="replace"):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop_process(process)
    sys.exit("The Celery worker did not start:\n" + log_path.read_text(errors="replace")[-3000:])


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def check_engine() -> None:
    from sandbox import engine, images

    try:
        engine.client()
    except engine.EngineUnavailable as exc:
        sys.exit(str(exc))
    if not images.runner_image_ready():
        sys.exit("The runner image is not built: run `python manage.py sandbox_images` first.")


def remove_leftover_containers(workdir: Path) -> None:
    """Remove containers whose run folders were in workdir (none, unless something crashed)."""
    with contextlib.suppress(Exception):
        from sandbox import engine

        for container in engine.sandbox_containers():
            sources = [m.get("Source", "") for m in container.get("Mounts") or []]
            if any(Path(s).is_relative_to(workdir) for s in sources):
                engine.remove(container["Id"])


# Data ---------------------------------------------------------------------------------


def prepare_database():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from courses.models import Course
    from exercises.models import Exercise
    from sandbox.spec import ExerciseSpec

    call_command("migrate", verbosity=0, interactive=False)
    spec = ExerciseSpec.from_dir(HELLO_DIR)
    exercise = Exercise.objects.create(
        course=Course.objects.create(slug="bench", title="Bench"),
        slug=spec.slug,
        title=spec.title,
        frameworks=list(spec.frameworks),
        points=spec.points or 0,
        limits=spec.limits,
        instructions=spec.instructions,
        files=spec.files,
    )
    learner = get_user_model().objects.create_user("bench-learner")
    return learner, exercise


def hello_archive() -> bytes:
    from sandbox.archive import pack_directory

    return pack_directory(APP_DIR)


# Measurements -------------------------------------------------------------------------


def floor_probe() -> float:
    from sandbox import runner

    return runner.floor_probe(APP_DIR, FRAMEWORK)


def sequential(learner, exercise, archive: bytes, runs: int, *, pool_size: int) -> dict[str, list]:
    from sandbox import pool, runner

    spec = exercise.spec()
    rounds: dict[str, list] = {
        "floor": [], "direct": [], "warm": [], "celery": [], "stages": [], "celery_warm": [],
    }  # fmt: skip
    for _ in range(runs):
        rounds["floor"].append(floor_probe())

        started = time.perf_counter()
        result = runner.grade(spec=spec, archive=archive, framework=FRAMEWORK)
        rounds["direct"].append(time.perf_counter() - started)
        check_verdict(result)

        pool.start_warm(policy=spec.policy)  # off the clock: the pool is warm
        started = time.perf_counter()
        result = runner.grade(spec=spec, archive=archive, framework=FRAMEWORK)
        rounds["warm"].append(time.perf_counter() - started)
        check_verdict(result)
        if not result["timings"].get("warm"):
            sys.exit("The warm grading did not use the warm container.")

        if pool_size:
            wait_for_host_pool()
        submitted = time.time()
        (graded,) = submit_and_wait(learner, exercise, archive, 1, timeout=120)
        # The worker's finished_at (same clock), so polling gently costs no accuracy.
        rounds["celery"].append(graded.finished_at.timestamp() - submitted)
        rounds["stages"].append(stage_seconds(graded, submitted))
        rounds["celery_warm"].append(bool(graded.result["timings"].get("warm")))
    for name in ("floor", "direct", "warm", "celery"):
        print(f"  {name:>6}: {describe(rounds[name])}")
    print(f"  Celery gradings that ran warm: {sum(rounds['celery_warm'])}/{runs}")
    print_stages(rounds["stages"])
    return rounds


def wait_for_host_pool(timeout: float = 30) -> None:
    """Wait until the grading host has a warm container ready (its keeper refills the pool)."""
    from sandbox import config, pool

    ready = pool.folder_of(config.current().run_dir, GRADING_HOST_ID) / "ready"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            if any(ready.iterdir()):
                return
        time.sleep(0.05)
    print("  (the host's pool had no container ready: this round may run cold)")


def measure_floor_burst(count: int, concurrency: int) -> float:
    """Return bare containers per second, `concurrency` running at a time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        samples = list(pool.map(lambda _: floor_probe(), range(count)))
    throughput = count / (time.perf_counter() - started)
    print(f"  {throughput:.2f} /s; each {describe(samples)}")
    return throughput


def submit_burst(learner, exercise, archive: bytes, count: int, *, timeout: float) -> dict:
    submitted = time.time()
    graded = submit_and_wait(learner, exercise, archive, count, timeout=timeout)
    last = max((s.finished_at.timestamp() for s in graded), default=submitted)
    print_stages([stage_seconds(s, submitted) for s in graded])
    return {"count": count, "graded": len(graded), "seconds": last - submitted}


def submit_and_wait(learner, exercise, archive: bytes, count: int, *, timeout: float) -> list:
    """Submit `count` copies at once; return those graded within `timeout` seconds."""
    from exercises.models import Submission
    from exercises.services import submission_create

    # One learner sends them all at once: past the rate limits, on purpose (bucket=None).
    ids = [
        submission_create(
            learner=learner, exercise=exercise, framework=FRAMEWORK, archive=archive, bucket=None
        ).pk
        for _ in range(count)
    ]
    done = Submission.objects.filter(pk__in=ids, state=Submission.State.DONE)
    deadline = time.monotonic() + timeout
    # Poll gently: this process shares the CPUs with the worker.
    while done.count() < count and time.monotonic() < deadline:
        time.sleep(0.05)
    graded = list(done)
    for submission in graded:
        check_verdict(submission.result)
    if count == 1 and not graded:
        sys.exit(f"Submission {ids[0]} was not graded within {timeout:g} s.")
    return graded


def check_verdict(result: dict) -> None:
    if result["status"] != "passed":
        sys.exit(f"The hello solution was graded {result['status']!r}: {result['message']}")


def stage_seconds(submission, submitted: float) -> dict[str, float]:
    marks = {
        key: datetime.fromisoformat(value).timestamp()
        for key, value in (submission.result.get("timings") or {}).items()
        if isinstance(value, str) and value  # not "warm", a flag
    }
    marks["submitted"] = submitted
    marks["stored"] = submission.finished_at.timestamp()
    return {
        name: marks[end] - marks[start]
        for name, start, end in STAGES
        if start in marks and end in marks
    }


# Report -------------------------------------------------------------------------------


def describe(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples):.3f} s, min {min(samples):.3f} s, "
        f"max {max(samples):.3f} s (n={len(samples)})"
    )


def print_stages(per_grading: list[dict[str, float]]) -> None:
    medians = []
    for name, _, _ in STAGES:
        values = [stages[name] for stages in per_grading if name in stages]
        if values:
            medians.append(f"{name} {statistics.median(values):.3f} s")
    print("  median per stage: " + ", ".join(medians))


def percentile(samples: list[float], pct: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def report(rounds: dict[str, list], floor_burst: float, burst: dict, args) -> int:
    floor = statistics.median(rounds["floor"])
    direct = statistics.median(rounds["direct"])
    warm = statistics.median(rounds["warm"])
    warm_share = f"{sum(rounds['celery_warm'])}/{len(rounds['celery_warm'])} ran warm"
    p50 = percentile(rounds["celery"], 50)
    p95 = percentile(rounds["celery"], 95)
    throughput = burst["graded"] / burst["seconds"] if burst["seconds"] > 0 else 0.0
    nominal = args.concurrency / floor
    lost = burst["count"] - burst["graded"]
    rows = [
        ("floor (bare container, median)", f"{floor:.3f} s", "", None),
        ("direct grading, median", f"{direct:.3f} s", f"{direct / floor:.2f}x floor", None),
        ("direct grading, pool warm, median", f"{warm:.3f} s",
         f"{warm / floor:.2f}x floor (goal <= {GOALS['warm']}x); {warm / direct:.2f}x cold",
         warm / floor <= GOALS["warm"]),
        ("Celery latency p50", f"{p50:.3f} s",
         f"{p50 / floor:.2f}x floor (goal <= {GOALS['p50']}x); {p50 / direct:.2f}x direct; "
         f"{warm_share}",
         p50 / floor <= GOALS["p50"]),
        ("Celery latency p95", f"{p95:.3f} s",
         f"{p95 / floor:.2f}x floor (goal <= {GOALS['p95']}x)", p95 / floor <= GOALS["p95"]),
        ("floor burst throughput", f"{floor_burst:.2f} /s",
         f"measured, {args.concurrency} at a time, before and after the burst", None),
        ("floor nominal throughput", f"{nominal:.2f} /s",
         f"concurrency {args.concurrency} / floor median", None),
        (f"burst of {burst['count']} throughput", f"{throughput:.2f} /s",
         f"{throughput / floor_burst:.2f}x floor's (goal >= {GOALS['throughput']}x); "
         f"{throughput / nominal:.2f}x nominal",
         throughput / floor_burst >= GOALS["throughput"]),
        ("lost in the burst", str(lost), "goal 0", lost == 0),
    ]  # fmt: skip
    print()
    width = max(len(r[0]) for r in rows)
    for name, value, note, met in rows:
        mark = "" if met is None else ("  ok" if met else "  MISSED")
        print(f"{name:<{width}}  {value:>10}  {note}{mark}")
    judged = [met for *_, met in rows if met is not None]
    print(f"\nGoals met: {sum(judged)}/{len(judged)}")
    return 1 if (args.strict and not all(judged)) else 0


if __name__ == "__main__":
    sys.exit(main())
