"""Every row of issue 9's table in one run: measured beside its goal, with PASS or FAIL.

Run ``python benchmarks/run_all.py`` (see benchmarks/README.md). In order:

1. one verification, whole processes interleaved run by run with what they are judged against
   (``bench_speed.py``'s commands: frictionless, a bare calamine read, ``python -c pass``, the
   workbook with 200,000 unrelated cells);
2. the annotated copies of a package written by LibreOffice (chart, picture, shapes, text box,
   comments) and of the example: every part marking has no reason to touch, compared raw;
3. a batch of ``--rate-count`` (300) workbooks with copies and summary, ``-j --jobs``, beside a
   bare calamine read of the same files in one process, alternated ``--batch-runs`` times;
4. the same batch at each of ``--sizes`` (1,000 / 3,000 / 10,000): the parent's peak memory.

It ends with one table in the issue's shape (measure | measured | goal | verdict) and exits 1 when
a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bench_batch  # sibling scripts: python puts the script's folder on sys.path
import bench_speed

ROOT = Path(__file__).resolve().parent.parent
#: A package LibreOffice wrote, with a chart, a picture, shapes, a text box and comments.
LIBREOFFICE_PACKAGE = ROOT / "tests" / "fixtures" / "libreoffice-objects.xlsx"
#: Parts the annotated copy may rewrite: marked sheets and their relationships, the styles, the
#: comments and the legacy drawing that shows them, and the entries that add the results sheet.
REWRITABLE = re.compile(
    r"\[Content_Types\]\.xml|xl/workbook\.xml|xl/_rels/workbook\.xml\.rels|xl/styles\.xml"
    r"|xl/worksheets/sheet\d+\.xml|xl/worksheets/_rels/sheet\d+\.xml\.rels"
    r"|xl/comments\d*\.xml|xl/drawings/vmlDrawing\d+\.vml|docProps/app\.xml"
)

#: The batch size the memory goal is set at.
MEMORY_GOAL_COUNT = 10_000


@dataclass(frozen=True)
class Row:
    measure: str
    measured: str
    goal: str
    met: bool


def ratio_row(measure: str, figure: float, limit: float, detail: str = "") -> Row:
    return Row(measure, f"{figure:.2f}{detail}", f"≤ {limit:g}", figure <= limit)


def single_verify_rows(runs: int, scratch: Path) -> list[Row]:
    seconds = bench_speed.measure(runs, scratch)
    bench_speed.report(seconds, runs)
    median = {label: statistics.median(values) for label, values in seconds.items()}

    def over(numerator: str, denominator: str) -> float:
        return median[numerator] / median[denominator]

    def ms(label: str) -> str:
        return f"{median[label] * 1000:.0f} ms"

    copy, bare, friction = (
        "verify (annotated copy)",
        "verify --no-annotate",
        "frictionless validate",
    )
    return [
        ratio_row(
            "`xlcheck verify` one workbook (copy included) ÷ `frictionless validate` of one sheet",
            over(copy, friction),
            0.25,
            f" ({ms(copy)} ÷ {ms(friction)})",
        ),
        ratio_row(
            "  the same, `--no-annotate`",
            over(bare, friction),
            0.25,
            f" ({ms(bare)} ÷ {ms(friction)})",
        ),
        ratio_row(
            "`xlcheck verify` (copy included) ÷ a bare python process reading every cell with"
            " python-calamine",
            over(copy, "calamine read"),
            5,
            f" ({ms(copy)} ÷ {ms('calamine read')})",
        ),
        ratio_row(
            "  the same, `--no-annotate`",
            over(bare, "calamine read"),
            5,
            f" ({ms(bare)} ÷ {ms('calamine read')})",
        ),
        ratio_row(
            "`xlcheck --help` ÷ `python -c pass`",
            over("xlcheck --help", "python -c pass"),
            3,
            f" ({ms('xlcheck --help')} ÷ {ms('python -c pass')})",
        ),
        Row(
            "workbook with an extra sheet of 200,000 unrelated cells (copy included)",
            f"{median['200k cells (annotated copy)']:.2f} s"
            f" (`--no-annotate` {median['200k cells --no-annotate']:.2f} s)",
            "≤ 1 s",
            max(median["200k cells (annotated copy)"], median["200k cells --no-annotate"]) <= 1,
        ),
    ]


def raw_parts(path: Path) -> dict[str, tuple[int, int, bytes]]:
    """Entry name → (compression, CRC-32, compressed bytes as stored in the file)."""
    data = path.read_bytes()
    parts = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            # The local header: 30 bytes, then the name and extra field, then the data.
            name_length = int.from_bytes(
                data[info.header_offset + 26 : info.header_offset + 28], "little"
            )
            extra_length = int.from_bytes(
                data[info.header_offset + 28 : info.header_offset + 30], "little"
            )
            start = info.header_offset + 30 + name_length + extra_length
            stored = data[start : start + info.compress_size]
            parts[info.filename] = (info.compress_type, info.CRC, stored)
    return parts


def annotated_copies(scratch: Path) -> list[tuple[Path, Path]]:
    """(input, annotated copy): the LibreOffice package and the example.

    The LibreOffice package was filled in an older version of the template, which ``verify``
    rightly refuses, so its copy gets findings placed by hand (as the annotator's tests do) on
    cells of three sheets, one beside the unit's own comment; the example goes through ``verify``.
    """
    sys.path.insert(0, str(ROOT))
    from tests.annotated_copies import annotate, finding

    findings = [
        finding("基本信息", "B5", sheet_index=0),
        finding("基本信息", "D6", sheet_index=0),
        finding("数据表", "B30", sheet_index=1),
        finding("评分表", "F25", sheet_index=3),
    ]
    libreoffice = annotate(LIBREOFFICE_PACKAGE, findings, scratch / "libreoffice-annotated.xlsx")
    example = bench_speed.example_workbook(scratch)
    copy = scratch / "example-annotated.xlsx"
    subprocess.run(
        [*bench_speed.xlcheck_argv(), "verify", str(example), "-o", str(copy), "--force"],
        capture_output=True,
        check=False,
    )
    return [(LIBREOFFICE_PACKAGE, libreoffice), (example, copy)]


def untouched_parts_row(scratch: Path) -> Row:
    """The parts of each input the annotated copy has no reason to rewrite, compared raw."""
    kept = total = 0
    differing: list[str] = []
    for source, copy in annotated_copies(scratch):
        before, after = raw_parts(source), raw_parts(copy)
        for name, stored in before.items():
            if REWRITABLE.fullmatch(name):
                continue
            total += 1
            if after.get(name) == stored:
                kept += 1
            else:
                differing.append(f"{source.name}:{name}")
        rewritten = sorted(
            n for n in before if REWRITABLE.fullmatch(n) and after.get(n) != before[n]
        )
        print(
            f"{source.name}: {len(before)} parts; rewritten for the marks: {', '.join(rewritten)}"
        )
    if differing:
        print("parts not kept byte for byte:", ", ".join(differing))
    return Row(
        "untouched parts of the input (charts, pictures, shapes) in the annotated copy"
        f" ({LIBREOFFICE_PACKAGE.name} and the example)",
        f"{kept} of {total} byte for byte",
        "byte for byte",
        kept == total,
    )


def batch_rows(
    scratch: Path, jobs: int, rate_count: int, batch_runs: int, sizes: Sequence[int]
) -> list[Row]:
    workbooks = scratch / "workbooks"
    seconds = bench_batch.generate(workbooks, max([*sizes, rate_count]), 60, jobs)
    print(f"\n{max([*sizes, rate_count])} workbooks ready in {seconds:.1f} s")
    rate_set = bench_batch.subset(workbooks, scratch / "rate-set", rate_count)
    batch_times, bare_times = [], []
    for _ in range(batch_runs):  # alternated, so drift in machine load hits both alike
        bare_times.append(bench_batch.calamine_seconds(rate_set)[0])
        batch = bench_batch.run_batch(rate_set, scratch / "rate-out", jobs, None)
        if batch["count"] != rate_count:
            raise RuntimeError(f"the batch reported {batch['count']} of {rate_count} workbooks")
        batch_times.append(batch["seconds"])
        print(
            f"batch of {rate_count}: {batch['seconds']:.2f} s, calamine read"
            f" {bare_times[-1]:.2f} s, load {os.getloadavg()[0]:.2f}"
        )
    per_batch = statistics.median(batch_times) / rate_count
    per_bare = statistics.median(bare_times) / rate_count
    rate = 1 / per_batch
    slowdown = bench_batch.parallel_slowdown(rate_set, jobs)
    print(f"{jobs} calamine reads at once each take {slowdown:.2f}× the time of one alone")
    rows = [
        ratio_row(
            f"batch of {rate_count} (copies + summary, `-j {jobs}`): per-workbook time ÷ the"
            " calamine read of the same files in one process",
            per_batch / per_bare,
            10,
            f" ({per_batch * 1000:.1f} ÷ {per_bare * 1000:.2f} ms)",
        ),
        Row(
            "  its rate (goal on 2 idle cores)",
            f"{rate:.0f} workbooks/s (runs: {', '.join(f'{rate_count / t:.0f}' for t in batch_times)};"
            f" on this machine {jobs} processes at once each take {slowdown:.2f}× the time of one"
            " alone)",
            "≥ 100 workbooks/s",
            rate >= 100,
        ),
    ]
    memory = []
    for size in sizes:
        folder = bench_batch.subset(workbooks, scratch / f"set-{size}", size)
        figure = bench_batch.run_batch(folder, scratch / f"out-{size}", jobs, None)
        memory.append((figure["count"], figure["parent_mb"]))
        print(
            f"batch of {figure['count']}: {figure['seconds']:.1f} s, parent peak"
            f" {figure['parent_mb']:.1f} MB, largest worker {figure['worker_mb']:.1f} MB RSS,"
            f" load {os.getloadavg()[0]:.2f}"
        )
        shutil.rmtree(folder)
        shutil.rmtree(scratch / f"out-{size}", ignore_errors=True)
    if memory:
        (first, first_mb), (last, last_mb) = memory[0], memory[-1]
        growth = (last_mb - first_mb) * 1024 / (last - first) if last > first else 0.0
        # The goal is set at 10,000 workbooks: a shorter run is judged by its growth carried on
        # to 10,000, and says so.
        at_goal = last_mb + growth / 1024 * max(0, MEMORY_GOAL_COUNT - last)
        projected = (
            f"; carried on to {MEMORY_GOAL_COUNT:,}: {at_goal:.0f} MB"
            if last < MEMORY_GOAL_COUNT
            else ""
        )
        rows.append(
            Row(
                "parent process memory over a batch",
                " · ".join(f"{count:,} → {mb:.0f} MB" for count, mb in memory)
                + f" ({growth:.1f} KB per workbook{projected})",
                f"flat: < 100 MB at {MEMORY_GOAL_COUNT:,}",
                at_goal < 100,
            )
        )
    return rows


def print_table(rows: Sequence[Row]) -> None:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at the end: {load} (1, 5, 15 min), {os.cpu_count()} CPUs\n")
    print("| measure | measured | goal | verdict |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row.measure} | {row.measured} | {row.goal} | {'PASS' if row.met else 'FAIL'} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per single command")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of the batches")
    parser.add_argument("--rate-count", type=int, default=300, help="workbooks in the rate batch")
    parser.add_argument("--batch-runs", type=int, default=3, help="rate batches, alternated")
    parser.add_argument(
        "--sizes", default="1000,3000,10000", help="batch sizes for memory ('' for none)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep workbooks and outputs here")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.batch_runs < 1:
        parser.error("--runs and --batch-runs must be at least 1")
    sizes = sorted(int(size) for size in args.sizes.split(",") if size)
    # Every child writes .pyc files, as an installed xlcheck has them (see bench_speed.py).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="xlcheck-bench-"))
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        single = scratch / "single"
        single.mkdir(exist_ok=True)
        rows = single_verify_rows(args.runs, single)
        rows.append(untouched_parts_row(single))
        rows[5:5] = batch_rows(scratch, args.jobs, args.rate_count, args.batch_runs, sizes)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print_table(rows)
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
