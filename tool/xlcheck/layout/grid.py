"""The ``grid`` kind: named rows × named columns, e.g. the 资金 block of the 项目支出绩效自评表 (rows
年度资金总额 / 其中：当年财政拨款 / 上年结转资金 / 其他资金, columns 年初预算数 … 得分).

A row may be the total of others and stand above them (其中 rows below it); each cell is an input,
a derivation (the column's, or the row's own) or not applicable (greyed). Rows are recognised in an
edited workbook by their labels, in order, below the header row.
"""

from __future__ import annotations

from dataclasses import replace

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView, fit_from_rows, move_rows
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.layout.row_heights import text_width
from xlcheck.records import record
from xlcheck.spec.model import NUMERIC_TYPES, BlockSpec, Derivation, FieldSpec
from xlcheck.spec.nodes import (
    SpecNode,
    column_span,
    derivation,
    field,
    flag,
    key,
    keys,
    text,
)

#: What a cell that does not apply shows, greyed (the national form prints a dash).
NOT_APPLICABLE_TEXT = "—"
_WIDTHS = {"amount": 12.0, "percent": 9.0, "score": 7.0, "integer": 9.0, "text": 16.0}


@record
class GridColumn:
    field: FieldSpec
    header: str
    span: int = 1
    #: The rows that have this column's cell; empty: every row (the others are greyed).
    rows: tuple[str, ...] = ()
    role: str | None = None


@record
class CellOverride:
    """What one row says about one of its cells, over the column's declaration."""

    not_applicable: bool = False
    #: An input even where the column (or the row's total_of) would derive it.
    is_input: bool = False
    derive: Derivation | None = None
    role: str | None = None
    required: bool | None = None
    help: str | None = None


@record
class GridRow:
    key: str
    label: str
    #: The rows this row adds up (column by column, where the column derives nothing itself).
    total_of: tuple[str, ...] = ()
    cells: tuple[tuple[str, CellOverride], ...] = ()

    def override(self, column: str) -> CellOverride | None:
        return dict(self.cells).get(column)


@record
class GridBlock(BlockSpec):
    key: str = ""
    #: The label path's segment for the block's cells (资金).
    label: str = ""
    #: Text in the first column beside the whole block (项目资金（万元）); none when empty.
    side: str = ""
    #: The header above the row labels.
    corner: str = ""
    label_span: int = 1
    columns: tuple[GridColumn, ...] = ()
    rows: tuple[GridRow, ...] = ()


def _column(node: SpecNode) -> GridColumn:
    spec = field(node, key_name="column", extra=frozenset({"span", "rows", "role", "header"}))
    return GridColumn(
        spec,
        node.get("header", text, spec.label),
        node.get("span", column_span, 1),
        node.get("rows", keys, ()),
        node.get("role", text, None),
    )


def _override(node: SpecNode) -> CellOverride:
    if node.value in ("not_applicable", "input"):
        return CellOverride(
            not_applicable=node.value == "not_applicable", is_input=node.value == "input"
        )
    if not isinstance(node.value, dict):
        raise node.fail("应为 not_applicable、input，或含 derive/role/required/help 的键值表")
    node.mapping({"derive", "role", "required", "help"})
    return CellOverride(
        derive=node.get("derive", derivation, None),
        role=node.get("role", text, None),
        required=node.get("required", flag, None),
        help=node.get("help", text, None),
    )


def _row(node: SpecNode, columns: set[str]) -> GridRow:
    node.mapping({"key", "label", "total_of", "cells"})
    cells: list[tuple[str, CellOverride]] = []
    overrides = node.child("cells")
    if overrides.value is not None:
        if not isinstance(overrides.value, dict):
            raise overrides.fail("应为键值表：列键 → not_applicable、input 或 {derive: …}")
        for column in overrides.value:
            if column not in columns:
                raise overrides.child(str(column)).fail(f"表中没有列 {column!r}")
            cells.append((str(column), _override(overrides.child(str(column)))))
    return GridRow(
        node.need("key", key),
        node.need("label", text),
        node.get("total_of", keys, ()),
        tuple(cells),
    )


class GridKind:
    name = "grid"
    spec_keys = frozenset({"key", "label", "side", "corner", "label_span", "columns", "rows"})

    def parse(self, node: SpecNode) -> GridBlock:
        columns = tuple(_column(c) for c in node.need("columns", lambda n: n.items()))
        names = {c.field.key for c in columns}
        if len(names) != len(columns):
            raise node.child("columns").fail("列键重复")
        rows = tuple(_row(r, names) for r in node.need("rows", lambda n: n.items()))
        row_keys = {r.key for r in rows}
        if len(row_keys) != len(rows):
            raise node.child("rows").fail("行键重复")
        for index, row in enumerate(rows):
            for part in row.total_of:
                if part not in row_keys or part == row.key:
                    raise (
                        node.child("rows")
                        .child(index)
                        .child("total_of")
                        .fail(f"没有可加总的行 {part!r}")
                    )
        for index, column in enumerate(columns):
            for listed in column.rows:
                if listed not in row_keys:
                    raise (
                        node.child("columns").child(index).child("rows").fail(f"没有行 {listed!r}")
                    )
        return GridBlock(
            self.name,
            node.get("title", text, ""),
            key=node.need("key", key),
            label=node.get("label", text, ""),
            side=node.get("side", text, ""),
            corner=node.get("corner", text, ""),
            label_span=node.get("label_span", column_span, 1),
            columns=columns,
            rows=rows,
        )

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> BlockLayout:
        assert isinstance(block, GridBlock)
        header_row = frame.first_row
        label_column = 2 if block.side else 1
        cells: list[FixedCell] = []
        widths: dict[int, float] = {}
        if block.side:
            cells.append(FixedCell(header_row, 1, block.side, "label", rows=len(block.rows) + 1))
            widths[1] = 10.0
        cells.append(FixedCell(header_row, label_column, block.corner, "header", block.label_span))
        if block.label_span == 1:
            widths[label_column] = max(text_width(r.label) + 1 for r in block.rows)
        column_numbers: dict[str, int] = {}
        number = label_column + block.label_span
        for column in block.columns:
            column_numbers[column.field.key] = number
            cells.append(FixedCell(header_row, number, column.header, "header", column.span))
            if column.span == 1:
                widths[number] = _WIDTHS.get(column.field.value_type, 10.0)
            number += column.span
        present = {
            (row.key, column.field.key)
            for row in block.rows
            for column in block.columns
            if _applies(row, column)
        }
        fields: list[PlacedField] = []
        for offset, row in enumerate(block.rows, 1):
            row_number = header_row + offset
            cells.append(FixedCell(row_number, label_column, row.label, "label", block.label_span))
            for column in block.columns:
                at = column_numbers[column.field.key]
                if (row.key, column.field.key) not in present:
                    cells.append(
                        FixedCell(
                            row_number, at, NOT_APPLICABLE_TEXT, "not_applicable", column.span
                        )
                    )
                    continue
                fields.append(_cell(block, frame, row, column, present, row_number, at))
        last = max(widths, default=0)
        laid = BlockLayout(
            self.name,
            block,
            0,
            header_row,
            header_row + len(block.rows),
            tuple(fields),
            tuple(cells),
            tuple(widths.get(c, 0.0) for c in range(1, last + 1)),
            header_rows=(header_row, header_row),
        )
        return move_rows(laid, placement) if placement is not None else laid

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        """The header row by its headers, then each row by its label, in order."""
        assert isinstance(laid.spec, GridBlock)
        header_cells = [c for c in laid.cells if c.row_number == laid.first_row and c.text]
        header_row = view.find_cells([(c.column_number, c.text) for c in header_cells], start_row)
        if header_row is None:
            first = header_cells[0]
            return Misfit(first.row_number, first.column_number, first.text)
        rows = {laid.first_row: header_row}
        cursor = header_row + 1
        labels = [c for c in laid.cells if c.style == "label" and c.row_number > laid.first_row]
        for cell in labels:
            found = view.find_cells([(cell.column_number, cell.text)], cursor)
            if found is None:
                return Misfit(cell.row_number, cell.column_number, cell.text)
            rows[cell.row_number] = found
            cursor = found + 1
        return fit_from_rows(laid, view, rows, {laid.first_row} | {c.row_number for c in labels})


def _applies(row: GridRow, column: GridColumn) -> bool:
    override = row.override(column.field.key)
    if override is not None:
        return not override.not_applicable
    return not column.rows or row.key in column.rows


def _cell(
    block: GridBlock,
    frame: Frame,
    row: GridRow,
    column: GridColumn,
    present: set[tuple[str, str]],
    row_number: int,
    column_number: int,
) -> PlacedField:
    """One cell's field: the column's declaration, the row's total or override, keys resolved."""
    override = row.override(column.field.key) or CellOverride()
    spec = column.field
    derive = spec.derive
    if override.derive is not None:
        derive = override.derive
    elif override.is_input:
        derive = None
    elif derive is None and row.total_of and spec.value_type in NUMERIC_TYPES:
        parts = [p for p in row.total_of if (p, spec.key) in present]
        derive = Derivation("sum", tuple(f"{p}.{spec.key}" for p in parts)) if parts else None
    key = frame.key(cell_key(block.key, row.key, spec.key))
    local = {c.field.key: cell_key(block.key, row.key, c.field.key) for c in block.columns}
    local.update(
        {f"{r}.{c}": cell_key(block.key, r, c) for r, c in present}  # another row's cell
    )
    resolved = frame.derivation(derive.with_keys(local)) if derive is not None else None
    required = override.required if override.required is not None else spec.required
    role = override.role or column.role
    weight = _constant_weight(block, row, present) if role == "score" else None
    return PlacedField(
        key,
        replace(
            spec,
            derive=resolved,
            required=required and resolved is None,
            help=override.help if override.help is not None else spec.help,
        ),
        frame.sheet,
        frame.sheet_index,
        row_number,
        column_number,
        "/".join(p for p in (frame.sheet, block.label, row.label, spec.label) if p),
        group=frame.key(f"{block.key}.{row.key}"),
        role=role,
        weight=weight,
        columns=column.span,
        emphasis=bool(row.total_of),
    )


def _constant_weight(block: GridBlock, row: GridRow, present: set[tuple[str, str]]) -> float | None:
    """The row's weight (分值) when a weight cell of the row holds a constant."""
    for column in block.columns:
        override = row.override(column.field.key)
        role = (override.role if override else None) or column.role
        derive = (override.derive if override else None) or column.field.derive
        if (
            role == "weight"
            and (row.key, column.field.key) in present
            and derive is not None
            and derive.verb == "constant"
            and isinstance(derive.constant, int | float)
        ):
            return float(derive.constant)
    return None


def cell_key(grid: str, row: str, column: str) -> str:
    """The field key of one grid cell: ``funds.total.executed``."""
    return f"{grid}.{row}.{column}"


register(GridKind())
