"""Batch benchmark: throughput beside a bare calamine read, and memory at 1,000 to 10,000 workbooks.

Prints, side by side in one run:

- a batch of ``--rate-count`` (300) workbooks with annotated copies and an .xlsx summary, ``-j``
  processes: wall seconds, workbooks per second, and the time per workbook divided by the time a
  bare Python process takes to read every cell of the same files with python-calamine;
- the same batch at each of ``--sizes`` (1,000 / 3,000 / 10,000): the peak memory of the parent
  process and of the largest worker (RSS, USS and PSS), the CPU of all of them, measured by
  ``measured_cli.py`` (which runs the command line in its own process and samples the workers
  from /proc, wherever they were started from), and the parent's growth per workbook;
- optionally (``--frictionless N``) ``frictionless validate`` on N of the files, one process each.

Workbooks: ``--distinct`` (60) are written with ``xlcheck template`` from the seed's values,
varied per unit, every fifth with a planted error; the rest are clones of those with their own
unit name rewritten in the sheet XML (writing 10,000 distinct templates would take ten minutes
of the benchmark's time, a clone takes a few milliseconds). Each clone is a distinct unit, so
the summary has one row per unit; the values repeat every ``--distinct`` files.

    python benchmarks/bench_batch.py [--jobs 2] [--sizes 1000,3000,10000] [--rate-count 300]
        [--tree /path/to/other/tool] [--keep DIR] [--frictionless 0]

``--tree`` runs another checkout's ``tool/`` (e.g. main) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "zhanjiang-xinfang-2023.json"
UNIT_MARK = "UNIT-PLACEHOLDER-000000"
RATE_TARGET = 100.0
RATIO_TARGET = 10.0
PARENT_TARGET_MB = 100.0

#: Runs the xlcheck command line and reports its parent's and workers' CPU and memory.
MEASURED_CLI = Path(__file__).resolve().parent / "measured_cli.py"
#: Reads every cell of every sheet of the files named on stdin, as a bare reader would.
_CALAMINE_READ = (
    "import sys\n"
    "from python_calamine import CalamineWorkbook\n"
    "for line in sys.stdin:\n"
    "    book = CalamineWorkbook.from_path(line.strip())\n"
    "    for name in book.sheet_names:\n"
    "        book.get_sheet_by_name(name).to_python()\n"
)


def workbook_values(number: int) -> dict[str, Any]:
    """Seed values varied per workbook; every fifth carries a planted error."""
    values: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    values["score.petition_handling"] = 5  # the seed's own total is 101; start from a clean 100
    values["unit_name"] = UNIT_MARK
    values["staff_quota"] = 20 + number % 15
    values["staff_in_service"] = values["staff_quota"] - number % 3
    values["internal_divisions"] = 3 + number % 6
    values["projects[1].name"] = f"专项业务经费 {number}"
    if number % 5 == 0:
        kind = (number // 5) % 3
        if kind == 0:
            values["score.petition_handling"] = 6  # above its weight, total 101
        elif kind == 1:
            values["projects[1].actual"] = 300.0  # project list no longer sums to 项目支出
        else:
            values["score.exec_rate"] = 12  # above its weight of 10
    return values


def _write_distinct(arguments: tuple[int, Path]) -> None:
    from xlcheck import write_template
    from xlcheck.api import prefill_values
    from xlcheck.spec_loading import load_spec

    number, path = arguments
    prefill = prefill_values(workbook_values(number), load_spec("zhanjiang-overall"))
    write_template(path, prefill=prefill, force=True)


def _clone(arguments: tuple[Path, Path, int]) -> None:
    """A copy of ``source`` whose unit name is unit ``number``'s (sheet XML rewritten)."""
    source, target, number = arguments
    unit = f"湛江市第{number:05d}号预算单位".encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(buffer, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/"):
                data = data.replace(UNIT_MARK.encode(), unit)
            zout.writestr(info, data)
    target.write_bytes(buffer.getvalue())


def generate(folder: Path, count: int, distinct: int, jobs: int) -> float:
    """``count`` workbooks in ``folder``; seconds taken."""
    start = time.perf_counter()
    bases = folder.parent / f"{folder.name}-bases"
    bases.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    base_paths = [bases / f"base-{n:03d}.xlsx" for n in range(1, min(distinct, count) + 1)]
    clones = [
        (base_paths[(n - 1) % len(base_paths)], folder / f"unit-{n:05d}.xlsx", n)
        for n in range(1, count + 1)
    ]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        missing = [(n, p) for n, p in enumerate(base_paths, start=1) if not p.exists()]
        list(pool.map(_write_distinct, missing, chunksize=4))
        list(pool.map(_clone, [c for c in clones if not c[1].exists()], chunksize=64))
    return time.perf_counter() - start


def subset(source: Path, target: Path, count: int) -> Path:
    """The first ``count`` workbooks of ``source`` as hard links in ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in sorted(source.glob("*.xlsx"))[:count]:
        os.link(path, target / path.name)
    return target


def _children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process of this one, and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _environment(tree: Path | None) -> dict[str, str]:
    environment = dict(os.environ)
    if tree is not None:
        environment["PYTHONPATH"] = str(tree)
    return environment


def run_batch(folder: Path, out: Path, jobs: int, tree: Path | None) -> dict[str, Any]:
    """One whole ``xlcheck verify`` with copies and summary: seconds, exit, memory, statuses."""
    if out.exists():
        shutil.rmtree(out)
    report = out.parent / f"{out.name}.json"
    command = [
        sys.executable, str(MEASURED_CLI), "verify", str(folder), "--out-dir", str(out),
        "--summary", str(out / "汇总表.xlsx"), "--format", "json", "-j", str(jobs),
    ]  # fmt: skip
    start = time.perf_counter()
    with report.open("wb") as stdout:
        completed = subprocess.run(
            command, stdout=stdout, stderr=subprocess.PIPE, env=_environment(tree), check=False
        )
    seconds = time.perf_counter() - start
    lines = [line for line in completed.stderr.decode().splitlines() if "XLCHECK-MEASURED" in line]
    measured = json.loads(lines[-1].split(" ", 1)[1]) if lines else {}
    results = json.loads(report.read_text(encoding="utf-8"))["results"]
    statuses = {
        s: sum(1 for r in results if r["status"] == s) for s in ("ok", "errors", "unreadable")
    }
    return {
        "count": len(results),
        "seconds": seconds,
        "cpu": measured.get("parent_cpu", 0.0) + measured.get("workers_cpu", 0.0),
        "parent_cpu": measured.get("parent_cpu", 0.0),
        "code": completed.returncode,
        "parent_mb": measured.get("parent_rss_kib", 0) / 1024,
        "worker_mb": measured.get("worker_rss_kib", 0) / 1024,
        "worker_uss_mb": measured.get("worker_uss_kib", 0) / 1024,
        "worker_pss_mb": measured.get("worker_pss_kib", 0) / 1024,
        "statuses": statuses,
    }


def calamine_seconds(folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a bare Python process reading every cell of every file in ``folder``."""
    names = "\n".join(str(p) for p in sorted(folder.glob("*.xlsx"))).encode()
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", _CALAMINE_READ], input=names, check=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def parallel_slowdown(folder: Path, processes: int, passes: int = 3) -> float:
    """How much slower a bare calamine read of ``folder`` (``passes`` times) runs when
    ``processes`` of them run at once than when it runs alone: 1.0 where the cores are as fast
    together as apart. It tells what ``-j`` can gain on this machine, whatever runs the batch."""
    names = "\n".join(str(p) for p in sorted(folder.glob("*.xlsx")) for _ in range(passes))
    command = [sys.executable, "-c", _CALAMINE_READ]

    def at_once(count: int) -> float:
        start = time.perf_counter()
        running = [
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
            for _ in range(count)
        ]
        for process in running:
            assert process.stdin is not None
            process.stdin.write(names.encode())
            process.stdin.close()
        for process in running:
            process.wait()
        return time.perf_counter() - start

    alone = min(at_once(1), at_once(1))
    together = min(at_once(processes), at_once(processes))
    return together / alone


def frictionless_per_file(files: list[Path]) -> float:
    """Mean wall seconds of ``frictionless validate FILE --sheet 数据表``, one process per file."""
    executable = shutil.which("frictionless")
    command = [executable] if executable else [sys.executable, "-m", "frictionless"]
    start = time.perf_counter()
    for path in files:
        # frictionless refuses absolute paths as unsafe: run it beside the file.
        subprocess.run(
            [*command, "validate", path.name, "--sheet", "数据表"],
            cwd=path.parent,
            capture_output=True,
            check=False,
        )
    return (time.perf_counter() - start) / len(files)


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--rate-count", type=int, default=300)
    parser.add_argument("--distinct", type=int, default=60)
    parser.add_argument("--tree", type=Path, default=None, help="another checkout's tool/ folder")
    parser.add_argument("--keep", type=Path, default=None, help="keep workbooks and outputs here")
    parser.add_argument("--frictionless", type=int, default=0, help="files frictionless validates")
    arguments = parser.parse_args()
    sizes = sorted(int(s) for s in arguments.sizes.split(",") if s)
    largest = max([*sizes, arguments.rate_count])
    scratch = arguments.keep or Path(tempfile.mkdtemp(prefix="xlcheck-bench-"))
    try:
        workbooks = scratch / "workbooks"
        seconds = generate(workbooks, largest, arguments.distinct, arguments.jobs)
        print(
            f"{largest} workbooks ready in {seconds:.1f} s ({arguments.distinct} written by "
            f"xlcheck template, the rest clones with their own unit names); "
            f"load average {os.getloadavg()[0]:.2f}; tree {arguments.tree or 'installed xlcheck'}"
        )

        rate_set = subset(workbooks, scratch / "rate-set", arguments.rate_count)
        bare, bare_cpu = calamine_seconds(rate_set)
        batch = run_batch(rate_set, scratch / "rate-out", arguments.jobs, arguments.tree)
        per_batch = batch["seconds"] / batch["count"]
        per_bare = bare / arguments.rate_count
        rate = batch["count"] / batch["seconds"]
        print(f"\n{'measure':<58} {'value':>12} {'goal':>10}")
        label = f"batch of {batch['count']} (copies + summary, -j {arguments.jobs}), wb/s"
        print(
            f"{label:<58} {rate:>12.1f} {f'≥ {RATE_TARGET:.0f}':>10}  "
            f"{_verdict(rate >= RATE_TARGET)}"
        )
        print(f"{'  its time per workbook, ms':<58} {per_batch * 1000:>12.1f}")
        cpu_per_batch = batch["cpu"] / batch["count"]
        print(f"{'  its CPU per workbook (all processes), ms':<58} {cpu_per_batch * 1000:>12.1f}")
        parent_cpu = batch["parent_cpu"] / batch["count"] * 1000
        print(
            f"{'  of which the parent process (sources, summary, report), ms':<58} {parent_cpu:>12.1f}"
        )
        print(
            f"{'calamine read of the same files in one process, ms/wb':<58} {per_bare * 1000:>12.2f}"
        )
        cpu_per_bare = bare_cpu / arguments.rate_count
        print(f"{'  its CPU per workbook, ms':<58} {cpu_per_bare * 1000:>12.2f}")
        print(
            f"{'ratio of CPU per workbook, batch / calamine read':<58} {cpu_per_batch / cpu_per_bare:>12.1f}"
        )
        ratio = per_batch / per_bare
        print(
            f"{'ratio batch / calamine read':<58} {ratio:>12.1f} "
            f"{f'≤ {RATIO_TARGET:.0f}':>10}  {_verdict(ratio <= RATIO_TARGET)}"
        )

        print(
            f"\n{'workbooks':>9} {'seconds':>8} {'wb/s':>6} {'CPU ms/wb':>10} {'parent MB':>10}"
            f" {'worker RSS':>10} {'USS':>6} {'PSS':>6}  statuses"
        )
        figures = []
        for size in sizes:
            folder = subset(workbooks, scratch / f"set-{size}", size)
            figure = run_batch(folder, scratch / f"out-{size}", arguments.jobs, arguments.tree)
            figures.append(figure)
            print(
                f"{figure['count']:>9} {figure['seconds']:>8.1f} "
                f"{figure['count'] / figure['seconds']:>6.1f} "
                f"{figure['cpu'] / figure['count'] * 1000:>10.1f} {figure['parent_mb']:>10.1f} "
                f"{figure['worker_mb']:>10.1f} {figure['worker_uss_mb']:>6.1f} "
                f"{figure['worker_pss_mb']:>6.1f}  {figure['statuses']} exit {figure['code']}"
            )
            shutil.rmtree(folder)
            shutil.rmtree(scratch / f"out-{size}", ignore_errors=True)
        if len(figures) > 1:
            first, last = figures[0], figures[-1]
            growth = (
                (last["parent_mb"] - first["parent_mb"]) * 1024 / (last["count"] - first["count"])
            )
            print(f"\nparent memory growth: {growth:.1f} KB per workbook")
        peak = figures[-1]["parent_mb"] if figures else 0.0
        print(
            f"parent peak at {figures[-1]['count'] if figures else 0} workbooks: {peak:.0f} MB "
            f"(goal < {PARENT_TARGET_MB:.0f}): {_verdict(peak < PARENT_TARGET_MB)}"
        )
        if arguments.frictionless:
            sample = sorted(rate_set.glob("*.xlsx"))[: arguments.frictionless]
            per_file = frictionless_per_file(sample)
            print(
                f"frictionless validate --sheet 数据表: {per_file:.2f} s/file over {len(sample)} "
                f"files; xlcheck's batch is {per_file / per_batch:.0f}x faster per workbook"
            )
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        if arguments.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
