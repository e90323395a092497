"""What a benchmark reads of its child processes from /proc: the process tree, its peak
resident memory and its CPU time."""

from __future__ import annotations

import os
from pathlib import Path


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (a service's worker processes count as the service)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def _status_kib(pid: int, key: str) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def peak_rss_bytes(pid: int) -> int | None:
    """Sum of the resident-set high-water marks (VmHWM) over the process tree.

    An upper bound of the tree's true joint peak, since each process peaks at its own time.
    None when the process is gone or there is no /proc.
    """
    values = [_status_kib(p, "VmHWM") for p in process_tree(pid)]
    if not values or values[0] is None:
        return None
    return sum(v for v in values if v is not None) * 1024


def reset_peak_rss(pid: int) -> bool:
    """Restart the high-water marks so the next reading covers only what follows."""
    ok = True
    for p in process_tree(pid):
        try:
            Path(f"/proc/{p}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of the process tree, reaped children included."""
    times = cpu_times(pid)
    return None if times is None else sum(times)


def cpu_times(pid: int) -> tuple[float, float] | None:
    """User and system CPU time of the process tree, reaped children included: the system
    part is the kernel's work for it (sockets, files), which moves with the machine's state
    more than its own code does."""
    user = system = 0
    for index, p in enumerate(process_tree(pid)):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            if index == 0:
                return None
            continue
        # Fields 14-17 of the whole line: utime, stime, cutime, cstime, in clock ticks.
        utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
        user += utime + cutime
        system += stime + cstime
    ticks = os.sysconf("SC_CLK_TCK")
    return user / ticks, system / ticks
