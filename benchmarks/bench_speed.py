"""Whole-process timings of one verification beside the measures it is judged against.

Run ``python benchmarks/bench_speed.py`` (see benchmarks/README.md). Every command runs once to
warm the disk cache and ``.pyc`` files, then N times, all commands interleaved run by run so that
drift in machine load hits them alike. It prints each command's median, min and max, then each
comparison as a ratio of medians with its goal, and exits 1 when a goal is missed.
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
#: The unrelated sheet added to the example: rows × columns, half numbers, half text.
BIG_ROWS, BIG_COLUMNS = 2_000, 100
#: frictionless error types meaning it never got to validate the sheet's rows.
FRICTIONLESS_FATAL = frozenset(
    {"resource-error", "source-error", "scheme-error", "format-error", "encoding-error"}
)
#: A bare python process reading every cell of every sheet with python-calamine.
CALAMINE_READ = (
    "import sys, python_calamine\n"
    "book = python_calamine.CalamineWorkbook.from_path(sys.argv[1])\n"
    "for name in book.sheet_names:\n"
    "    book.get_sheet_by_name(name).to_python()\n"
)


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str]
    #: Exit codes that mean the command did its job (verify exits 1 on the example's errors).
    codes: frozenset[int]


@dataclass(frozen=True)
class Goal:
    """``numerator`` ÷ ``denominator`` (medians) at most ``limit``; or seconds when no denominator."""

    label: str
    numerator: str
    denominator: str | None
    limit: float


def xlcheck_argv() -> list[str]:
    """xlcheck as the interpreter runs it (``python -m xlcheck``: no shell shim in the timing)."""
    return [sys.executable, "-m", "xlcheck"]


def frictionless_argv() -> list[str]:
    executable = shutil.which("frictionless")
    return [executable] if executable else [sys.executable, "-m", "frictionless"]


def example_workbook(scratch: Path) -> Path:
    """The shipped example, copied into ``scratch`` (built from its JSON data if missing)."""
    target = scratch / EXAMPLE.name
    if EXAMPLE.exists():
        shutil.copyfile(EXAMPLE, target)
    else:
        subprocess.run(
            [*xlcheck_argv(), "template", "--data", str(EXAMPLE_DATA), "-o", str(target)],
            check=True,
            capture_output=True,
        )
    return target


def big_workbook(example: Path, scratch: Path) -> Path:
    """The example with an extra sheet of BIG_ROWS × BIG_COLUMNS unrelated cells (openpyxl)."""
    import openpyxl

    book = openpyxl.load_workbook(example)
    sheet = book.create_sheet("外部数据")
    for row in range(BIG_ROWS):
        sheet.append(
            [
                f"文本{row}-{col}" if col % 2 else row * BIG_COLUMNS + col
                for col in range(BIG_COLUMNS)
            ]
        )
    target = scratch / "big.xlsx"
    book.save(target)
    return target


def check_frictionless_reads_the_sheet(workbook: Path) -> int:
    """Rows frictionless validated; it must really read the sheet, not stop at an error.

    frictionless refuses absolute paths ("path ... is not safe", a resource-error that takes a
    fraction of the time), so it runs from the workbook's folder with the bare file name.

    Raises:
        RuntimeError: frictionless could not open or parse the sheet.
    """
    command = [*frictionless_argv(), "validate", workbook.name, "--sheet", SHEET, "--json"]
    completed = subprocess.run(command, capture_output=True, check=False, cwd=workbook.parent)
    task = json.loads(completed.stdout)["tasks"][0]
    fatal = [e["type"] for e in task["errors"] if e["type"] in FRICTIONLESS_FATAL]
    rows = int(task["stats"].get("rows", 0))
    if fatal or not rows:
        raise RuntimeError(f"frictionless did not validate sheet {SHEET}: {fatal or task['stats']}")
    return rows


def child_environment() -> dict[str, str]:
    """The environment the timed commands run in: this one, but writing ``.pyc`` files, so the
    warm-up run leaves compiled modules behind as an installed xlcheck has them (a shell with
    PYTHONDONTWRITEBYTECODE would otherwise time compiling every module, every run)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(command: Command, cwd: Path) -> float:
    """Seconds one whole process takes, start to exit; output is discarded.

    Raises:
        RuntimeError: the command exits with a code it should not (it did not do its job).
    """
    start = time.perf_counter()
    completed = subprocess.run(
        command.argv, capture_output=True, check=False, cwd=cwd, env=child_environment()
    )
    elapsed = time.perf_counter() - start
    if completed.returncode not in command.codes:
        raise RuntimeError(
            f"{' '.join(command.argv)} exited {completed.returncode}:\n"
            f"{completed.stdout.decode(errors='replace')}{completed.stderr.decode(errors='replace')}"
        )
    return elapsed


def commands(example: Path, big: Path, scratch: Path) -> list[Command]:
    xlcheck = xlcheck_argv()
    findings = frozenset({0, 1})
    return [
        Command(
            "verify (annotated copy)",
            [*xlcheck, "verify", example.name, "-o", str(scratch / "copy.xlsx"), "--force"],
            findings,
        ),
        Command(
            "verify --no-annotate", [*xlcheck, "verify", example.name, "--no-annotate"], findings
        ),
        Command(
            "frictionless validate",
            [*frictionless_argv(), "validate", example.name, "--sheet", SHEET],
            findings,
        ),
        Command(
            "calamine read", [sys.executable, "-c", CALAMINE_READ, example.name], frozenset({0})
        ),
        Command("xlcheck --help", [*xlcheck, "--help"], frozenset({0})),
        Command("python -c pass", [sys.executable, "-c", "pass"], frozenset({0})),
        Command(
            "200k cells --no-annotate", [*xlcheck, "verify", big.name, "--no-annotate"], findings
        ),
        Command(
            "200k cells (annotated copy)",
            [*xlcheck, "verify", big.name, "-o", str(scratch / "big-copy.xlsx"), "--force"],
            findings,
        ),
    ]


GOALS = [
    Goal(
        "verify (copy) ÷ frictionless, one sheet",
        "verify (annotated copy)",
        "frictionless validate",
        0.25,
    ),
    Goal(
        "verify --no-annotate ÷ frictionless", "verify --no-annotate", "frictionless validate", 0.25
    ),
    Goal("verify --no-annotate ÷ calamine read", "verify --no-annotate", "calamine read", 5.0),
    Goal("verify (copy) ÷ calamine read", "verify (annotated copy)", "calamine read", 5.0),
    Goal("xlcheck --help ÷ python -c pass", "xlcheck --help", "python -c pass", 3.0),
    Goal("200k cells --no-annotate, seconds", "200k cells --no-annotate", None, 1.0),
    Goal("200k cells (copy), seconds", "200k cells (annotated copy)", None, 1.0),
]


def measure(runs: int, scratch: Path) -> dict[str, list[float]]:
    example = example_workbook(scratch)
    big = big_workbook(example, scratch)
    print(f"frictionless validates {check_frictionless_reads_the_sheet(example)} rows of {SHEET}")
    plan = commands(example, big, scratch)
    for command in plan:  # warm-up: disk cache and .pyc files, not counted
        run_once(command, scratch)
    seconds: dict[str, list[float]] = {command.label: [] for command in plan}
    for _ in range(runs):
        for command in plan:
            seconds[command.label].append(run_once(command, scratch))
    return seconds


def report(seconds: dict[str, list[float]], runs: int) -> bool:
    """Print the figures and the verdict per goal; True when every goal is met."""
    medians = {label: statistics.median(values) for label, values in seconds.items()}
    print(
        f"machine : {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"
    )
    print(f"load    : {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    print(f"runs    : {runs} per command, interleaved, after one warm-up run each")
    print()
    print(f"{'command':<30}{'median':>9}{'min':>9}{'max':>9}")
    for label, values in seconds.items():
        print(f"{label:<30}{medians[label]:>8.3f}s{min(values):>8.3f}s{max(values):>8.3f}s")
    print()
    met_all = True
    for goal in GOALS:
        figure = medians[goal.numerator] / (medians[goal.denominator] if goal.denominator else 1.0)
        met = figure <= goal.limit
        met_all = met_all and met
        unit = " s" if goal.denominator is None else ""
        print(
            f"{'PASS' if met else 'FAIL'}  {goal.label:<44}{figure:>8.2f}{unit}  (goal ≤ {goal.limit:g}{unit})"
        )
    return met_all


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="xlcheck-bench-") as scratch:
        seconds = measure(args.runs, Path(scratch))
    return 0 if report(seconds, args.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
