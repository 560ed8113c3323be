"""The batch summary (汇总表) written out: an .xlsx workbook, a CSV file or a JSON document.

The rows and findings are built by ``summary_rows``; shards are read back by ``summary_shards``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from xlcheck.cell_values import safe_text
from xlcheck.errors import XlcheckError
from xlcheck.exchange.summary_rows import (
    COLUMNS,
    FINDING_COLUMNS,
    STATUS_WORDS,
    Summary,
    build_summary,
    summary_format,
)
from xlcheck.output_files import write_output
from xlcheck.version import __version__

if TYPE_CHECKING:
    from xlcheck.exchange.summary_workbook import SummaryWorkbook

SUMMARY_KIND = "xlcheck-summary"
FORMATS = ("xlsx", "csv", "json")

__all__ = [
    "COLUMNS",
    "FINDING_COLUMNS",
    "FORMATS",
    "STATUS_WORDS",
    "SUMMARY_KIND",
    "Summary",
    "build_summary",
    "write_summary",
]


def _finite(value: Any) -> Any:
    """None for NaN and infinities, which JSON, CSV readers and Excel cannot take."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _write_csv(summary: Summary, stream: BinaryIO) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # -sig: Excel reads it
    writer = csv.DictWriter(text, fieldnames=list(COLUMNS))
    writer.writeheader()
    # Unit names and file names come from the units: never a formula in a spreadsheet.
    writer.writerows({k: safe_text(_finite(v)) for k, v in row.items()} for row in summary.rows)
    text.flush()
    text.detach()


def _write_json(summary: Summary, stream: BinaryIO) -> None:
    """The JSON document, findings streamed from the spool one by one."""

    def dump(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str).encode()

    head = {"xlcheck": __version__, "kind": SUMMARY_KIND}
    stream.write(dump(head)[:-1] + b', "workbooks": [')
    for number, row in enumerate(summary.rows):
        stream.write(
            (b",\n  " if number else b"\n  ") + dump({k: _finite(v) for k, v in row.items()})
        )
    stream.write(b'\n], "findings": [')
    for number, finding in enumerate(summary.findings):
        cleaned = {k: _finite(v) for k, v in finding.items()}
        stream.write((b",\n  " if number else b"\n  ") + dump(cleaned))
    stream.write(b"\n]}\n")


def begin_summary_workbook(
    path: Path, output_format: str | None = None, lang: str = "zh"
) -> SummaryWorkbook | None:
    """The summary workbook begun now, for a batch to write as it goes (``SummaryWorkbook``),
    when the summary is an .xlsx workbook; None for CSV and JSON."""
    if summary_format(path, output_format, FORMATS) != "xlsx":
        return None
    from xlcheck.exchange.summary_workbook import SummaryWorkbook

    return SummaryWorkbook(path, lang)


def write_summary(
    summary: Summary,
    path: Path,
    *,
    output_format: str | None = None,
    lang: str = "zh",
    force: bool = False,
    inputs: Collection[Path] = (),
    begun: SummaryWorkbook | None = None,
) -> Path:
    """Write the summary as an .xlsx workbook, a CSV file (rows only) or a JSON document.

    Args:
        inputs: the batch's input files, which the summary must never overwrite.
        begun: the summary workbook begun as the batch went (``begin_summary_workbook``), every
            finding of ``summary`` added to it; None writes the workbook from scratch.

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is false.
        OutputRefusedError: ``path`` is an input, a symlink or not a regular file.
        XlcheckError: the file cannot be written.
    """
    chosen = summary_format(path, output_format, FORMATS)
    try:
        if chosen == "xlsx" and begun is not None:
            workbook = begun
            write_output(
                path, lambda stream: workbook.write(summary, stream), force=force, inputs=inputs
            )
        elif chosen == "xlsx":
            from xlcheck.exchange.summary_workbook import write_summary_workbook

            write_output(
                path,
                lambda stream: write_summary_workbook(summary, stream, path, lang=lang),
                force=force,
                inputs=inputs,
            )
        elif chosen == "csv":
            write_output(
                path, lambda stream: _write_csv(summary, stream), force=force, inputs=inputs
            )
        else:
            write_output(
                path, lambda stream: _write_json(summary, stream), force=force, inputs=inputs
            )
    except OSError as exc:
        raise XlcheckError(
            f"无法写入汇总表 {path}（{exc.strerror or exc}）",
            message_en=f"cannot write the summary {path} ({exc.strerror or exc})",
        ) from exc
    return path
