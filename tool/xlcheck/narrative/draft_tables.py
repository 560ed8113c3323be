"""The tables of a draft: the 评分表's parts, a table's filled rows with its 合计, a grid block
(the 资金 block's rows × columns) — each with the headers ``report check`` reads them back by."""

from __future__ import annotations

from xlcheck.narrative.drafting import DraftTable, Filler
from xlcheck.narrative.outline_model import Binding, Block


def draft_table(filler: Filler, block: Block, binding: Binding) -> DraftTable:
    """The table a ``table:`` block names, for the instance ``binding`` is inside of."""
    table = str(block.table)
    if table == "scoring":
        return _scoring(filler)
    if table in filler.grids:
        return _grid(filler, block, binding)
    return _rows(filler, block, binding)


def _scoring(filler: Filler) -> DraftTable:
    rows = []
    none = Binding()
    for part in filler.scoring.parts if filler.scoring else ():
        rows.append(
            (
                part.name,
                filler.reference(f"subtotal_weight.{part.key}", none).text,
                filler.reference(f"subtotal.{part.key}", none).text,
            )
        )
    rows.append(
        (
            "总分",
            filler.reference("total_weight", none).text,
            filler.reference("total_score", none).text,
        )
    )
    return DraftTable(("一级指标", "分值", "自评得分"), tuple(rows))


def _rows(filler: Filler, block: Block, binding: Binding) -> DraftTable:
    table = str(block.table)
    sheet = filler.tables[table]
    prefix = binding.instance.prefix if binding.instance else ""
    columns = [c for c in sheet.columns if not block.columns or c.key in block.columns]
    if block.columns:
        columns.sort(key=lambda c: block.columns.index(c.key))
    header = ("序号", *(c.label + (f"（{c.unit}）" if c.unit else "") for c in columns))
    # 序号 is the row's number in the workbook's table, so a check can find the row again.
    body = [
        (str(row), *(filler.cell(f"{prefix}{table}[{row}].{c.key}") for c in columns))
        for row in filler.filled_rows(table, binding)
    ]
    totals = [c for c in columns if f"{prefix}{table}.total.{c.key}" in filler.layout.by_key]
    if totals:
        body.append(
            (
                "合计",
                *(
                    filler.cell(f"{prefix}{table}.total.{c.key}") if c in totals else ""
                    for c in columns
                ),
            )
        )
    return DraftTable(header, tuple(body))


def _grid(filler: Filler, block: Block, binding: Binding) -> DraftTable:
    """A grid block as printed (row labels × column headers with their unit); a row with no
    value in the columns shown is left out, a cell the grid does not have is a dash."""
    grid = filler.grids[str(block.table)]
    prefix = binding.instance.prefix if binding.instance else ""
    columns = [c for c in grid.columns if not block.columns or c.field.key in block.columns]
    if block.columns:
        columns.sort(key=lambda c: block.columns.index(c.field.key))
    header = (
        grid.corner or grid.label,
        *(c.header + (f"（{c.field.unit}）" if c.field.unit else "") for c in columns),
    )
    body = []
    for row in grid.rows:
        keys = [f"{prefix}{grid.key}.{row.key}.{c.field.key}" for c in columns]
        cells = [filler.cell(k) if k in filler.layout.by_key else "—" for k in keys]
        if any(cell not in ("", "—") for cell in cells):
            body.append((row.label, *cells))
    return DraftTable(header, tuple(body))
