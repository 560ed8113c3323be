"""Run the xlcheck command line in this process and report, on stderr at exit, what it cost.

    python benchmarks/measured_cli.py verify FOLDER ...   (the arguments of ``xlcheck``)

Prints one line ``XLCHECK-MEASURED {json}`` with the parent's peak RSS (VmHWM) and CPU seconds,
and for its worker processes, wherever they were started from (forked by the command line, or by
a fork server, which ``getrusage(RUSAGE_CHILDREN)`` never sees): their CPU seconds, and the peak
RSS, USS (memory that is theirs alone) and PSS of the largest, sampled twice a second from /proc.

The sampling runs in a process of its own, forked before the command line starts: a thread here
would be a second thread in the command line's process, which then starts its first workers
from its fork server instead of forking them (a fork would copy the thread half-way). Workers the
command line forked and reaped count with their whole CPU time (``RUSAGE_CHILDREN``); the others
with their last sample, so their CPU after it is missed: at most half a second per worker.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import select
import sys
from pathlib import Path
from typing import Any

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


def _sample_once(root: int, parents_seen: dict[int, int]) -> set[int]:
    """Sample every descendant of ``root`` but this sampler; the pids seen."""
    seen = set()
    for pid in _descendants(root):
        if pid == os.getpid():
            continue
        try:
            stat = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            rows = (PROC / str(pid) / "smaps_rollup").read_text().splitlines()[1:]
        except (OSError, IndexError):
            continue
        seen.add(pid)
        parents_seen[pid] = int(stat[1])
        cpu_by_worker[pid] = (int(stat[11]) + int(stat[12])) / _TICKS  # utime, stime
        kib = {row.split(":")[0]: int(row.split()[1]) for row in rows if row.split()[1].isdigit()}
        peak["rss"] = max(peak["rss"], kib.get("Rss", 0))
        peak["uss"] = max(peak["uss"], kib.get("Private_Clean", 0) + kib.get("Private_Dirty", 0))
        peak["pss"] = max(peak["pss"], kib.get("Pss", 0))
    return seen


def _sample_until_asked(root: int, asked: int, answer: int) -> None:
    """The sampler process: sample ``root``'s descendants twice a second until ``asked`` is
    readable, then sample once more and write what it found to ``answer``."""
    parents_seen: dict[int, int] = {}
    while not select.select([asked], [], [], 0.5)[0]:
        _sample_once(root, parents_seen)
    alive = _sample_once(root, parents_seen)
    found = {
        "cpu": cpu_by_worker,
        "parents": parents_seen,
        "alive": sorted(alive),
        "peak": peak,
    }
    data = json.dumps(found).encode()
    while data:
        data = data[os.write(answer, data) :]


class _Sampler:
    """The sampler process, forked now, and the pipes to ask it for its figures."""

    def __init__(self) -> None:
        root = os.getpid()
        ask_read, self.ask = os.pipe()
        self.answer, answer_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.ask)
            os.close(self.answer)
            try:
                _sample_until_asked(root, ask_read, answer_write)
            finally:
                os._exit(0)
        os.close(ask_read)
        os.close(answer_write)

    def figures(self) -> dict[str, Any]:
        os.close(self.ask)
        chunks = []
        while chunk := os.read(self.answer, 1 << 16):
            chunks.append(chunk)
        found: dict[str, Any] = json.loads(b"".join(chunks) or b"{}")
        return found


_sampler: _Sampler | None = None


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
    # Before the sampler is reaped: the CPU of the children this process reaped (the workers it
    # forked), whole.
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    found: dict[str, Any] = _sampler.figures() if _sampler is not None else {}
    cpu = {int(pid): float(seconds) for pid, seconds in dict(found.get("cpu", {})).items()}
    parents = {int(pid): int(parent) for pid, parent in dict(found.get("parents", {})).items()}
    alive = set(found.get("alive", []))
    own = resource.getrusage(resource.RUSAGE_SELF)
    # A child of this process gone by the last sample was reaped: it counts in ``reaped``.
    sampled = sum(
        seconds
        for pid, seconds in cpu.items()
        if not (parents.get(pid) == os.getpid() and pid not in alive)
    )
    peaks = dict(found.get("peak", {}))
    measured = {
        "parent_rss_kib": _own_peak_kib(own),
        "parent_cpu": own.ru_utime + own.ru_stime,
        "workers_cpu": reaped.ru_utime + reaped.ru_stime + sampled,
        "worker_rss_kib": peaks.get("rss", 0),
        "worker_uss_kib": peaks.get("uss", 0),
        "worker_pss_kib": peaks.get("pss", 0),
        "workers_seen": len(cpu),
    }
    if _sampler is not None:
        os.waitpid(_sampler.pid, 0)
    print("XLCHECK-MEASURED " + json.dumps(measured), file=sys.stderr)


def main() -> None:
    global _sampler
    if (PROC / "self" / "smaps_rollup").exists():
        _sampler = _Sampler()
    atexit.register(_report)
    sys.argv = ["xlcheck", *sys.argv[1:]]
    from xlcheck.cli import main as xlcheck_main

    xlcheck_main()


if __name__ == "__main__":
    main()
