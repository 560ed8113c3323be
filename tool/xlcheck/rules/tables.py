"""Table rows: every row in use is complete."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from xlcheck.findings import Finding, Severity
from xlcheck.layout import Layout
from xlcheck.layout.table import TableBlock, TableLayout
from xlcheck.records import record
from xlcheck.rules.registry import RuleContext, make_finding, rule

E, W = Severity.ERROR, Severity.WARNING

ROW_INCOMPLETE = rule(
    "row-incomplete",
    E,
    "明细行不完整",
    "Incomplete row",
    "表格中已填写的一行缺少必填的列（如有项目名称但没有实际支出）。",
    "第 {row} 行已填写，但“{column}”为空",
    "Row {row} is in use but '{column}' is empty",
)


@record
class _TableRow:
    """One row of a table: its number, its input cells and those of them a row in use needs."""

    row: int
    inputs: tuple[str, ...]
    required: tuple[str, ...]


@functools.lru_cache(maxsize=16)
def _table_rows(layout: Layout) -> tuple[_TableRow, ...]:
    """Every row of every table, in sheet, block and row order: the same for every workbook of
    a layout (which hashes by identity), so its keys are made once, not per workbook."""
    found = []
    for sheet in layout.sheets:
        for block in sheet.blocks:
            if not isinstance(block, TableLayout) or not isinstance(block.spec, TableBlock):
                continue
            table = (block.fields[0].table if block.fields else block.spec.key) or block.spec.key
            columns = [c.key for c in block.spec.columns if c.derive is None]
            required = [c for c in block.spec.row_required if c in columns]
            for row in range(1, block.capacity + 1):
                found.append(
                    _TableRow(
                        row,
                        tuple(f"{table}[{row}].{column}" for column in columns),
                        tuple(f"{table}[{row}].{column}" for column in required),
                    )
                )
    return tuple(found)


def check(context: RuleContext) -> Iterator[Finding]:
    values = context.values
    for table_row in _table_rows(context.layout):
        if not any(values.get(key) not in (None, "") for key in table_row.inputs):
            continue
        for key in table_row.required:
            if (
                key in context.workbook.cells
                and values.get(key) in (None, "")
                and context.cells[key].problem is None
            ):
                placed = context.layout.by_key[key]
                yield make_finding(
                    ROW_INCOMPLETE, placed, row=table_row.row, column=placed.spec.label
                )
