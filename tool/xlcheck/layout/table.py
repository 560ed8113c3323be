"""The ``table`` kind: a list of rows (projects) with per-row derived columns and a 合计 row.

In an edited workbook the table is found by its header row and its 合计 row, and moves as a
block: grown or shrunk to the rows the unit left between them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from xlcheck.formula_text import normalise_formula
from xlcheck.layout.fitting import BlockFit, Misfit, PlacementNote, SheetView
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.layout.row_heights import text_width
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, Derivation, FieldSpec
from xlcheck.spec.nodes import SpecNode, field, flag, integer_in, key, keys, text

#: A 合计 cell's formula: ``SUM(C4:C23)``, or blank until a row is filled
#: (``IF(COUNT(C4:C23)=0,"",SUM(C4:C23))``); the SUM's rows are the rows it adds up.
_SUM_RANGE = re.compile(
    r'^(?:IF\(COUNT\([A-Z]{1,3}\d+:[A-Z]{1,3}\d+\)=0,"",)?'
    r"SUM\([A-Z]{1,3}(\d+):[A-Z]{1,3}(\d+)\)\)?$"
)


@record
class TableBlock(BlockSpec):
    key: str = ""
    capacity: int = 1
    columns: tuple[FieldSpec, ...] = ()
    #: Columns summed in the 合计 row; no 合计 row when empty and no ratio column needs one.
    totals: tuple[str, ...] = ()
    #: Columns that must be filled in every row that is used at all.
    row_required: tuple[str, ...] = ()
    #: A first column 序号 numbering the rows.
    numbered: bool = True
    total_label: str = "合计"

    @property
    def has_total_row(self) -> bool:
        return bool(self.totals)


@record
class TableLayout(BlockLayout):
    """A table block with the rows its relocation and rules need."""

    body_row: int = 0
    capacity: int = 0
    #: The 合计 row, or None when the table has none.
    total_row: int | None = None
    #: Table rows (first, last) the 合计 row adds up, when not all of them.
    summed: tuple[int, int] | None = None

    @property
    def added_rows(self) -> int:
        """How many rows a unit inserted into the table (0 when it has the template's size)."""
        assert isinstance(self.spec, TableBlock)
        return max(self.capacity - self.spec.capacity, 0)


def row_key(table: str, row: int, column: str) -> str:
    return f"{table}[{row}].{column}"


def total_key(table: str, column: str) -> str:
    return f"{table}.total.{column}"


class TableKind:
    name = "table"
    spec_keys = frozenset(
        {"key", "capacity", "columns", "totals", "row_required", "numbered", "total_label"}
    )

    def parse(self, node: SpecNode) -> TableBlock:
        columns = tuple(
            field(c, key_name="column") for c in node.need("columns", lambda n: n.items())
        )
        names = {c.key for c in columns}
        for listed in ("totals", "row_required"):
            for item in node.get(listed, lambda n: n.items(), []):
                if text(item) not in names:
                    raise item.fail(f"表中没有列 {item.value!r}")
        capacity = node.need("capacity", integer_in(1, 1000, subject="capacity "))
        return TableBlock(
            self.name,
            node.get("title", text, ""),
            key=node.need("key", key),
            capacity=capacity,
            columns=columns,
            totals=node.get("totals", keys, ()),
            row_required=node.get("row_required", keys, ()),
            numbered=node.get("numbered", flag, True),
            total_label=node.get("total_label", text, "合计"),
        )

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> TableLayout:
        assert isinstance(block, TableBlock)
        header_row = placement.first_row if placement and placement.first_row else frame.first_row
        capacity = placement.extent if placement and placement.extent else block.capacity
        first_summed, last_summed = (placement.summed if placement else None) or (1, capacity)
        offset = 2 if block.numbered else 1
        table = frame.key(block.key)
        headers = (["序号"] if block.numbered else []) + [
            c.label + (f"（{c.unit}）" if c.unit else "") for c in block.columns
        ]
        cells = [FixedCell(header_row, n, h, "header") for n, h in enumerate(headers, 1)]
        fields: list[PlacedField] = []
        body_row = header_row + 1
        for row in range(1, capacity + 1):
            row_number = body_row + row - 1
            if block.numbered:
                cells.append(FixedCell(row_number, 1, str(row), "label"))
            rename = {c.key: row_key(table, row, c.key) for c in block.columns}
            for column_offset, column in enumerate(block.columns):
                derive = column.derive.with_keys(rename) if column.derive else None
                fields.append(
                    PlacedField(
                        row_key(table, row, column.key),
                        replace(column, derive=derive, required=False),
                        frame.sheet,
                        frame.sheet_index,
                        row_number,
                        offset + column_offset,
                        f"{frame.sheet}/第{row}行/{column.label}",
                        table=table,
                        table_row=row,
                    )
                )
        total_row = body_row + capacity if block.has_total_row else None
        if total_row is not None:
            cells.append(FixedCell(total_row, 1, block.total_label, "total"))
            totals = {c.key: total_key(table, c.key) for c in block.columns}
            for column_offset, column in enumerate(block.columns):
                derive = _total_derivation(block, table, column, first_summed, last_summed, totals)
                if derive is None:
                    continue
                fields.append(
                    PlacedField(
                        total_key(table, column.key),
                        replace(column, derive=derive, required=False),
                        frame.sheet,
                        frame.sheet_index,
                        total_row,
                        offset + column_offset,
                        f"{frame.sheet}/{block.total_label}/{column.label}",
                        table=table,
                        table_row=0,
                        emphasis=True,
                    )
                )
        # Each column at least as wide as its header on one line (年初预算（万元）).
        widths = ([6.0] if block.numbered else []) + [
            max(
                36.0
                if c.value_type == "text" and i == 0
                else 14.0
                if c.value_type != "text"
                else 24.0,
                text_width(header) + 1.0,
            )
            for i, (c, header) in enumerate(zip(block.columns, headers[offset - 1 :], strict=True))
        ]
        return TableLayout(
            self.name,
            block,
            0,
            header_row,
            total_row if total_row is not None else body_row + capacity - 1,
            tuple(fields),
            tuple(cells),
            tuple(widths),
            header_rows=(header_row, header_row),
            frozen_columns=offset,
            landscape=True,
            body_row=body_row,
            capacity=capacity,
            total_row=total_row,
            summed=placement.summed if placement else None,
        )

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        """Find the table by its header row and its 合计 row (the rows between are its body)."""
        assert isinstance(laid, TableLayout) and isinstance(laid.spec, TableBlock)
        block = laid.spec
        headers = [c.text for c in laid.cells_by_style.get("header", ())]
        header_row = view.find_row(headers, start_row)
        if header_row is None:
            return Misfit(laid.first_row, 1, headers[0] if headers else "")
        if laid.total_row is None:
            placement = BlockPlacement(first_row=header_row, extent=laid.capacity)
            in_place = header_row == laid.first_row
            return BlockFit(placement, (), in_place, header_row + laid.capacity + 1)
        total_row = view.find_in_column(1, block.total_label, header_row + 1)
        if total_row is None or total_row == header_row + 1:
            return Misfit(laid.total_row, 1, block.total_label)
        first_row, capacity = header_row + 1, total_row - header_row - 1
        summed = _summed_rows(laid, view, first_row, total_row)
        notes: list[PlacementNote] = []
        if summed is not None:
            first_summed, last_summed = summed
            for table_row in range(1, capacity + 1):
                values = view.row(first_row + table_row - 1)
                if first_summed <= table_row <= last_summed or not any(values[1:]):
                    continue
                notes.append(
                    PlacementNote(
                        "row-outside-total",
                        view.name,
                        view.sheet_index,
                        field=row_key(
                            laid.fields[0].table or block.key, table_row, block.columns[0].key
                        ),
                        params={
                            "row_number": first_row + table_row - 1,
                            "first": first_row + first_summed - 1,
                            "last": first_row + last_summed - 1,
                        },
                    )
                )
        in_place = header_row == laid.first_row and capacity == block.capacity and summed is None
        placement = BlockPlacement(first_row=header_row, extent=capacity, summed=summed)
        return BlockFit(placement, tuple(notes), in_place, total_row + 1)


def _total_derivation(
    block: TableBlock,
    table: str,
    column: FieldSpec,
    first_summed: int,
    last_summed: int,
    totals: dict[str, str],
) -> Derivation | None:
    if column.key in block.totals:
        operands = tuple(
            row_key(table, r, column.key) for r in range(first_summed, last_summed + 1)
        )
        return Derivation("sum", operands)
    if column.derive is not None and column.derive.verb == "ratio":
        # A ratio column's total is the ratio of the totals, not a sum of ratios.
        return column.derive.with_keys(totals)
    return None


def _summed_rows(
    laid: TableLayout, view: SheetView, first_row: int, total_row: int
) -> tuple[int, int] | None:
    """The table rows (first, last) the 合计 row's first SUM adds up, when not all of them.

    Excel grows a SUM's range for rows inserted inside it, not for rows inserted just above the
    合计 row or just below the header: those projects are left out of the total.
    """
    assert isinstance(laid.spec, TableBlock)
    block = laid.spec
    if not block.totals:
        return None
    offset = 2 if block.numbered else 1
    column_number = offset + [c.key for c in block.columns].index(block.totals[0])
    formula = view.formula_at(view.name, total_row, column_number)
    match = _SUM_RANGE.match(normalise_formula(formula)) if formula else None
    if match is None:
        return None
    first = max(int(match.group(1)), first_row) - first_row + 1
    last = min(int(match.group(2)), total_row - 1) - first_row + 1
    capacity = total_row - first_row
    if first > last or (first, last) == (1, capacity):
        return None
    return first, last


register(TableKind())
