"""Table rows: every row in use is complete."""

from __future__ import annotations

from collections.abc import Iterator

from xlcheck.findings import Finding, Severity
from xlcheck.layout.table import TableBlock, TableLayout
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


def check(context: RuleContext) -> Iterator[Finding]:
    for sheet in context.layout.sheets:
        for block in sheet.blocks:
            if not isinstance(block, TableLayout) or not isinstance(block.spec, TableBlock):
                continue
            table = block.fields[0].table if block.fields else block.spec.key
            yield from _rows(context, block, table or block.spec.key)


def _rows(context: RuleContext, block: TableLayout, table: str) -> Iterator[Finding]:
    spec = block.spec
    assert isinstance(spec, TableBlock)
    inputs = [c.key for c in spec.columns if c.derive is None]
    for row in range(1, block.capacity + 1):
        keys = {column: f"{table}[{row}].{column}" for column in inputs}
        if not any(context.values.get(key) not in (None, "") for key in keys.values()):
            continue
        for column in spec.row_required:
            key = keys.get(column)
            if (
                key
                and key in context.workbook.cells
                and context.values.get(key) in (None, "")
                and context.cells[key].problem is None
            ):
                placed = context.layout.by_key[key]
                yield make_finding(ROW_INCOMPLETE, placed, row=row, column=placed.spec.label)
