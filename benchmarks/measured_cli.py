"""Run the xlcheck command line in this process and report, on stderr at exit, what it cost.

    python benchmarks/measured_cli.py verify FOLDER ...   (the arguments of ``xlcheck``)

Prints one line ``XLCHECK-MEASURED {json}`` with the parent's peak RSS (VmHWM) and CPU seconds,
and for its worker processes, wherever they were started from (directly, or by a fork server, which
``getrusage(RUSAGE_CHILDREN)`` never sees): their CPU seconds, and the peak RSS, USS (memory that
is theirs alone) and PSS of the largest, sampled twice a second from /proc. A worker's CPU after
its last sample is missed: at most half a second per worker over its whole life.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
peak = {"rss": 0, "uss": 0, "pss": 0}
cpu_by_worker: dict[int, float] = {}


def _parents() -> dict[int, int]:
    """pid → parent pid of every process visible in /proc."""
    parents = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parents[int(entry.name)] = int(fields[1])
    return parents


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _sample_once() -> None:
    for pid in _descendants(os.getpid()):
        try:
            stat = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            rows = (PROC / str(pid) / "smaps_rollup").read_text().splitlines()[1:]
        except (OSError, IndexError):
            continue
        cpu_by_worker[pid] = (int(stat[11]) + int(stat[12])) / _TICKS  # utime, stime
        kib = {row.split(":")[0]: int(row.split()[1]) for row in rows if row.split()[1].isdigit()}
        peak["rss"] = max(peak["rss"], kib.get("Rss", 0))
        peak["uss"] = max(peak["uss"], kib.get("Private_Clean", 0) + kib.get("Private_Dirty", 0))
        peak["pss"] = max(peak["pss"], kib.get("Pss", 0))


def _sample_forever() -> None:
    while True:
        _sample_once()
        time.sleep(0.5)


def _own_peak_kib(usage: resource.struct_rusage) -> int:
    """This process's peak RSS: VmHWM, which starts afresh at exec. ``ru_maxrss`` does not (Linux
    keeps it across execve), so it would report the peak of whatever process started this one,
    a benchmark holding a large workbook for instance, when that was higher."""
    try:
        for line in (PROC / "self" / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return usage.ru_maxrss


def _report() -> None:
    own = resource.getrusage(resource.RUSAGE_SELF)
    measured = {
        "parent_rss_kib": _own_peak_kib(own),
        "parent_cpu": own.ru_utime + own.ru_stime,
        "workers_cpu": sum(cpu_by_worker.values()),
        "worker_rss_kib": peak["rss"],
        "worker_uss_kib": peak["uss"],
        "worker_pss_kib": peak["pss"],
        "workers_seen": len(cpu_by_worker),
    }
    print("XLCHECK-MEASURED " + json.dumps(measured), file=sys.stderr)


def main() -> None:
    if (PROC / "self" / "smaps_rollup").exists():
        threading.Thread(target=_sample_forever, daemon=True).start()
    atexit.register(_report)
    sys.argv = ["xlcheck", *sys.argv[1:]]
    from xlcheck.cli import main as xlcheck_main

    xlcheck_main()


if __name__ == "__main__":
    main()
