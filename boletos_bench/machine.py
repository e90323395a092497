"""The state of the machine a benchmark ran on, so its numbers can be read in context."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _meminfo() -> dict[str, int]:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return {}
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0]) * 1024
    return values


def machine_state() -> dict[str, str]:
    mem = _meminfo()
    gib = 1024**3
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    state = {
        "cpus (usable/online)": f"{usable}/{os.cpu_count()}",
        "load average (1, 5, 15 min)": load,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(terse=True),
    }
    if mem:
        state["memory available/total"] = (
            f"{mem.get('MemAvailable', 0) / gib:.1f} / {mem.get('MemTotal', 0) / gib:.1f} GiB"
        )
    return state
