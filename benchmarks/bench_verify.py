"""Whole-process timings of `xlcheck verify` and `xlcheck --help` beside `frictionless validate`.

Run ``python benchmarks/bench_verify.py`` (see benchmarks/README.md). It prints a table and a
PASS/FAIL line per target, and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "zhanjiang-xinfang-2023.xlsx"
EXAMPLE_DATA = ROOT / "examples" / "zhanjiang-xinfang-2023.json"
#: The sheet frictionless validates: the budget and spending table, the heart of the workbook.
SHEET = "数据表"

VERIFY_MEDIAN_TARGET = 0.6
HELP_MEDIAN_TARGET = 0.15
RATIO_TARGET = 1.0
#: frictionless error types meaning it never got to validate the sheet's rows.
FRICTIONLESS_FATAL = frozenset(
    {"resource-error", "source-error", "scheme-error", "format-error", "encoding-error"}
)


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of every run of one command."""

    label: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_once(command: Sequence[str], allowed_codes: frozenset[int], cwd: Path) -> float:
    """Seconds one whole process takes, start to exit; output is discarded.

    Raises:
        RuntimeError: the command exits with a code it should not (it did not do its job).
    """
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, check=False, cwd=cwd)
    elapsed = time.perf_counter() - start
    if completed.returncode not in allowed_codes:
        raise RuntimeError(
            f"{' '.join(command)} exited {completed.returncode}:\n"
            f"{completed.stdout.decode(errors='replace')}{completed.stderr.decode(errors='replace')}"
        )
    return elapsed


def find_xlcheck() -> str:
    executable = shutil.which("xlcheck")
    if executable is None:
        sys.exit("xlcheck is not on PATH: pip install -e '.[test]' first")
    return executable


def frictionless_command() -> list[str]:
    executable = shutil.which("frictionless")
    return [executable] if executable else [sys.executable, "-m", "frictionless"]


def example_workbook(xlcheck: str, scratch: Path) -> Path:
    """The shipped example; built from its JSON data when the repository does not have it yet."""
    if EXAMPLE.exists():
        return EXAMPLE
    built = scratch / EXAMPLE.name
    subprocess.run(
        [xlcheck, "template", "--data", str(EXAMPLE_DATA), "-o", str(built)],
        check=True,
        capture_output=True,
    )
    return built


def check_frictionless_reads_the_sheet(workbook: Path) -> int:
    """Rows frictionless validated; it must really read the sheet, not stop at an error.

    frictionless refuses absolute paths ("path ... is not safe", a resource-error that takes a
    fraction of the time), so it is run from the workbook's folder with the bare file name.

    Raises:
        RuntimeError: frictionless could not open or parse the sheet.
    """
    command = [*frictionless_command(), "validate", workbook.name, "--sheet", SHEET, "--json"]
    completed = subprocess.run(command, capture_output=True, check=False, cwd=workbook.parent)
    report = json.loads(completed.stdout)
    task = report["tasks"][0]
    fatal = [e["type"] for e in task["errors"] if e["type"] in FRICTIONLESS_FATAL]
    rows = int(task["stats"].get("rows", 0))
    if fatal or not rows:
        raise RuntimeError(f"frictionless did not validate sheet {SHEET}: {fatal or task['stats']}")
    return rows


def measure(runs: int, scratch: Path) -> tuple[Path, list[Timing]]:
    """Time the three commands, interleaved run by run so that drift hits them alike."""
    xlcheck = find_xlcheck()
    workbook = example_workbook(xlcheck, scratch)
    annotated = scratch / "annotated.xlsx"
    commands: dict[str, tuple[list[str], frozenset[int]]] = {
        # verify exits 1 on the example: it holds errors on purpose (the typed 99.93, total 101).
        "xlcheck verify": (
            [xlcheck, "verify", workbook.name, "-o", str(annotated), "--force"],
            frozenset({0, 1}),
        ),
        # frictionless exits 1 when the sheet is "invalid" (blank header labels, mixed types).
        "frictionless validate": (
            [*frictionless_command(), "validate", workbook.name, "--sheet", SHEET],
            frozenset({0, 1}),
        ),
        "xlcheck --help": ([xlcheck, "--help"], frozenset({0})),
    }
    print(f"frictionless validates {check_frictionless_reads_the_sheet(workbook)} rows of {SHEET}")
    for command, codes in commands.values():  # warm-up: disk cache and .pyc files, not counted
        run_once(command, codes, workbook.parent)
    seconds: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, (command, codes) in commands.items():
            seconds[label].append(run_once(command, codes, workbook.parent))
    if not annotated.exists():
        raise RuntimeError(f"xlcheck verify wrote no annotated copy at {annotated}")
    return workbook, [Timing(label, tuple(values)) for label, values in seconds.items()]


def report(workbook: Path, timings: list[Timing], runs: int) -> bool:
    """Print the figures and the verdict per target; True when every target is met."""
    by_label = {t.label: t for t in timings}
    verify, frictionless, help_ = (
        by_label["xlcheck verify"],
        by_label["frictionless validate"],
        by_label["xlcheck --help"],
    )
    ratio = verify.median / frictionless.median
    print(f"workbook : {workbook}")
    python = platform.python_version()
    print(f"machine  : {os.cpu_count()} CPUs, Python {python}, {platform.system()}")
    print(f"runs     : {runs} per command, interleaved, after one warm-up run each")
    print(f"compared : frictionless validate of ONE sheet (--sheet {SHEET})")
    print()
    print(f"{'command':<24}{'median':>9}{'min':>9}{'max':>9}")
    for timing in timings:
        low, high = min(timing.seconds), max(timing.seconds)
        print(f"{timing.label:<24}{timing.median:>8.3f}s{low:>8.3f}s{high:>8.3f}s")
    print()
    checks = [
        (
            f"xlcheck verify median < {VERIFY_MEDIAN_TARGET} s",
            verify.median < VERIFY_MEDIAN_TARGET,
            f"{verify.median:.3f} s",
        ),
        (
            f"xlcheck verify / frictionless validate <= {RATIO_TARGET:g}",
            ratio <= RATIO_TARGET,
            f"{ratio:.2f}",
        ),
        (
            f"xlcheck --help median < {HELP_MEDIAN_TARGET} s",
            help_.median < HELP_MEDIAN_TARGET,
            f"{help_.median:.3f} s",
        ),
    ]
    for target, met, figure in checks:
        print(f"{'PASS' if met else 'FAIL'}  {target:<48}{figure:>10}")
    return all(met for _, met, _ in checks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="xlcheck-bench-") as scratch:
        workbook, timings = measure(args.runs, Path(scratch))
        passed = report(workbook, timings, args.runs)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
