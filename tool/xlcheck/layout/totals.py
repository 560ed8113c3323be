"""The ``totals`` kind: rows such as 总分 under a table, adding up the fields above them by role.

A cell with ``sums: score`` is the SUM of every field with role ``score`` in the blocks above on
the same sheet (the 资金 block's 得分 and every indicator row's), standing in their column. Rows are
recognised in an edited workbook by their label in the first column.
"""

from __future__ import annotations

from dataclasses import replace

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView, fit_from_rows, move_rows
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, Derivation, FieldSpec
from xlcheck.spec.nodes import SpecNode, field, integer_in, text


@record
class TotalCell:
    field: FieldSpec
    #: Add up the fields above with this role.
    sums: str | None = None
    #: Stand in the column of the fields above with this role (default: ``sums``).
    under: str | None = None
    #: Or in this column (1-based).
    column: int | None = None
    span: int = 1
    role: str | None = None


@record
class TotalRow:
    label: str
    label_span: int
    cells: tuple[TotalCell, ...]


@record
class TotalsBlock(BlockSpec):
    rows: tuple[TotalRow, ...] = ()


_positive = integer_in(1, 100)


def _cell(node: SpecNode) -> TotalCell:
    if not isinstance(node.value, dict):
        raise node.fail("应为键值表（mapping）")
    raw = dict(node.value)
    derive = raw.get("derive")
    if "type" not in raw:
        # A total is a score; a grade (derive: {grade: …}) is text until laid out with the bands.
        raw["type"] = "text" if isinstance(derive, dict) and "grade" in derive else "score"
    node = SpecNode(raw, node.path, node.source)
    spec = field(node, extra=frozenset({"sums", "under", "column", "span", "role"}))
    sums = node.get("sums", text, None)
    if (sums is None) == (spec.derive is None):
        raise node.fail("应给出 sums（加总上方某一角色的字段）或 derive，二者选一")
    return TotalCell(
        spec,
        sums,
        node.get("under", text, None),
        node.get("column", _positive, None),
        node.get("span", _positive, 1),
        node.get("role", text, None),
    )


def _row(node: SpecNode) -> TotalRow:
    node.mapping({"label", "label_span", "cells"})
    return TotalRow(
        node.need("label", text),
        node.get("label_span", _positive, 1),
        tuple(_cell(c) for c in node.need("cells", lambda n: n.items())),
    )


class TotalsKind:
    name = "totals"
    spec_keys = frozenset({"rows"})

    def parse(self, node: SpecNode) -> TotalsBlock:
        return TotalsBlock(
            self.name,
            node.get("title", text, ""),
            rows=tuple(_row(r) for r in node.need("rows", lambda n: n.items())),
        )

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> BlockLayout:
        assert isinstance(block, TotalsBlock)
        width = max((f.column_number + f.columns - 1 for f in frame.earlier), default=1)
        cells: list[FixedCell] = []
        fields: list[PlacedField] = []
        for offset, row in enumerate(block.rows):
            row_number = frame.first_row + offset
            cells.append(FixedCell(row_number, 1, row.label, "total", row.label_span))
            used = set(range(1, row.label_span + 1))
            for index, cell in enumerate(row.cells):
                column = cell.column or _column_of(frame, cell.under or cell.sums)
                column = column or row.label_span + 1 + index
                fields.append(_total_field(frame, row, cell, row_number, column))
                used.update(range(column, column + cell.span))
            cells.extend(
                FixedCell(row_number, c, "", "text")
                for c in range(1, max(width, *used) + 1)
                if c not in used
            )
        laid = BlockLayout(
            self.name,
            block,
            0,
            frame.first_row,
            frame.first_row + len(block.rows) - 1,
            tuple(fields),
            tuple(cells),
            (),
        )
        return move_rows(laid, placement) if placement is not None else laid

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        labels = [c for c in laid.cells if c.style == "total"]
        rows: dict[int, int] = {}
        cursor = start_row
        for cell in labels:
            found = view.find_cells([(1, cell.text)], cursor)
            if found is None:
                return Misfit(cell.row_number, 1, cell.text)
            rows[cell.row_number] = found
            cursor = found + 1
        return fit_from_rows(laid, view, rows, set(rows))


def _column_of(frame: Frame, role: str | None) -> int | None:
    """The column of the last field above with ``role``."""
    columns = [f.column_number for f in frame.earlier if role is not None and f.role == role]
    return columns[-1] if columns else None


def _total_field(
    frame: Frame, row: TotalRow, cell: TotalCell, row_number: int, column: int
) -> PlacedField:
    spec = cell.field
    derive: Derivation | None
    if cell.sums is not None:
        operands = tuple(f.key for f in frame.earlier if f.role == cell.sums)
        derive = Derivation("sum", operands) if operands else Derivation("constant", constant=0)
    else:
        derive = frame.derivation(spec.derive)
    if derive is not None and derive.verb == "grade":
        spec = replace(
            spec, value_type="choice", choices=tuple(g.name for g in frame.grading.grades)
        )
    weight = None
    if cell.role == "total_score":
        weight = frame.grading.max_score + frame.grading.bonus_max
    path = "/".join(p for p in (frame.sheet, row.label, spec.label) if p)
    if spec.label == row.label:
        path = f"{frame.sheet}/{row.label}"
    return PlacedField(
        frame.key(spec.key),
        replace(spec, derive=derive, required=False),
        frame.sheet,
        frame.sheet_index,
        row_number,
        column,
        path,
        role=cell.role,
        weight=weight,
        columns=cell.span,
        emphasis=True,
    )


register(TotalsKind())
