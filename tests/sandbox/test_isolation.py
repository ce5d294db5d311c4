"""Every limit of the sandbox policy, checked on a real learner container.

One grading runs an app whose /probe route reports what the app can do from inside; its
hidden test saves that report on the host, and while the tests run the container's
`docker inspect` is saved too. Each test below then checks one item against the policy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sandbox import engine
from sandbox.policy import DEFAULT_POLICY
from sandbox.runner import BOOT_DIR, SOCKET_MOUNT, SUBMISSION_MOUNT
from tests.sandbox.conftest import grade_files, leftovers

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]

POLICY = DEFAULT_POLICY
TOKEN = "isolation-token-" + os.urandom(6).hex()

PROBE_APP = """
import ctypes, errno, json, os, resource, socket
from flask import Flask

app = Flask(__name__)


def attempt(action):
    try:
        action()
    except OSError as exc:
        return exc.strerror or str(exc)
    return "allowed"


def connect(host, port):
    def go():
        socket.create_connection((host, port), timeout=1).close()
    return attempt(go)


def write(path):
    def go():
        with open(path, "w") as f:
            f.write("x")
    return attempt(go)


LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER = 0x10000000
SYS_KEYCTL, SYS_IO_URING_SETUP = 250, 425  # x86_64 numbers


def system_call(function, *args):
    # "allowed", or the errno name (EPERM...) of one raw system call
    ctypes.set_errno(0)
    if function(*args) >= 0:
        return "allowed"
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))


def status_field(name):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1]


def read_first(*paths):
    for path in paths:
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            continue
    return None


def grep_tree(root, needle):
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                with open(os.path.join(folder, name), "rb") as f:
                    if needle.encode() in f.read(1_000_000):
                        found.append(os.path.join(folder, name))
            except OSError:
                pass
    return found


@app.get("/probe")
def probe():
    mounts = {}
    with open("/proc/self/mounts") as f:
        for line in f:
            _dev, target, kind, options = line.split()[:4]
            mounts[target] = {"type": kind, "options": options.split(",")}
    scratch = os.statvfs("/scratch")
    needle = "NEEDLE"
    return json.dumps({
        "uid": os.getuid(),
        "gid": os.getgid(),
        "write_root": write("/probe.txt"),
        "write_usr": write("/usr/probe.txt"),
        "write_submission": write("/submission/probe.txt"),
        "write_boot": write("/opt/webcourse/probe.txt"),
        "write_scratch": write("/scratch/probe.txt"),
        "write_tmp": write("/tmp/probe.txt"),
        "interfaces": sorted(os.listdir("/sys/class/net")),
        "internet": connect("1.1.1.1", 80),
        "gateway": connect("172.17.0.1", 80),
        "cap_eff": status_field("CapEff"),
        "cap_bnd": status_field("CapBnd"),
        "no_new_privs": status_field("NoNewPrivs"),
        "seccomp": status_field("Seccomp"),
        "syscalls": {
            "unshare": system_call(LIBC.unshare, CLONE_NEWUSER),
            "mount": system_call(LIBC.mount, b"none", b"/scratch", b"tmpfs", 0, None),
            "keyctl": system_call(LIBC.syscall, SYS_KEYCTL, 0, -3, 0),
            "io_uring_setup": system_call(LIBC.syscall, SYS_IO_URING_SETUP, 1, None),
        },
        "apparmor": read_first("/proc/self/attr/apparmor/current", "/proc/self/attr/current"),
        "memory_limit": read_first(
            "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"
        ),
        "memsw_limit": read_first("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
        "pids_max": read_first("/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"),
        "cpu_quota": read_first("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu.max"),
        "cpu_period": read_first("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
        "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
        "fsize": list(resource.getrlimit(resource.RLIMIT_FSIZE)),
        "core": list(resource.getrlimit(resource.RLIMIT_CORE)),
        "mounts": mounts,
        "scratch_bytes": scratch.f_blocks * scratch.f_frsize,
        "scratch_owner": os.stat("/scratch").st_uid,
        "tests_found": grep_tree("/submission", needle) + grep_tree("/run/app", needle)
            + grep_tree("/opt/webcourse", needle) + grep_tree("/scratch", needle)
            + grep_tree("/tmp", needle),
        "cwd": os.getcwd(),
    })
"""


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """Grade the probe app once; return (what the app saw, docker inspect, the graded run)."""
    out = tmp_path_factory.mktemp("probe") / "report.json"
    tests = {
        "test_probe.py": (
            f"# {TOKEN}\n"
            "def test_probe(client):\n"
            "    answer = client.get('/probe')\n"
            "    assert answer.status_code == 200, answer.text\n"
            f"    open({str(out)!r}, 'w').write(answer.text)\n"
        )
    }
    inspected: dict = {}

    def watch(run, phase: str) -> None:
        if phase == "testing":  # the app is up: look at its container now
            inspected.update(engine.container_attrs(run.container.id))

    graded = grade_files(
        # The app builds the token at run time, so its own source does not contain it.
        {"app.py": PROBE_APP.replace('"NEEDLE"', f"{TOKEN[:8]!r} + {TOKEN[8:]!r}")},
        tests=tests,
        policy=POLICY.with_overrides({"request_timeout": 20}),
        watch=watch,
    )
    assert graded.result["status"] == "passed", graded.result
    return json.loads(out.read_text()), inspected, graded


@pytest.fixture(scope="module")
def inside(probed):
    return probed[0]


@pytest.fixture(scope="module")
def host_config(probed):
    return probed[1]["HostConfig"]


@pytest.fixture(scope="module")
def inspected(probed):
    return probed[1]


# What the engine was told -------------------------------------------------------------------


def test_the_container_has_no_network(host_config):
    assert host_config["NetworkMode"] == "none"


def test_every_capability_is_dropped(host_config):
    assert host_config["CapDrop"] == ["ALL"]
    assert not host_config.get("CapAdd")
    assert host_config["Privileged"] is False


def test_no_new_privileges_and_the_pinned_seccomp_profile_are_set(host_config):
    pinned = json.loads((engine.SECCOMP_DIR / f"{POLICY.seccomp_profile}.json").read_text())
    options = host_config["SecurityOpt"]
    assert options[0] == "no-new-privileges"
    assert options[1].startswith("seccomp=")
    assert json.loads(options[1].removeprefix("seccomp=")) == pinned
    apparmor = [f"apparmor={POLICY.apparmor_profile}"] if engine.apparmor_enabled() else []
    assert options[2:] == apparmor


def test_the_root_filesystem_is_read_only(host_config):
    assert host_config["ReadonlyRootfs"] is True


def test_memory_and_memory_plus_swap_are_the_policy_limit(host_config):
    assert host_config["Memory"] == POLICY.memory_bytes
    assert host_config["MemorySwap"] == POLICY.memory_bytes


def test_the_cpu_quota_is_the_policy_limit(host_config):
    assert host_config["NanoCpus"] == int(POLICY.cpus * 1_000_000_000)


def test_the_process_limit_is_the_policy_limit(host_config):
    assert host_config["PidsLimit"] == POLICY.pids_limit


def test_ulimits_cap_files_file_size_and_core_dumps(host_config):
    ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in host_config["Ulimits"]}
    assert ulimits == {
        "nofile": (POLICY.nofile, POLICY.nofile),
        "fsize": (POLICY.fsize_bytes, POLICY.fsize_bytes),
        "core": (0, 0),
    }


def test_scratch_and_tmp_are_size_capped_tmpfs(host_config):
    tmpfs = host_config["Tmpfs"]
    assert set(tmpfs) == {"/scratch", "/tmp"}
    assert f"size={POLICY.scratch_bytes}" in tmpfs["/scratch"]
    assert f"size={POLICY.scratch_bytes // 4}" in tmpfs["/tmp"]
    for options in tmpfs.values():
        assert {"nosuid", "nodev", "noexec"} <= set(options.split(","))


def test_the_container_runs_as_the_unprivileged_user(inspected):
    assert inspected["Config"]["User"] == POLICY.user


def test_only_the_socket_folder_is_writable_from_the_host(host_config):
    binds = {b.split(":")[1]: b.split(":")[2] for b in host_config["Binds"]}
    assert binds == {BOOT_DIR: "ro", SUBMISSION_MOUNT: "ro", SOCKET_MOUNT: "rw"}


def test_every_mounted_host_folder_lies_in_the_run_folder(host_config, probed):
    # A worker in a container, using the host's engine, shares only the run folder with it.
    run_folder = probed[2].run.dirs.root
    sources = [Path(b.split(":")[0]) for b in host_config["Binds"]]
    assert len(sources) == 3
    assert all(source.is_relative_to(run_folder) for source in sources), sources


def test_the_engine_keeps_no_log_of_the_output(host_config):
    assert host_config["LogConfig"]["Type"] == "none"


def test_the_container_carries_the_labels_a_sweep_needs(inspected, probed):
    labels = inspected["Config"]["Labels"]
    assert labels[engine.SANDBOX_LABEL] == "app"
    assert labels[engine.RUN_LABEL] == probed[2].run.run_id
    assert float(labels[engine.CREATED_LABEL]) > 0


# What the app finds from inside --------------------------------------------------------------


def test_the_app_does_not_run_as_root(inside):
    assert inside["uid"] == 10001 and inside["gid"] == 10001


def test_the_app_cannot_write_outside_its_scratch_space(inside):
    assert inside["write_root"] == "Read-only file system"
    assert inside["write_usr"] == "Read-only file system"
    assert inside["write_submission"] == "Read-only file system"
    assert inside["write_boot"] == "Read-only file system"
    assert inside["write_scratch"] == "allowed"
    assert inside["write_tmp"] == "allowed"


def test_the_app_sees_only_the_loopback_interface(inside):
    assert inside["interfaces"] == ["lo"]


def test_the_app_reaches_neither_the_internet_nor_the_docker_gateway(inside):
    assert inside["internet"] == "Network is unreachable"
    assert inside["gateway"] == "Network is unreachable"


def test_the_app_has_no_capabilities_and_cannot_gain_privileges(inside):
    assert int(inside["cap_eff"], 16) == 0
    assert int(inside["cap_bnd"], 16) == 0
    assert inside["no_new_privs"] == "1"


def test_the_app_runs_under_a_seccomp_filter(inside):
    assert inside["seccomp"] == "2"  # SECCOMP_MODE_FILTER


def test_system_calls_the_profile_forbids_are_refused(inside):
    # Without a filter, unshare and keyctl succeed for this unprivileged user; io_uring_setup
    # gets past the filter built into Docker 20.10 (it fails with EFAULT there), so EPERM
    # here shows the pinned profile is the one in force.
    assert inside["syscalls"] == {
        "unshare": "EPERM",
        "mount": "EPERM",
        "keyctl": "EPERM",
        "io_uring_setup": "EPERM",
    }


def test_apparmor_confines_the_app_where_the_host_has_it(inside):
    if engine.apparmor_enabled():
        assert inside["apparmor"].startswith(POLICY.apparmor_profile)
    else:
        assert inside["apparmor"] in (None, "unconfined")


def test_the_app_sees_the_memory_process_and_cpu_limits(inside):
    assert int(inside["memory_limit"]) == POLICY.memory_bytes
    if inside["memsw_limit"] is not None:  # swap accounting may be off on the host
        assert int(inside["memsw_limit"]) == POLICY.memory_bytes
    assert int(inside["pids_max"]) == POLICY.pids_limit
    quota = inside["cpu_quota"].split()[0]
    period = int(inside["cpu_period"] or inside["cpu_quota"].split()[1])
    assert int(quota) / period == POLICY.cpus


def test_the_app_has_the_policy_ulimits(inside):
    assert inside["nofile"] == [POLICY.nofile, POLICY.nofile]
    assert inside["fsize"] == [POLICY.fsize_bytes, POLICY.fsize_bytes]
    assert inside["core"] == [0, 0]


def test_the_root_filesystem_is_mounted_read_only(inside):
    assert "ro" in inside["mounts"]["/"]["options"]
    assert "ro" in inside["mounts"][SUBMISSION_MOUNT]["options"]


def test_scratch_is_the_apps_own_size_capped_tmpfs(inside):
    assert inside["mounts"]["/scratch"]["type"] == "tmpfs"
    assert inside["scratch_bytes"] == POLICY.scratch_bytes
    assert inside["scratch_owner"] == 10001
    assert inside["cwd"] == "/scratch/app"


def test_the_tests_are_nowhere_the_app_can_look(inside):
    assert inside["tests_found"] == []
    assert not any("tests" in target for target in inside["mounts"])


def test_the_run_left_nothing_behind(probed):
    assert leftovers(probed[2]) == []
