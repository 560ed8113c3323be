"""Every value of every verified workbook as one tidy table (CSV, .xlsx or Parquet) for pandas.

pandas writes the table (it is already a dependency, for recompute); Parquet needs pyarrow,
an optional extra (``pip install 'xlcheck[parquet]'``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from xlcheck.cell_values import safe_text
from xlcheck.errors import XlcheckError
from xlcheck.findings import VerificationResult
from xlcheck.layout import Layout, lay_out
from xlcheck.output_files import check_output_path, write_output
from xlcheck.spec_loading import load_spec

#: Columns of the tidy table. ``value`` holds numbers; ``text`` holds text, dates and grades, so
#: each column has one type (Parquet needs that, and pandas sums ``value`` without casting).
COLUMNS = (
    "file",
    "unit",
    "year",
    "template",
    "sheet",
    "cell",
    "key",
    "label",
    "kind",
    "value",
    "text",
    "unit_of_measure",
    "status",
)
FORMATS = ("csv", "xlsx", "parquet")


class ValueRows:
    """The tidy table's rows, added one verified workbook at a time (results are not kept).

    Args:
        template: the spec the workbooks were verified against, when given with ``-t``.
    """

    def __init__(self, template: str | Path | None = None) -> None:
        self.template = template
        self.rows: list[dict[str, Any]] = []
        self._layouts: dict[str, Layout] = {}

    def add(self, result: VerificationResult) -> None:
        """One row per field of a verified workbook; an unreadable workbook gives none."""
        if result.template is None or not result.all_values:
            return
        layout = self._layouts.get(result.template.id)
        if layout is None:
            layout = self._layouts[result.template.id] = lay_out(
                load_spec(self.template or result.template.id)
            )
        base = {
            "file": str(result.path),
            "unit": result.values.get("unit"),
            "year": result.values.get("year"),
            "template": f"{result.template.id} {result.template.version}",
            "status": result.status,
        }
        for placed in layout.fields:
            value = result.all_values.get(placed.key)
            number = (
                value if isinstance(value, int | float) and not isinstance(value, bool) else None
            )
            self.rows.append(
                {
                    **base,
                    "sheet": placed.sheet,
                    "cell": placed.cell_ref,
                    "key": placed.key,
                    "label": placed.label_path,
                    "kind": "input" if placed.is_input else "derived",
                    "value": None if number is None else float(number),
                    "text": None if number is not None or value is None else str(value),
                    "unit_of_measure": placed.spec.unit,
                }
            )


def collect_rows(
    results: Iterable[VerificationResult], template: str | Path | None = None
) -> list[dict[str, Any]]:
    """One row per field per verified workbook; unreadable workbooks give no rows.

    Args:
        template: the spec the workbooks were verified against, when given with ``-t``.
    """
    table = ValueRows(template)
    for result in results:
        table.add(result)
    return table.rows


def collect_format(path: Path, requested: str | None) -> str:
    """The format asked for, else the one the file name's suffix names.

    Raises:
        XlcheckError: neither names one of csv, xlsx, parquet; or Parquet without pyarrow.
    """
    chosen = requested or path.suffix.lower().lstrip(".")
    if chosen not in FORMATS:
        raise XlcheckError(
            f"无法从 {path.name} 判断输出格式",
            message_en=f"cannot tell the output format from {path.name}",
            hint="输出文件请用 .csv、.xlsx 或 .parquet 结尾，或用 --format 指定。",
            hint_en="End the output name in .csv, .xlsx or .parquet, or pass --format.",
        )
    if chosen == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise XlcheckError(
            "写 Parquet 需要 pyarrow，但没有安装",
            message_en="writing Parquet needs pyarrow, which is not installed",
            hint="pip install 'xlcheck[parquet]'，或改用 .csv / .xlsx。",
            hint_en="pip install 'xlcheck[parquet]', or write .csv / .xlsx instead.",
        )
    return chosen


def write_values(
    rows: list[dict[str, Any]],
    out: Path,
    *,
    output_format: str | None = None,
    force: bool = False,
    inputs: Collection[Path] = (),
) -> Path:
    """Write the tidy table.

    Args:
        inputs: the files the values came from, which the table must never overwrite.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is false.
        OutputRefusedError: ``out`` is an input, a symlink or not a regular file.
        XlcheckError: an unknown format, pyarrow missing for Parquet, or the file cannot be written.
    """
    chosen = collect_format(out, output_format)
    check_output_path(out, force=force, inputs=inputs)
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["year"] = frame["year"].astype("Int64")

    def write(stream: BinaryIO) -> None:
        if chosen in ("csv", "xlsx"):
            # Text copied from the units' workbooks must not run as a formula where it lands
            # (openpyxl writes "=…" text as a formula; a spreadsheet opening the CSV runs it).
            sheet_safe = frame.map(safe_text)
            if chosen == "csv":
                sheet_safe.to_csv(stream, index=False, encoding="utf-8-sig")  # -sig: Excel reads it
            else:
                sheet_safe.to_excel(stream, index=False, sheet_name="values", engine="openpyxl")
        else:
            frame.to_parquet(stream, index=False)

    try:
        write_output(out, write, force=force, inputs=inputs)
    except OSError as exc:
        raise XlcheckError(
            f"无法写入 {out}（{exc.strerror or exc}）",
            message_en=f"cannot write {out} ({exc.strerror or exc})",
        ) from exc
    return out
