"""The benchmarks' reading of a process's CPU time from /proc, against the kernel's own
account the process gives of itself (os.times)."""

from __future__ import annotations

import os
import subprocess
import sys

from boletos_bench.procs import cpu_seconds, cpu_times

# Some of each kind of time: Python work, and the kernel's work of reading a file many times,
# each until the process's own account shows several clock ticks of it (a fixed amount of
# work can fall between the ticks the kernel samples on, and count as none), and four times
# as much of the first, so that the two read the wrong way round would not pass.
# Then it reports its own times and waits, idle, to be read.
_CHILD = """
import os, sys, time
deadline = time.monotonic() + 30  # past it, the assertions below say what was missing
while os.times().user < 0.2 and time.monotonic() < deadline:
    sum(range(100_000))
while os.times().system < 0.05 and time.monotonic() < deadline:
    for _ in range(100):
        with open("/proc/self/stat", "rb") as stat:
            stat.read()
t = os.times()
print(t.user, t.system, flush=True)
sys.stdin.read()
"""


def test_user_and_system_time_are_what_the_kernel_counts_for_the_process() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        own_user, own_system = (float(v) for v in child.stdout.readline().split())
        times = cpu_times(child.pid)
        total = cpu_seconds(child.pid)
    finally:
        child.communicate("")
    assert times is not None and total is not None
    user, system = times
    # Both count whole clock ticks, read a moment apart: a tick either way (and a margin for
    # the floats they become).
    tick = 1 / os.sysconf("SC_CLK_TCK")
    assert abs(user - own_user) <= 1.5 * tick
    assert abs(system - own_system) <= 1.5 * tick
    assert system > 0 and user > 0
    assert abs(total - (user + system)) <= 1.5 * tick


def test_a_process_gone_has_no_times() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert cpu_times(child.pid) is None
