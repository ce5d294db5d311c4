"""The sandbox policy: safe defaults, and exercise overrides within bounds."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox.engine import SECCOMP_DIR
from sandbox.policy import DEFAULT_POLICY, MiB, SandboxPolicy, policy_for


def test_the_defaults_are_the_documented_safe_limits():
    policy = SandboxPolicy()
    assert policy.user == "10001:10001"
    assert policy.network_disabled and policy.cap_drop_all and policy.no_new_privileges
    assert policy.read_only_root and not policy.core_dumps
    assert (policy.seccomp_profile, policy.apparmor_profile) == ("docker-default", "docker-default")
    assert (policy.memory_bytes, policy.cpus, policy.pids_limit) == (256 * MiB, 1.0, 128)
    assert (policy.boot_timeout, policy.wall_timeout, policy.request_timeout) == (15, 60, 5)
    assert policy.log_limit_bytes == 64 * 1024
    assert policy.shared_dir_bytes == 1 * MiB
    assert policy.fsize_bytes <= policy.scratch_bytes


def test_the_policy_cannot_be_changed_in_place():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_POLICY.memory_bytes = 1  # type: ignore[misc]


def test_overrides_make_a_new_policy_in_the_right_units():
    policy = DEFAULT_POLICY.with_overrides({"memory_mb": 512, "cpus": 0.5, "wall_timeout": 90})
    assert policy.memory_bytes == 512 * MiB and isinstance(policy.memory_bytes, int)
    assert policy.cpus == 0.5
    assert policy.wall_timeout == 90.0 and isinstance(policy.wall_timeout, float)
    assert DEFAULT_POLICY.memory_bytes == 256 * MiB


def test_no_overrides_give_an_equal_policy():
    assert DEFAULT_POLICY.with_overrides(None) == DEFAULT_POLICY
    assert DEFAULT_POLICY.with_overrides({}) == DEFAULT_POLICY


def test_an_unknown_limit_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown limit 'network' \(allowed: boot_timeout, cpus"):
        DEFAULT_POLICY.with_overrides({"network": 1})


@pytest.mark.parametrize("value", [True, "256", None, [1]])
def test_a_limit_must_be_a_number(value):
    with pytest.raises(ValueError, match="must be a number"):
        DEFAULT_POLICY.with_overrides({"memory_mb": value})


@pytest.mark.parametrize(
    ("key", "value"), [("memory_mb", 32), ("memory_mb", 4096), ("pids", 10), ("wall_timeout", 301)]
)
def test_a_limit_out_of_bounds_is_refused(key, value):
    with pytest.raises(ValueError, match=f"limit '{key}' must be between"):
        DEFAULT_POLICY.with_overrides({key: value})


def test_the_policy_is_plain_data():
    assert SandboxPolicy(**DEFAULT_POLICY.as_dict()) == DEFAULT_POLICY


def test_the_limits_are_described_in_words():
    words = DEFAULT_POLICY.with_overrides({"memory_mb": 128}).describe()
    assert words["Memory"] == "128 MiB (no swap)"
    assert words["Start-up time"] == "15 s"
    assert words["Network"].startswith("none")


def test_more_than_one_cpu_is_plural():
    assert DEFAULT_POLICY.describe()["CPU"] == "1 core"
    assert DEFAULT_POLICY.with_overrides({"cpus": 2}).describe()["CPU"] == "2 cores"


def test_policy_for_falls_back_to_the_defaults_when_limits_are_broken():
    assert policy_for({"memory_mb": 1}) == DEFAULT_POLICY
    assert policy_for({"no_such_limit": 3}) == DEFAULT_POLICY
    assert policy_for(None) == DEFAULT_POLICY
    assert policy_for({"max_files": 10}).max_files == 10


def test_the_seccomp_profile_is_a_pinned_file_no_exercise_can_change():
    assert (SECCOMP_DIR / f"{DEFAULT_POLICY.seccomp_profile}.json").is_file()
    with pytest.raises(ValueError, match="unknown limit 'seccomp_profile'"):
        DEFAULT_POLICY.with_overrides({"seccomp_profile": "unconfined"})
