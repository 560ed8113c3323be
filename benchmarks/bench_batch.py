"""Batch benchmark: 1,000 varied filled workbooks verified with summary and annotated copies.

Prints workbooks per second end to end (the whole ``xlcheck verify`` process), the peak memory
of any process (``getrusage(RUSAGE_CHILDREN)``: the largest descendant, workers included), the
figures at 10, 100 and 1,000 workbooks to show cost is linear, and the ratio to a plain loop of
``frictionless validate`` over the same files. frictionless is timed on a sample and
extrapolated (it takes about a second a file; the whole loop would take a quarter of an hour).

    python benchmarks/bench_batch.py [--count 1000] [--jobs 2] [--sample 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "zhanjiang-xinfang-2023.json"
SHEET = "数据表"
RATE_TARGET = 30.0
MEMORY_TARGET_MB = 250.0
#: Runs one command and prints its wall seconds, exit code and the largest descendant's RSS (KiB).
_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], 'wb'), stderr=subprocess.DEVNULL).returncode\n"
    "elapsed = time.perf_counter() - start\n"
    "print(elapsed, code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def workbook_values(number: int) -> dict[str, Any]:
    """Seed values varied per unit; every fifth workbook carries a planted error."""
    values: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    values["score.petition_handling"] = 5  # the seed's own total is 101; start from a clean 100
    # Every 97th unit sends its workbook twice: the summary flags the pair as duplicates.
    unit_number = number - 1 if number % 97 == 1 and number > 1 else number
    values["unit_name"] = f"湛江市第{unit_number:04d}号预算单位"
    values["staff_quota"] = 20 + number % 15
    values["staff_in_service"] = values["staff_quota"] - number % 3
    values["internal_divisions"] = 3 + number % 6
    values["projects[1].name"] = f"专项业务经费 {number}"
    if number % 5 == 0:  # a fifth with planted errors, three kinds in turn
        kind = (number // 5) % 3
        if kind == 0:
            values["score.petition_handling"] = 6  # above its weight, total 101
        elif kind == 1:
            values["projects[1].actual"] = 300.0  # project list no longer sums to 项目支出
        else:
            values["score.exec_rate"] = 12  # above its weight of 10
    return values


def _write(arguments: tuple[int, Path]) -> None:
    from xlcheck import write_template
    from xlcheck.api import prefill_values
    from xlcheck.spec_loading import load_spec

    number, path = arguments
    prefill = prefill_values(workbook_values(number), load_spec("zhanjiang-overall"))
    write_template(path, prefill=prefill, force=True)


def generate(folder: Path, count: int, jobs: int) -> float:
    """Write ``count`` filled workbooks into ``folder``; seconds taken."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tasks = [(n, folder / f"unit-{n:04d}.xlsx") for n in range(1, count + 1)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_write, tasks, chunksize=16))
    return time.perf_counter() - start


def subset(source: Path, target: Path, count: int) -> Path:
    """The first ``count`` workbooks of ``source`` as hard links in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.xlsx"))[:count]:
        os.link(path, target / path.name)
    return target


def measured(command: list[str], stdout: Path) -> tuple[float, int, float]:
    """(wall seconds, exit code, peak RSS of any process in MB) of one whole command."""
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(stdout), *command],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, code, rss_kib = completed.stdout.split()
    return float(seconds), int(code), int(rss_kib) / 1024


def run_batch(xlcheck: str, folder: Path, out: Path, jobs: int) -> dict[str, Any]:
    command = [
        xlcheck,
        "verify",
        str(folder),
        "--out-dir",
        str(out),
        "--summary",
        str(out / "汇总表.xlsx"),
        "--format",
        "json",
        "-j",
        str(jobs),
        "--force",
    ]
    report = out.parent / f"{out.name}.json"
    seconds, code, peak = measured(command, report)
    results = json.loads(report.read_text(encoding="utf-8"))["results"]
    statuses = {
        s: sum(1 for r in results if r["status"] == s)
        for s in ("ok", "warnings", "errors", "unreadable")
    }
    return {
        "count": len(results),
        "seconds": seconds,
        "code": code,
        "peak_mb": peak,
        "statuses": statuses,
    }


def frictionless_per_file(files: list[Path]) -> float:
    """Mean wall seconds of ``frictionless validate FILE --sheet 数据表``, one process per file."""
    executable = shutil.which("frictionless")
    command = [executable] if executable else [sys.executable, "-m", "frictionless"]
    start = time.perf_counter()
    for path in files:
        # frictionless refuses absolute paths as unsafe: run it beside the file.
        subprocess.run(
            [*command, "validate", path.name, "--sheet", SHEET],
            cwd=path.parent,
            capture_output=True,
            check=False,
        )
    return (time.perf_counter() - start) / len(files)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=20, help="files frictionless validates")
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep the workbooks and outputs here"
    )
    arguments = parser.parse_args()
    xlcheck = shutil.which("xlcheck")
    if xlcheck is None:
        sys.exit("xlcheck is not on PATH: pip install -e '.[test]' first")
    scratch = arguments.keep or Path(tempfile.mkdtemp(prefix="xlcheck-bench-"))
    try:
        workbooks = scratch / "workbooks"
        seconds = generate(workbooks, arguments.count, arguments.jobs)
        print(
            f"generated {arguments.count} workbooks in {seconds:.1f} s ({arguments.jobs} processes)"
        )
        sizes = sorted({s for s in (10, 100, arguments.count) if s <= arguments.count})
        print(
            f"\n{'workbooks':>9} {'seconds':>8} {'per wb ms':>9} {'wb/s':>6} {'peak MB':>8}  statuses"
        )
        figures = []
        for size in sizes:
            folder = (
                workbooks
                if size == arguments.count
                else subset(workbooks, scratch / f"set-{size}", size)
            )
            figure = run_batch(xlcheck, folder, scratch / f"out-{size}", arguments.jobs)
            figures.append(figure)
            rate = figure["count"] / figure["seconds"]
            print(
                f"{figure['count']:>9} {figure['seconds']:>8.2f} {1000 / rate:>9.1f} {rate:>6.1f} "
                f"{figure['peak_mb']:>8.0f}  {figure['statuses']} exit {figure['code']}"
            )
        largest = figures[-1]
        rate = largest["count"] / largest["seconds"]
        peak = max(f["peak_mb"] for f in figures)
        sample = sorted(workbooks.glob("*.xlsx"))[: arguments.sample]
        per_file = frictionless_per_file(sample)
        estimate = per_file * largest["count"]
        print(
            f"\nxlcheck end to end: {rate:.1f} workbooks/s (target ≥ {RATE_TARGET:.0f}): "
            f"{'met' if rate >= RATE_TARGET else 'NOT met'}"
        )
        print(
            f"peak memory of any process: {peak:.0f} MB (target < {MEMORY_TARGET_MB:.0f}): "
            f"{'met' if peak < MEMORY_TARGET_MB else 'NOT met'}"
        )
        print(
            f"frictionless validate --sheet {SHEET}: {per_file:.2f} s/file over a sample of {len(sample)}, "
            f"so about {estimate:.0f} s for {largest['count']} files (extrapolated)"
        )
        print(f"ratio frictionless loop / xlcheck batch: {estimate / largest['seconds']:.1f}x")
    finally:
        if arguments.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
