"""The memory probe used by adversarial tests: it must see what a child process takes."""

from __future__ import annotations

import subprocess
import sys

from tests.sandbox.memory import MiB, tree_memory

HOLD = """
import time
hog = bytearray({size})
hog[::4096] = b"x" * len(hog[::4096])  # touch every page: resident, not only reserved
time.sleep({hold})
"""
SPAWN = """
import subprocess, sys
subprocess.run([sys.executable, "-c", {code!r}])
"""


def hog(size: int, hold: float) -> None:
    """Run a child (and a grandchild) that touch `size` bytes for `hold` seconds."""
    grandchild = HOLD.format(size=size, hold=hold)
    subprocess.run([sys.executable, "-c", SPAWN.format(code=grandchild)], check=True)


def test_it_sees_a_grandchild_take_200_mib():
    with tree_memory() as memory:
        hog(200 * MiB, hold=0.3)
    assert memory.above_idle > 190 * MiB, memory.describe()
    # ... so a bound of 150 MiB, as an adversarial test would write it, fails.
    assert not memory.above_idle <= 150 * MiB


def test_it_sees_a_spike_between_two_samples_in_own_peaks():
    freed_at_once = HOLD.format(size=200 * MiB, hold=0) + "del hog\ntime.sleep(0.5)\n"
    with tree_memory(interval=0.2) as memory:
        subprocess.run([sys.executable, "-c", freed_at_once], check=True)
    assert memory.own_peaks_above_idle > 190 * MiB, memory.describe()


def test_a_quiet_block_stays_near_idle():
    with tree_memory() as memory:
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert memory.above_idle < 50 * MiB, memory.describe()
    assert memory.samples > 0
