"""Two grading hosts that need only the broker, each with its own Docker engine.

One host uses this machine's engine, the other a second dockerd started here with its own data
root and socket, the runner image loaded into it. Neither has database settings. The site's
worker applies their results and beat runs the sweep, as scripts/up runs them. The test
checks that a burst is shared and graded exactly once, that a host killed mid-grade has its
jobs graded by the other within 30 s, that its containers end by themselves at their wall
limit with nobody left to stop them, and that on restart it removes its own orphans and no
one else's.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import redis as redis_lib
from django.utils import timezone

from exercises import services
from exercises.models import Submission
from grading import hosts
from sandbox import engine
from tests.celery_fixtures import (
    CELERY_BIN,
    _wait_until,
    hello_archive,
    slow_booting_hello_archive,
    wait_for_rows,
    wait_until_graded,
)

pytestmark = [pytest.mark.celery, pytest.mark.sandbox]

BURST = 40
WALL_TIMEOUT = 15  # the exercise's whole-run limit here: a killed host's container ends by then
RECOVERY_LIMIT = 30.0


class SecondEngine:
    """A second dockerd on this machine: its own data root, exec root, socket and bridge.

    Its own bridge, not `--bridge none`: a dockerd started without a bridge deletes the
    interface named docker0, the first engine's, and `docker build` there fails afterwards.
    """

    def __init__(self) -> None:
        # Short: the socket path is limited to 107 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="wcd-", dir="/tmp"))
        self.url = f"unix://{self.dir}/docker.sock"
        self.bridge = f"wcd{uuid.uuid4().hex[:8]}"  # interface names have at most 15 bytes
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if shutil.which("dockerd") is None:
            pytest.fail("dockerd is not installed (scripts/test installs docker.io)")
        for command in (
            ["ip", "link", "add", self.bridge, "type", "bridge"],
            ["ip", "link", "set", self.bridge, "up"],
        ):
            subprocess.run(command, check=True, capture_output=True)
        with (self.dir / "dockerd.log").open("wb") as log:
            self.process = subprocess.Popen(
                [
                    "dockerd", "--data-root", str(self.dir / "data"),
                    "--exec-root", str(self.dir / "exec"), "-H", self.url,
                    "--pidfile", str(self.dir / "docker.pid"),
                    "--bridge", self.bridge, "--iptables=false", "--ip-masq=false",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        _wait_until(self._answers, timeout=60, what="the second dockerd")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"dockerd exited:\n{(self.dir / 'dockerd.log').read_text()[-3000:]}")
        try:
            client = docker.DockerClient(base_url=self.url, timeout=5)
        except docker.errors.DockerException:
            return False
        try:
            return bool(client.ping())
        except docker.errors.DockerException:
            return False
        finally:
            client.close()

    @contextlib.contextmanager
    def client(self) -> Iterator[docker.DockerClient]:
        client = docker.DockerClient(base_url=self.url, timeout=60)
        try:
            yield client
        finally:
            client.close()

    def load(self, image: str) -> None:
        """Copy an image from this machine's engine into this one (docker save | docker load)."""
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "load", "-q"],
            stdin=save.stdout,
            env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "DOCKER_HOST": self.url},
            check=True,
            capture_output=True,
        )
        save.stdout.close()
        assert save.wait() == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(docker.errors.DockerException), self.client() as client:
                for container in client.containers.list(all=True):
                    container.remove(force=True)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        subprocess.run(["umount", "-R", str(self.dir / "exec")], capture_output=True)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def second_engine(runner_image) -> SecondEngine:
    first_bridge = Path("/sys/class/net/docker0")
    had_bridge = first_bridge.exists()
    second = SecondEngine()
    try:
        second.start()
        second.load(runner_image)
        yield second
    finally:
        second.stop()
    # The first engine keeps its bridge (docker build needs it).
    assert first_bridge.exists() == had_bridge


class Beat:
    """`celery -A config beat`, the one scheduler, here with a sweep every two seconds."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.log_path = workdir / "beat.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(CELERY_BIN), "-A", "config", "beat", "-l", "info",
                 "--schedule", str(workdir / "beat-schedule")],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def applied_results(site_log: str) -> Counter:
    """Count the results the site's worker applied, per job id."""
    return Counter(re.findall(r"result of job (\w+) from \S+ applied", site_log))


def host_containers(client: docker.DockerClient, host_id: str) -> list:
    labels = [engine.SANDBOX_LABEL, f"{engine.HOST_LABEL}={host_id}"]
    return client.containers.list(all=True, filters={"label": labels})


def test_two_hosts_without_a_database_share_a_burst_and_recover_from_a_killed_one(
    second_engine,  # first: it stops after the hosts
    start_celery_worker,
    start_grading_host,
    hello_exercise,
    learner,
    celery_broker,
    tmp_path,
):
    started = time.monotonic()
    hello_exercise.limits = {**hello_exercise.limits, "wall_timeout": WALL_TIMEOUT}
    hello_exercise.save()
    site = start_celery_worker()
    beat = Beat({**site.env, "GRADING_SWEEP_SECONDS": "2"}, tmp_path)
    try:
        first = start_grading_host()  # this machine's engine
        second = start_grading_host(docker_host=second_engine.url)

        # Neither host has database settings, nor can it import the site's.
        for host in (first, second):
            environ = Path(f"/proc/{host.pid}/environ").read_bytes().split(b"\0")
            names = {line.partition(b"=")[0].decode() for line in environ if line}
            assert not names & {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}
            attempt = subprocess.run(
                [str(CELERY_BIN.with_name("python")), "-c", "import config.settings"],
                cwd=host.cwd,
                env=host.env,
                capture_output=True,
                text=True,
            )
            assert attempt.returncode != 0
            assert "No module named 'config'" in attempt.stderr
        broker = redis_lib.Redis.from_url(celery_broker.url)
        statuses = {s.host: s for s in hosts.read_all(broker)}
        assert {first.host_id, second.host_id} <= set(statuses)
        assert all(statuses[h.host_id].healthy for h in (first, second))

        # A burst of 40 is shared between the hosts and graded exactly once.
        archive = hello_archive("solution", "flask")
        burst = [
            services.submission_create(
                learner=learner,
                exercise=hello_exercise,
                framework="flask",
                archive=archive,
                bucket=None,  # a whole class at once: past the rate limits on purpose
            ).pk
            for _ in range(BURST)
        ]
        graded = wait_until_graded(burst, timeout=150, workers=[site, first, second])
        burst_seconds = time.monotonic() - started
        assert [s.verdict for s in graded] == ["passed"] * BURST
        assert [s.grading_attempts for s in graded] == [1] * BURST
        applied = applied_results(site.log())
        assert {s.job_id for s in graded} <= set(applied)
        assert all(applied[s.job_id] == 1 for s in graded)
        share = Counter(s.grading_host for s in graded)
        assert set(share) == {first.host_id, second.host_id}
        assert min(share.values()) >= BURST // 5, share
        graded_by_hosts = Counter(re.findall(r"Job (\w+) \(submission", first.log() + second.log()))
        assert all(graded_by_hosts[s.job_id] == 1 for s in graded)

        # The second host is killed mid-grade; the first grades its jobs within 30 s.
        slow = [
            services.submission_create(
                learner=learner,
                exercise=hello_exercise,
                framework="flask",
                archive=slow_booting_hello_archive(6.0),
                bucket=None,
            ).pk
            for _ in range(4)
        ]
        on_second = Submission.objects.filter(
            pk__in=slow, state="running", grading_host=second.host_id, phase="booting"
        )
        wait_for_rows(on_second.exists, timeout=60, what="a grading on the second host")
        # Killed once the learner's code runs: the socket folder is sealed before it starts.
        wait_for_rows(
            lambda: any(
                (run / "sockets").stat().st_mode & 0o777 == 0o755
                for run in second.run_dir.iterdir()
                if (run / "sockets").exists()
            ),
            timeout=30,
            what="the learner's code to run on the second host",
        )
        time.sleep(1.0)  # boot.py hears "sealed" just after the seal and starts the app
        doomed = {s.pk: s.job_id for s in on_second}
        with second_engine.client() as client:
            running = [c for c in host_containers(client, second.host_id) if c.status == "running"]
        assert running, "the second host's app containers were not running"
        second.kill()
        killed_at = timezone.now()

        graded_slow = wait_until_graded(slow, timeout=90, workers=[site, first])
        assert [s.verdict for s in graded_slow] == ["passed"] * len(slow)
        recovered = {s.pk: s for s in graded_slow if s.pk in doomed}
        recovery = max((s.finished_at - killed_at).total_seconds() for s in recovered.values())
        assert recovery < RECOVERY_LIMIT, recovery
        for pk, lost_job in doomed.items():
            assert recovered[pk].grading_host == first.host_id
            assert recovered[pk].job_id != lost_job  # a late result of the lost job is ignored
            assert recovered[pk].grading_attempts == 2
        assert "its host stopped answering" in site.log()

        # With no host left to stop them, its containers end at their wall limit by themselves.
        with second_engine.client() as client:
            deadline = WALL_TIMEOUT + 5 + 5  # the run's limit, boot.py's grace, slack

            def all_ended() -> bool:
                for container in running:
                    container.reload()
                return all(c.status != "running" for c in running)

            _wait_until(all_ended, timeout=deadline, what="the killed host's containers to end")
            for container in running:
                state = container.attrs["State"]
                started_at = _docker_time(state["StartedAt"])
                lived = _docker_time(state["FinishedAt"]) - started_at
                assert lived <= WALL_TIMEOUT + 5 + 2, lived
                assert state["ExitCode"] == 124, state  # boot.py's deadline

            # Restarted, it removes its own orphans and no one else's.
            foreign = client.containers.run(
                second_engine_image(client),
                ["sleep", "120"],
                detach=True,
                network_mode="none",
                labels={
                    engine.SANDBOX_LABEL: "app",
                    engine.HOST_LABEL: "someone-else",
                    engine.CREATED_LABEL: f"{time.time() - 3600:.3f}",
                },
            )
            assert host_containers(client, second.host_id)
            assert any(second.run_dir.iterdir())  # the killed runs' folders
            restarted = start_grading_host(
                docker_host=second_engine.url, host_id=second.host_id, run_dir=second.run_dir
            )
            assert host_containers(client, second.host_id) == []
            assert list(second.run_dir.iterdir()) == []
            foreign.reload()
            assert foreign.status == "running"
            foreign.remove(force=True)
        assert restarted.host_id in {s.host for s in hosts.read_all(broker)}
        total = time.monotonic() - started
        print(
            f"\nburst of {BURST}: {dict(share)} in {burst_seconds:.1f} s; "
            f"recovery after the kill: {recovery:.1f} s; whole test: {total:.1f} s"
        )
    finally:
        beat.stop()


def second_engine_image(client: docker.DockerClient) -> str:
    (image,) = [t for i in client.images.list() for t in i.tags if t.startswith("webcourse")]
    return image


def _docker_time(text: str) -> float:
    """Return a Docker timestamp (nanoseconds, Z) as Unix seconds."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    seconds = time.mktime(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return seconds + float(f"0.{fraction or 0}")
