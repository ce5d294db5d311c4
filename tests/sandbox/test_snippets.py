"""Running a lesson's script in a real hardened container (sandbox.snippets)."""

from __future__ import annotations

import json
import socket
import time
import uuid
from dataclasses import replace

import pytest

from sandbox import config, engine, runner, snippets
from sandbox.container import script as container_script
from sandbox.policy import MiB
from sandbox.snippets import SCRIPT_POLICY, ScriptRejected, run_script
from tests.sandbox.memory import tree_memory
from tests.sandbox.test_adversarial import _Recorder, host_addresses, host_servers  # noqa: F401

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]

SHORT = replace(SCRIPT_POLICY, wall_timeout=2.0)
# What the host may add to the time limit: container start and removal, on a busy machine.
OVERHEAD = 3.0


class Recorded:
    """A launcher that starts containers as run_script does, and remembers them."""

    def __init__(self, inspect: bool = False) -> None:
        self.started: list[snippets.Started] = []
        self.inspect = inspect
        self.attrs: dict = {}

    def __call__(self, files, entry, *, policy, image):
        started = snippets.start_cold(files, entry, policy=policy, image=image)
        self.started.append(started)
        if self.inspect:
            self.attrs = engine.container_attrs(started.container.id)
        return started

    @property
    def run_id(self) -> str:
        return self.started[-1].run_id


def leftovers(recorded: Recorded) -> list[str]:
    """Return what the runs left: containers with their label, their folders."""
    found = []
    for started in recorded.started:
        containers = engine.sandbox_containers(**{engine.RUN_LABEL: started.run_id})
        found += [f"container {c['Id'][:12]}" for c in containers]
        folder = config.current().run_dir.resolve() / f"script-{started.run_id}"
        if folder.exists():
            found.append(f"folder {folder}")
    return found


@pytest.fixture
def launch():
    recorded = Recorded()
    yield recorded
    assert recorded.started, "the test ran no script"
    assert leftovers(recorded) == []


def run(code: str, launch, *, policy=SCRIPT_POLICY, **files: str) -> snippets.ScriptRun:
    return run_script({"main.py": code, **files}, "main.py", policy=policy, launch=launch)


def test_hello_prints_to_stdout_and_exits_0(launch):
    ran = run("print('hello, sandbox')", launch)
    assert ran.stdout == "hello, sandbox\n"
    assert ran.stderr == ""
    assert ran.exit_code == 0
    assert ran.status == "ok" and ran.message == ""
    assert not ran.timed_out and not ran.out_of_memory


def test_an_exception_gives_a_traceback_on_stderr_and_exit_1(launch):
    ran = run("print('before')\n\ndef f():\n    return 1 / 0\n\nf()\n", launch)
    assert ran.stdout == "before\n"
    assert ran.stderr.startswith("Traceback (most recent call last):")
    assert 'main.py", line 4, in f' in ran.stderr
    assert ran.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert ran.exit_code == 1
    assert ran.status == "ok"


def test_sys_exit_gives_its_status_and_streams_stay_apart(launch):
    code = (
        "import sys\n"
        "for i in range(3):\n"
        "    print('out', i)\n"
        "    print('err', i, file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    ran = run(code, launch)
    assert ran.stdout == "out 0\nout 1\nout 2\n"
    assert ran.stderr == "err 0\nerr 1\nerr 2\n"
    assert ran.exit_code == 3


def test_an_endless_loop_is_stopped_at_the_time_limit(launch):
    began = time.monotonic()
    ran = run("print('started', flush=True)\nwhile True:\n    pass\n", launch, policy=SHORT)
    elapsed = time.monotonic() - began
    assert ran.timed_out and ran.status == "timeout"
    assert ran.exit_code is None
    assert "2 seconds" in ran.message
    assert ran.stdout == "started\n"  # what it printed before is kept
    assert SHORT.wall_timeout <= elapsed < SHORT.wall_timeout + OVERHEAD


def test_processes_the_script_leaves_behind_end_with_it(launch):
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    time.sleep(60)\n"
        "print('parent done')\n"
    )
    began = time.monotonic()
    ran = run(code, launch)
    assert ran.stdout == "parent done\n" and ran.exit_code == 0
    assert time.monotonic() - began < OVERHEAD


def test_a_script_waiting_for_input_gets_an_empty_stdin(launch):
    ran = run("name = input('name? ')\n", launch)
    assert ran.exit_code == 1
    assert "EOFError" in ran.stderr
    assert not ran.timed_out


def test_ten_megabytes_of_output_are_cut_with_a_note_and_the_script_stopped(launch):
    code = "import sys\nfor _ in range(10 * 1024):\n    sys.stdout.write('x' * 1023 + '\\n')\n"
    began = time.monotonic()
    with tree_memory() as memory:
        ran = run(code, launch)
    assert time.monotonic() - began < SCRIPT_POLICY.wall_timeout
    assert memory.above_idle <= 20 * MiB, memory.describe()
    head, _, note = ran.stdout.rpartition("\n… ")
    assert len(head.encode()) <= snippets.OUTPUT_LIMIT
    assert note == "output cut at 16 KiB"
    assert ran.output_stopped and ran.exit_code is None
    assert "printed more than 1 MiB" in ran.message


def test_output_past_the_limit_but_below_the_flood_is_cut_and_the_script_ends(launch):
    code = "import sys\nprint('a' * 40000)\nprint('b' * 20000, file=sys.stderr)\n"
    ran = run(code, launch)
    assert ran.exit_code == 0 and not ran.output_stopped
    assert ran.stdout == "a" * snippets.OUTPUT_LIMIT + "\n… output cut at 16 KiB"
    assert ran.stderr == "b" * snippets.OUTPUT_LIMIT + "\n… output cut at 16 KiB"
    assert ran.message == ""


def test_a_script_imports_a_sibling_module_and_reads_and_writes_files_beside_it(launch):
    code = (
        "import models\n"
        "from helpers.text import shout\n"
        "print(models.Book('Dune').title, open('data.txt').read().strip())\n"
        "with open('out.txt', 'w') as f:\n"
        "    f.write(shout('saved'))\n"
        "print(open('out.txt').read())\n"
    )
    ran = run(
        code,
        launch,
        **{
            "models.py": "class Book:\n    def __init__(self, t):\n        self.title = t\n",
            "data.txt": "from a file\n",
            "helpers/__init__.py": "",
            "helpers/text.py": "def shout(s):\n    return s.upper()\n",
        },
    )
    assert ran.stderr == ""
    assert ran.stdout == "Dune from a file\nSAVED\n"


def test_the_frameworks_of_the_runner_image_are_importable(launch):
    code = (
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "@app.get('/')\n"
        "def index():\n"
        "    return {'hello': 'flask'}\n"
        "print(app.test_client().get('/').json)\n"
        "import fastapi, django\n"
        "print('fastapi and django too')\n"
    )
    ran = run(code, launch)
    assert ran.stderr == ""
    assert ran.stdout == "{'hello': 'flask'}\nfastapi and django too\n"


def test_the_script_reaches_neither_the_internet_nor_the_host(launch, host_servers, redis_server):  # noqa: F811
    wide, local = host_servers
    targets = [("1.1.1.1", 53), ("1.1.1.1", 80), ("127.0.0.1", local)]
    ports = (wide, redis_server.port)
    targets += [(address, port) for address in host_addresses() for port in ports]
    # The listener answers on the Docker bridge's gateway from the host: only the container is
    # cut off.
    socket.create_connection(("172.17.0.1", wide), timeout=2).close()
    _Recorder.hits = []
    code = (
        "import json, socket\n"
        "reached = {}\n"
        f"for host, port in {targets!r}:\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=1).close()\n"
        "        reached[f'{host}:{port}'] = 'connected'\n"
        "    except OSError as exc:\n"
        "        reached[f'{host}:{port}'] = exc.strerror or str(exc)\n"
        "print(json.dumps(reached))\n"
    )
    ran = run(code, launch)
    reached = json.loads(ran.stdout)
    assert len(reached) == len(targets)
    assert "connected" not in reached.values(), reached
    assert reached["1.1.1.1:53"] == "Network is unreachable"
    assert _Recorder.hits == []


def test_a_fork_bomb_is_bounded_by_the_process_limit_and_the_time_limit(launch):
    code = (
        "import os, time\n"
        "children = 0\n"
        "while True:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            children = 0\n"
        "        else:\n"
        "            children += 1\n"
        "    except OSError:\n"
        "        time.sleep(0.01)\n"
    )
    began = time.monotonic()
    ran = run(code, launch, policy=SHORT)
    assert ran.timed_out
    assert time.monotonic() - began < SHORT.wall_timeout + OVERHEAD
    # The machine is fine afterwards: the next script runs as usual.
    assert run("print('still here')", launch).stdout == "still here\n"


def test_a_script_that_needs_too_much_memory_is_told_so(launch):
    ran = run("data = bytearray(1024 * 1024 * 1024)\nprint('never')\n", launch)
    assert ran.out_of_memory
    assert ran.message == "Your code ran out of memory (the limit is 256 MiB) and was stopped."
    assert ran.stdout == ""


def test_a_script_that_fills_memory_bit_by_bit_is_stopped_for_memory(launch):
    code = "chunks = []\nwhile True:\n    chunks.append(b'x' * (8 * 1024 * 1024))\n"
    ran = run(code, launch)
    assert ran.out_of_memory
    assert ran.status == "ok" and ran.exit_code == 137
    assert "ran out of memory" in ran.message


def test_the_script_can_write_only_to_its_scratch_space(launch):
    targets = [
        "/etc/x",
        "/x",
        "/files/x",
        "/files/main.py",
        "/opt/webcourse/script.py",
        "/opt/venv/x",
        "/scratch/run/ok.txt",
        "/tmp/ok.txt",
    ]
    code = (
        "import json\n"
        "result = {}\n"
        f"for path in {targets!r}:\n"
        "    try:\n"
        "        with open(path, 'w') as f:\n"
        "            f.write('x')\n"
        "        result[path] = 'written'\n"
        "    except OSError as exc:\n"
        "        result[path] = exc.strerror\n"
        "print(json.dumps(result))\n"
    )
    result = json.loads(run(code, launch).stdout)
    written = {path for path, outcome in result.items() if outcome == "written"}
    assert written == {"/scratch/run/ok.txt", "/tmp/ok.txt"}, result
    assert result["/etc/x"] == "Read-only file system"
    assert result["/files/main.py"] == "Read-only file system"


def test_the_container_has_every_limit_of_a_grading_and_the_labels_of_the_sweep():
    recorded = Recorded(inspect=True)
    ran = run_script({"main.py": "import os\nprint(os.getuid())\n"}, "main.py", launch=recorded)
    assert ran.stdout == "10001\n"
    attrs = recorded.attrs
    host_config, labels = attrs["HostConfig"], attrs["Config"]["Labels"]
    policy = SCRIPT_POLICY
    assert host_config["NetworkMode"] == "none"
    assert host_config["ReadonlyRootfs"] is True
    assert host_config["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host_config["SecurityOpt"]
    assert any(opt.startswith("seccomp=") for opt in host_config["SecurityOpt"])
    assert host_config["Memory"] == host_config["MemorySwap"] == policy.memory_bytes
    assert host_config["PidsLimit"] == policy.pids_limit
    assert host_config["NanoCpus"] == int(policy.cpus * 1e9)
    assert attrs["Config"]["User"] == policy.user
    assert {m["Destination"]: m["RW"] for m in attrs["Mounts"]} == {
        "/files": False,
        "/opt/webcourse": False,
    }
    assert labels[engine.RUN_LABEL] == recorded.run_id
    assert labels[engine.HOST_LABEL] == config.current().host
    assert float(labels[engine.CREATED_LABEL]) <= time.time()
    assert leftovers(recorded) == []


def test_the_result_is_handed_over_before_the_clean_up(launch):
    seen = []

    def on_result(ran):
        seen.append((ran.stdout, leftovers(launch)))

    ran = run_script({"main.py": "print('early')"}, "main.py", launch=launch, on_result=on_result)
    [(stdout, left)] = seen
    assert stdout == ran.stdout == "early\n"
    assert len(left) == 2  # the container and the folder were still there


def test_the_container_ends_itself_at_its_time_limit_with_nobody_reading_it():
    files = snippets.check_files({"main.py": "while True:\n    pass\n"}, "main.py")
    started = snippets.start_cold(files, "main.py", policy=SHORT, image=_image())
    try:
        give_up = time.monotonic() + SHORT.wall_timeout + container_script.ALARM_MARGIN + 5
        while engine.container_state(started.container.id).running:
            assert time.monotonic() < give_up, "the container outlived its time limit"
            time.sleep(0.1)
        assert engine.container_state(started.container.id).exit_code == snippets.EXIT_TIMEOUT
    finally:
        started.clean_up()
    assert engine.sandbox_containers(**{engine.RUN_LABEL: started.run_id}) == []


def test_the_hosts_orphan_sweep_removes_what_a_dead_worker_left(monkeypatch, tmp_path):
    # A host of its own, so that the sweep touches nothing of anyone else's on this engine.
    own = replace(config.current(), host=f"sweep-{uuid.uuid4().hex[:8]}", run_dir=tmp_path)
    monkeypatch.setattr(config, "current", lambda: own)
    files = snippets.check_files({"main.py": "import time\ntime.sleep(30)\n"}, "main.py")
    started = snippets.start_cold(files, "main.py", policy=SCRIPT_POLICY, image=_image())
    assert engine.sandbox_containers(**{engine.RUN_LABEL: started.run_id})
    assert list(tmp_path.iterdir())
    removed = runner.sweep_orphans(0, cgroup_age=3600)  # as a host does when it starts
    assert removed == 1
    assert engine.sandbox_containers(**{engine.RUN_LABEL: started.run_id}) == []
    assert list(tmp_path.iterdir()) == []


def _image() -> str:
    from sandbox import images

    return images.runner_image_tag()


@pytest.mark.parametrize(
    ("files", "entry", "message"),
    [
        ({"../main.py": "x"}, "../main.py", "is not a file path"),
        ({"/etc/main.py": "x"}, "/etc/main.py", "is not a file path"),
        ({"-c.py": "x"}, "-c.py", "is not a file path"),
        ({"a//main.py": "x"}, "a//main.py", None),
        ({"main.py": "x"}, "other.py", "is not one of the Python files"),
        ({"main.py": "x", "data.txt": "y"}, "data.txt", "is not one of the Python files"),
        ({"main.py": "x", "main.py/x.py": "y"}, "main.py", "is both a file and a folder"),
        ({}, "main.py", "between 1 and"),
        ({"main.py": "x" * (2 * MiB)}, "main.py", "more than 1024 KiB"),
        ({f"f{i}.py": "" for i in range(60)}, "f0.py", "between 1 and 50 files"),
    ],
)
def test_files_that_cannot_be_run_are_refused_with_a_reason(files, entry, message):
    if message is None:  # a path that normalises to a safe one is taken as such
        assert snippets.check_files(files, entry)
        return
    with pytest.raises(ScriptRejected, match=message):
        run_script(files, entry)
