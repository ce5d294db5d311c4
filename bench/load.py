"""Load-test the whole site: learners reading the course while a class submits an exercise.

    .venv/bin/python bench/load.py [--users 200] [--submissions 60] [--duration 120] [--quick]

Starts the site as scripts/up does, but on its own: a temporary folder (SQLite database,
collected static files, logs, sandbox run folders), a private redis-server (broker and
cache), gunicorn on a free port of 127.0.0.1 with DEBUG off (bench.settings: plain HTTP on
loopback), the grading worker, and the course imported from content/. The Docker engine must
be running and the runner image built (`manage.py sandbox_images`).

Then, for --duration seconds after a ramp-up, Locust (as a library) plays:
- --users signed-in learners reading: lessons in course order (half of them marked read, as
  the page does when a reader reaches its end), now and then the catalog, the course page,
  the dashboard or a search, with a think time of --think seconds between pages;
- --submissions uploads of the hello exercise through the terminal API, one learner each,
  spread evenly over the first minute: mostly the solution, one in ten the starter (fails)
  and one in ten an app with a syntax error (not gradable); each learner then asks the
  status URL every 0.5 s, as the submission page does, until the verdict is there;
- the bare view `/bench/bare/`, twice a second: the same server, under the same load, doing
  nothing — the floor the pages are compared with.
The grading floor (a bare hardened container answering one GET, sandbox.runner.floor_probe)
is measured at rest before the load and every 10 s during it. Latencies count from the end
of the ramp-up (users start 20 a second) to the end of the run; a failed request counts as
an error at any time.

Prints the page latency p50 and p95 as ratios to the bare view's, the submit->result p95 as
a ratio to the grading floor, the errors and the lost submissions (not graded within
--grading-bound seconds of their upload). Exits 1 if there was any error or lost
submission; speed is reported, never judged. Everything it started or made is removed at
the end. --json PATH also writes the figures as JSON.
"""

from __future__ import annotations

# Locust patches the standard library for gevent when it is imported: before anything else.
from locust import between  # isort: skip

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import gevent
from locust.env import Environment

BASE_DIR = Path(__file__).resolve().parent.parent
LIB = BASE_DIR / "scripts" / "lib.sh"
SUBMIT_WINDOW = 60.0  # the submissions arrive within one minute
POLL_EVERY = 0.5  # as the submission page asks for its status
FLOOR_EVERY = 10.0  # seconds between floor probes during the load
FLOOR_AT_REST = 5
SPAWN_RATE = 20  # users started per second
PAGES = ("catalog", "course", "lesson", "search", "dashboard")


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(BASE_DIR))
    from bench.grading import remove_leftover_containers, start_redis, stop_process
    from bench.pages import free_port

    workdir = Path(tempfile.mkdtemp(prefix="wc-load-"))
    processes: list[subprocess.Popen] = []
    try:
        redis = start_redis(workdir)
        processes.append(redis.process)
        env = site_environment(workdir, redis.port)
        check_engine(env)
        print("Preparing the site (migrate, collectstatic, import the course)...", flush=True)
        run_logged(["bash", "-c", f"source {LIB} && prepare_site"], env, workdir / "prepare.log")
        learners_file = workdir / "learners.json"
        run_logged(
            [sys.executable, "-m", "bench.loadsite", "learners", str(args.users),
             str(args.submissions), str(learners_file)],
            env, workdir / "learners.log",
        )  # fmt: skip
        learners = json.loads(learners_file.read_text())

        port = free_port()
        web = start_logged(
            ["bash", "-c", f'source {LIB} && run_web_server "$0"', str(port)],
            {**env, "WEB_WORKERS": str(args.web_workers), "WEB_THREADS": str(args.web_threads)},
            workdir / "web.log",
        )
        processes.append(web)
        # As scripts/up runs them, supervised: the site's worker, one grading host, beat.
        for function in ("run_site_worker", "run_grading_host", "run_beat"):
            log = workdir / f"{function.removeprefix('run_')}.log"
            command = f"source {LIB} && supervise {function} {function}"
            processes.append(start_logged(["bash", "-c", command], env, log))
        base = f"http://127.0.0.1:{port}"
        wait_for_site(base, web, workdir / "web.log")
        print("Warming up: one submission graded end to end, each page once...", flush=True)
        warm_up(base, learners, workdir)

        print(f"Grading floor at rest: {FLOOR_AT_REST} probes...", flush=True)
        floor_at_rest = probe_floor_at_rest(env, FLOOR_AT_REST)
        results = run_load(args, base, learners, env, processes)
        results["workdir"] = workdir
    finally:
        for process in reversed(processes):
            stop_process(process)
        remove_leftover_containers(workdir)
        unmount_below(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    return report(args, results, floor_at_rest)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="learners reading (200)")
    parser.add_argument("--submissions", type=int, default=60, help="uploads in a minute (60)")
    parser.add_argument(
        "--duration", type=float, default=120, help="seconds of load after the ramp-up (120)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short try: 20 users, 6 submissions, 20 s"
    )
    parser.add_argument(
        "--think", default="5-20", help="seconds a reader spends on a page, MIN-MAX (5-20)"
    )
    parser.add_argument(
        "--grading-bound",
        type=float,
        default=300,
        help="a submission not graded this many seconds after its upload is lost (300)",
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes (2)")
    parser.add_argument("--web-threads", type=int, default=4, help="threads in each (4)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.quick:
        args.users, args.submissions, args.duration = 20, 6, 20.0
    try:
        low, high = (float(part) for part in args.think.split("-"))
    except ValueError:
        parser.error("--think takes two numbers of seconds, e.g. 5-20")
    if not (0 <= low <= high) or args.users < 1 or args.submissions < 0 or args.duration <= 0:
        parser.error("--users must be at least 1, --duration positive, --think MIN <= MAX")
    args.think = (low, high)
    return args


# The site --------------------------------------------------------------------------------


def site_environment(workdir: Path, redis_port: int) -> dict[str, str]:
    """Return the environment of every process of the site: production, but on loopback."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "ENV_FILE": str(workdir / "no.env"),  # never the checkout's .env (its database...)
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(workdir / "var"),
        "DATABASE_URL": f"sqlite:///{workdir / 'var' / 'db.sqlite3'}",
        "SANDBOX_RUN_DIR": str(workdir / "runs"),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        # Its own host id: a grading host removes every container labelled with its id.
        "GRADING_HOST_ID": f"bench-load-{os.getpid()}",
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
        "PYTHONPATH": str(BASE_DIR),
    }
    (workdir / "var").mkdir()
    return env


def check_engine(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "sandbox_images", "--check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(done.stderr.strip() or "The Docker engine or the runner image is missing.")


def run_logged(command: list[str], env: dict[str, str], log_path: Path) -> None:
    with log_path.open("wb") as log:
        done = subprocess.run(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} failed:\n{tail(log_path)}")


def start_logged(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def wait_for_site(base: str, web: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if web.poll() is not None:
            break
        with contextlib.suppress(OSError):
            if request(base, "/bench/bare/")[0] == 200:
                return
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer:\n{tail(log_path)}")


def request(
    base: str, path: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """Send a GET (or a POST of `data`) to the site; return the status and the body."""
    host, port = base.removeprefix("http://").split(":")
    path = path.removeprefix(base)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET" if data is None else "POST", path, body=data, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def warm_up(base: str, learners: dict, workdir: Path) -> None:
    """Grade one submission through the API (the worker is up) and fetch each page once."""
    import base64

    headers = {
        "Authorization": f"Bearer {learners['tokens'][-1]}" if learners["tokens"] else "",
        "Content-Type": "application/zip",
    }
    if learners["tokens"]:
        archive = base64.b64decode(learners["zips"]["solution"]["zip"])
        status, body = request(base, learners["submit_path"], data=archive, headers=headers)
        if status != 201:
            sys.exit(f"The warm-up submission answered {status}: {body[:500]!r}")
        status_url = json.loads(body)["status_url"]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            time.sleep(POLL_EVERY)
            answer = json.loads(request(base, status_url, headers=headers)[1])
            if answer["state"] == "done":
                if answer["result"]["status"] != "passed":
                    sys.exit(f"The warm-up submission was graded: {answer['result']['message']}")
                break
        else:
            sys.exit("The warm-up submission was not graded within 180 s:\n"
                     + tail(workdir / "site_worker.log")
                     + tail(workdir / "grading_host.log"))  # fmt: skip
    cookie = {"Cookie": f"{learners['session_cookie']}={learners['sessions'][0]}"}
    for path in ["/", learners["course"], *learners["lessons"], "/dashboard/", "/search/?q=flask"]:
        status, _ = request(base, path, headers=cookie)
        if status != 200:
            sys.exit(f"{path} answered {status} during the warm-up")


def probe_floor_at_rest(env: dict[str, str], count: int) -> list[float]:
    """Return the seconds of `count` floor probes, one after another."""
    from bench.grading import stop_process

    prober = start_floor_prober(env, every=0)
    samples = []
    try:
        for line in prober.stdout:
            samples.append(float(line))
            if len(samples) == count:
                break
    finally:
        stop_process(prober)
    if len(samples) < count:
        sys.exit("The grading floor probe failed.")
    return samples


def start_floor_prober(env: dict[str, str], *, every: float) -> subprocess.Popen:
    with (Path(env["VAR_DIR"]) / "floor.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.loadsite", "floor", "--every", str(every)],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )


def unmount_below(workdir: Path) -> None:
    """Unmount what a grading stopped half-way left mounted below workdir (root only)."""
    with contextlib.suppress(OSError):
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        for target in sorted((line.split()[1] for line in mounts), reverse=True):
            if Path(target).is_relative_to(workdir):
                subprocess.run(["umount", "-l", target], check=False, capture_output=True)


# The load --------------------------------------------------------------------------------


def run_load(
    args, base: str, learners: dict, env: dict[str, str], processes: list[subprocess.Popen]
) -> dict:
    """Run the simulated learners; return the raw samples and what became of each upload."""
    from bench.grading import stop_process
    from bench.load_users import BareProbe, Plan, Reader, Submitter

    samples: dict[str, list[float]] = {}
    failures: list[str] = []
    measuring = False  # from the end of the ramp-up to the end of the run

    def on_request(request_type, name, response_time, exception, **_kwargs) -> None:
        if not measuring:
            if exception is not None:
                failures.append(f"{name} (during the ramp-up): {exception}")
            return
        samples.setdefault(name, []).append(response_time / 1000)
        if exception is not None:
            failures.append(f"{name}: {exception}")

    users = args.users + args.submissions + BareProbe.fixed_count
    ramp = users / SPAWN_RATE
    plan = Plan(
        learners=learners,
        think=args.think,
        start=time.monotonic() + ramp + 1,
        window=min(SUBMIT_WINDOW, args.duration),
        submissions=args.submissions,
        poll_every=POLL_EVERY,
        grading_bound=args.grading_bound,
    )
    Plan.current = plan
    Reader.wait_time = between(*args.think)
    Submitter.fixed_count = args.submissions
    classes = [Reader, BareProbe] + ([Submitter] if args.submissions else [])
    environment = Environment(user_classes=classes, host=base)
    environment.events.request.add_listener(on_request)
    runner = environment.create_local_runner()
    print(
        f"Load: {args.users} readers (think {args.think[0]:g}-{args.think[1]:g} s), "
        f"{args.submissions} submissions over {plan.window:g} s, {args.duration:g} s after a "
        f"{ramp:.0f} s ramp-up...",
        flush=True,
    )
    runner.start(users, spawn_rate=SPAWN_RATE)
    gevent.sleep(max(0.0, plan.start - time.monotonic()))
    measuring = True
    prober = start_floor_prober(env, every=FLOOR_EVERY)
    processes.append(prober)
    floor_under_load: list[float] = []
    reader = gevent.spawn(lambda: [floor_under_load.append(float(x)) for x in prober.stdout])

    end = plan.start + args.duration
    hard_end = plan.start + plan.window + args.grading_bound + 10
    while time.monotonic() < hard_end:
        uploads_settled = len(plan.graded) + sum(1 for f in failures if f.startswith("API submit"))
        waiting = any(g.seconds is None for g in plan.graded) or uploads_settled < args.submissions
        if time.monotonic() >= end and not waiting:
            break
        gevent.sleep(0.5)
    measuring = False
    elapsed = time.monotonic() - plan.start
    runner.quit()
    stop_process(prober)
    reader.kill()
    return {
        "samples": samples,
        "failures": failures + plan.problems,
        "graded": plan.graded,
        "floor_under_load": floor_under_load,
        "elapsed": elapsed,
    }


# Report ----------------------------------------------------------------------------------


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def report(args, results: dict, floor_at_rest: list[float]) -> int:
    samples = results["samples"]
    pages = [t for name in PAGES for t in samples.get(name, [])]
    bare = samples.get("bare view", [])
    graded = results["graded"]
    done = [g for g in graded if g.seconds is not None]
    lost = len(graded) - len(done)
    errors = len(results["failures"])
    floor_load = results["floor_under_load"] or floor_at_rest
    floor_rest = statistics.median(floor_at_rest)
    floor_under = statistics.median(floor_load)

    print(
        f"\nRan {results['elapsed']:.0f} s on {os.cpu_count()} cores: gunicorn "
        f"{args.web_workers}x{args.web_threads} threads, the site worker, one grading host, SQLite."
    )
    print(f"{'':14}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}")
    for name in (*PAGES, "mark read", "bare view", "API submit", "API status"):
        values = samples.get(name, [])
        if values:
            print(f"  {name:12}{len(values):9}{percentile(values, 50) * 1000:9.1f}"
                  f"{percentile(values, 95) * 1000:9.1f}")  # fmt: skip
    figures = {
        "workdir": str(results["workdir"]),
        "users": args.users,
        "submissions": args.submissions,
        "duration": args.duration,
        "elapsed": results["elapsed"],
        "requests": sum(len(v) for v in samples.values()),
        "page_requests": len(pages),
        "requests_by_name": {name: len(values) for name, values in sorted(samples.items())},
        "verdicts": dict(Counter(g.verdict for g in done)),
        "errors": errors,
        "lost": lost,
        "graded": len(done),
        "floor_at_rest": floor_rest,
        "floor_under_load": floor_under,
    }
    if pages and bare:
        for pct in (50, 95):
            page, floor = percentile(pages, pct), percentile(bare, pct)
            figures[f"page_p{pct}"], figures[f"bare_p{pct}"] = page, floor
            figures[f"page_p{pct}_ratio"] = page / floor
            print(f"page latency p{pct}: {page * 1000:.1f} ms = {page / floor:.1f}x the bare "
                  f"view's ({floor * 1000:.1f} ms)")  # fmt: skip
    if done:
        seconds = [g.seconds for g in done]
        server = [g.server_seconds for g in done if g.server_seconds is not None]
        p50, p95 = percentile(seconds, 50), percentile(seconds, 95)
        figures.update(submit_p50=p50, submit_p95=p95, submit_p95_ratio=p95 / floor_under)
        print(f"grading floor: {floor_rest:.2f} s at rest (median of {len(floor_at_rest)}), "
              f"{floor_under:.2f} s under the load (median of {len(floor_load)})")  # fmt: skip
        print(f"submit->result: p50 {p50:.1f} s, p95 {p95:.1f} s = {p95 / floor_under:.1f}x the "
              f"floor under load, {p95 / floor_rest:.1f}x at rest "
              f"(polled every {POLL_EVERY:g} s; queued->finished p95 "
              f"{percentile(server, 95) if server else float('nan'):.1f} s)")  # fmt: skip
    print(f"errors: {errors}")
    for failure in results["failures"][:10]:
        print(f"  {failure}")
    print(f"lost submissions: {lost} of {len(graded)} (not graded within "
          f"{args.grading_bound:g} s)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if errors or lost else 0


if __name__ == "__main__":
    # Ctrl-C stops the run, and the `finally` above still cleans up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
