"""The Docker adapter, against the real engine."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid

import docker
import pytest

from sandbox import config as engine_config
from sandbox import engine
from sandbox.policy import DEFAULT_POLICY

pytestmark = pytest.mark.sandbox


def start(image: str, script: str, *, policy=DEFAULT_POLICY, labels=None) -> engine.AppContainer:
    run_id = uuid.uuid4().hex
    return engine.start_app_container(
        image=image,
        policy=policy,
        command=["sh", "-c", script],
        mounts=[],
        labels={
            engine.RUN_LABEL: run_id,
            engine.CREATED_LABEL: f"{time.time():.3f}",
            **(labels or {}),
        },
        environment={"GREETING": "hi"},
        name=f"webcourse-test-{run_id}",
    )


def run_to_end(image: str, script: str, **kwargs) -> tuple[bytes, engine.ContainerState]:
    container = start(image, script, **kwargs)
    try:
        output = b"".join(container.output)  # ends when the container exits
        return output, engine.container_state(container.id)
    finally:
        engine.remove(container.id)


def test_the_output_stream_holds_stdout_and_stderr_from_the_start(runner_image):
    output, state = run_to_end(runner_image, 'echo "out $GREETING"; echo err >&2; exit 5')
    assert b"out hi\n" in output and b"err\n" in output
    assert state == engine.ContainerState(running=False, exit_code=5, oom_killed=False)


def test_the_container_user_owns_its_scratch_space(runner_image):
    output, state = run_to_end(runner_image, "id -u; touch /scratch/x && echo written")
    assert output.split() == [b"10001", b"written"]
    assert state.exit_code == 0


def test_a_memory_kill_is_reported(runner_image):
    policy = DEFAULT_POLICY.with_overrides({"memory_mb": 64})
    script = "/opt/venv/bin/python -c \"x = b'x' * (200 * 1024 * 1024)\""
    _, state = run_to_end(runner_image, script, policy=policy)
    assert state.oom_killed is True
    assert state.exit_code == 137


def test_the_output_stream_outlives_the_clients_request_timeout(runner_image, monkeypatch):
    real_from_env = docker.from_env
    monkeypatch.setattr(engine.docker, "from_env", lambda timeout: real_from_env(timeout=1))
    engine.client.cache_clear()
    try:
        output, _ = run_to_end(runner_image, "sleep 2.5; echo late")
    finally:
        engine.client.cache_clear()
    assert output == b"late\n"


def test_kill_stops_a_running_container_and_remove_is_idempotent(runner_image):
    container = start(runner_image, "sleep 60")
    run_id = engine.container_attrs(container.id)["Config"]["Labels"][engine.RUN_LABEL]
    assert engine.container_state(container.id).running is True
    engine.kill(container.id)
    assert engine.container_state(container.id).running is False
    engine.remove(container.id)
    engine.remove(container.id)  # already gone: fine
    engine.kill(container.id)  # likewise
    assert engine.sandbox_containers(**{engine.RUN_LABEL: run_id}) == []
    assert engine.container_state(container.id) == engine.ContainerState(False, None, False)


def test_sandbox_containers_are_found_by_their_labels(runner_image):
    container = start(runner_image, "sleep 60")
    try:
        labels = engine.container_attrs(container.id)["Config"]["Labels"]
        found = engine.sandbox_containers(**{engine.RUN_LABEL: labels[engine.RUN_LABEL]})
        assert [c["Id"] for c in found] == [container.id]
        assert engine.sandbox_containers(**{engine.RUN_LABEL: "no-such-run"}) == []
    finally:
        engine.remove(container.id)


def test_a_host_removes_only_its_own_stale_containers(runner_image):
    long_ago = f"{time.time() - 3600:.3f}"
    mine = start(runner_image, "sleep 60", labels={engine.CREATED_LABEL: long_ago})
    theirs = start(
        runner_image,
        "sleep 60",
        labels={engine.CREATED_LABEL: long_ago, engine.HOST_LABEL: "another-grading-host"},
    )
    try:
        assert engine.container_attrs(mine.id)["Config"]["Labels"][engine.HOST_LABEL] == (
            engine_config.current().host
        )
        engine.remove_stale_containers(older_than=600)
        ids = {c["Id"] for c in engine.sandbox_containers()}
        assert mine.id not in ids
        assert theirs.id in ids
        assert engine.remove_stale_containers(older_than=600, host="another-grading-host") == 1
        assert theirs.id not in {c["Id"] for c in engine.sandbox_containers()}
    finally:
        engine.remove(mine.id)
        engine.remove(theirs.id)


def test_stale_containers_are_removed_and_fresh_ones_kept(runner_image):
    old = start(
        runner_image, "sleep 60", labels={engine.CREATED_LABEL: f"{time.time() - 3600:.3f}"}
    )
    fresh = start(runner_image, "sleep 60")
    try:
        assert engine.remove_stale_containers(older_than=600) >= 1
        ids = {c["Id"] for c in engine.sandbox_containers()}
        assert old.id not in ids
        assert fresh.id in ids
    finally:
        engine.remove(old.id)
        engine.remove(fresh.id)


def test_a_missing_runner_image_says_how_to_build_it():
    with pytest.raises(engine.RunnerImageMissing, match=r"manage\.py sandbox_images"):
        start("webcourse-runner:does-not-exist", "true")


def test_an_unreachable_engine_raises_engine_unavailable(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    engine.client.cache_clear()
    try:
        with pytest.raises(engine.EngineUnavailable, match="not reachable"):
            engine.client()
    finally:
        monkeypatch.undo()
        engine.client.cache_clear()
    assert engine.client().ping()


def test_a_ping_is_skipped_only_right_after_the_engine_answered(monkeypatch, tmp_path):
    engine.sandbox_containers()  # answered just now
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    engine.client.cache_clear()
    try:
        engine.ping(unless_answered_within=60)  # not asked
        with pytest.raises(engine.EngineUnavailable):
            engine.ping()
        monkeypatch.setattr(engine, "_answered_at", time.monotonic() - 61)
        with pytest.raises(engine.EngineUnavailable):
            engine.ping(unless_answered_within=60)
    finally:
        monkeypatch.undo()
        engine.client.cache_clear()
    engine.ping()


# Kernel-level confinement ---------------------------------------------------------------------


@pytest.fixture
def apparmor(monkeypatch, tmp_path):
    """Point AppArmor detection at a file of ours; call it with the file's text (None: absent)."""
    flag = tmp_path / "enabled"

    def set_to(text: str | None) -> None:
        if text is None:
            flag.unlink(missing_ok=True)
        else:
            flag.write_text(text)

    monkeypatch.setattr(engine, "APPARMOR_ENABLED_FILE", flag)
    return set_to


def test_the_security_options_name_the_pinned_seccomp_profile(apparmor):
    apparmor(None)
    options = engine.security_options(DEFAULT_POLICY)
    assert options[0] == "no-new-privileges"
    profile = json.loads(options[1].removeprefix("seccomp="))
    assert profile == json.loads((engine.SECCOMP_DIR / "docker-default.json").read_text())
    assert len(options) == 2


@pytest.mark.parametrize(("flag", "applied"), [("Y\n", True), ("N\n", False), (None, False)])
def test_apparmor_is_applied_only_where_the_host_has_it(apparmor, flag, applied):
    apparmor(flag)
    options = engine.security_options(DEFAULT_POLICY)
    assert ("apparmor=docker-default" in options) is applied


@pytest.mark.parametrize("name", ["../policy", "docker-default.json", "", "Default"])
def test_a_seccomp_profile_name_is_a_plain_file_name(name):
    with pytest.raises(ValueError, match="bad seccomp profile name"):
        engine.seccomp_profile(name)


def test_an_unknown_or_allow_by_default_seccomp_profile_is_refused(monkeypatch, tmp_path):
    (tmp_path / "lenient.json").write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}')
    monkeypatch.setattr(engine, "SECCOMP_DIR", tmp_path)
    engine.seccomp_profile.cache_clear()
    try:
        with pytest.raises(ValueError, match="no seccomp profile 'missing'"):
            engine.seccomp_profile("missing")
        with pytest.raises(ValueError, match="does not refuse by default"):
            engine.seccomp_profile("lenient")
    finally:
        engine.seccomp_profile.cache_clear()


def test_a_container_with_an_unknown_seccomp_profile_is_never_created(runner_image):
    policy = dataclasses.replace(DEFAULT_POLICY, seccomp_profile="no-such-profile")
    before = {c["Id"] for c in engine.sandbox_containers()}
    with pytest.raises(ValueError, match="no seccomp profile"):
        start(runner_image, "true", policy=policy)
    assert {c["Id"] for c in engine.sandbox_containers()} <= before


def test_a_raw_container_runs_under_the_filter_and_is_refused_what_it_forbids(runner_image):
    script = (
        "grep '^Seccomp:' /proc/self/status; "
        "unshare --user true 2>/dev/null && echo unshare-allowed || echo unshare-refused"
    )
    output, state = run_to_end(runner_image, script)
    assert output.split() == [b"Seccomp:", b"2", b"unshare-refused"]
    assert state.exit_code == 0
