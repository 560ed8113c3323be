"""The ``pairs`` kind: label/value pairs side by side on a row (项目名称 … 主管部门 … 实施单位 …), and
``signoff``, the same lines under a table without borders (填报单位（盖章） … 填表人 … 填报日期 …).

A row is recognised in an edited workbook by its labels, each in its own column, in order.
"""

from __future__ import annotations

from dataclasses import replace

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView, fit_from_rows, move_rows
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.layout.row_heights import text_width
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, FieldSpec
from xlcheck.spec.nodes import SpecNode, column_span, field, text

#: Width (Excel character units) of a value cell that spans a single column.
VALUE_WIDTH = 12.0
#: Height (points) of a sign-off line: room for a signature or a stamp's edge.
SIGNOFF_HEIGHT = 26.0


@record
class Pair:
    """One label and the cell beside it; each may span several columns (merged)."""

    field: FieldSpec
    label_span: int = 1
    span: int = 1
    #: What the field is to the rules or a summary (free text, e.g. ``unit``).
    role: str | None = None


@record
class PairsBlock(BlockSpec):
    rows: tuple[tuple[Pair, ...], ...] = ()
    #: The label path's segment for the block's fields (e.g. 基本信息); none when empty.
    label: str = ""


def _pair(node: SpecNode) -> Pair:
    extra = frozenset({"label_span", "span", "role"})
    if isinstance(node.value, dict) and "type" not in node.value:
        # A pair is text unless it says otherwise (names, phones, 负责人).
        node = SpecNode({**node.value, "type": "text"}, node.path, node.source)
    return Pair(
        field(node, extra=extra),
        node.get("label_span", column_span, 1),
        node.get("span", column_span, 1),
        node.get("role", text, None),
    )


def _row(node: SpecNode) -> tuple[Pair, ...]:
    return tuple(_pair(item) for item in node.items())


class PairsKind:
    """Label/value pairs on rows; ``label_style`` is how the labels are drawn."""

    spec_keys = frozenset({"rows", "label"})

    def __init__(self, name: str, label_style: str) -> None:
        self.name = name
        self.label_style = label_style

    def parse(self, node: SpecNode) -> PairsBlock:
        return PairsBlock(
            self.name,
            node.get("title", text, ""),
            rows=tuple(_row(r) for r in node.need("rows", lambda n: n.items())),
            label=node.get("label", text, ""),
        )

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> BlockLayout:
        assert isinstance(block, PairsBlock)
        cells: list[FixedCell] = []
        fields: list[PlacedField] = []
        widths: dict[int, float] = {}
        for offset, row in enumerate(block.rows):
            row_number = frame.first_row + offset
            column = 1
            for pair in row:
                spec = pair.field
                cells.append(
                    FixedCell(row_number, column, spec.label, self.label_style, pair.label_span)
                )
                if pair.label_span == 1:
                    widths[column] = max(widths.get(column, 0), text_width(spec.label) + 1)
                value_column = column + pair.label_span
                if pair.span == 1:
                    widths[value_column] = max(widths.get(value_column, 0), VALUE_WIDTH)
                path = "/".join(p for p in (frame.sheet, block.label, spec.group, spec.label) if p)
                fields.append(
                    PlacedField(
                        frame.key(spec.key),
                        replace(spec, derive=frame.derivation(spec.derive)),
                        frame.sheet,
                        frame.sheet_index,
                        row_number,
                        value_column,
                        path,
                        role=pair.role,
                        columns=pair.span,
                    )
                )
                column = value_column + pair.span
        last = max(widths, default=0)
        laid = BlockLayout(
            self.name,
            block,
            0,
            frame.first_row,
            frame.first_row + len(block.rows) - 1,
            tuple(fields),
            tuple(cells),
            # Only single columns claim a width: a merged label or value fits the columns the
            # blocks around it need.
            tuple(widths.get(c, 0.0) for c in range(1, last + 1)),
            row_heights=tuple(
                (frame.first_row + offset, SIGNOFF_HEIGHT)
                for offset in range(len(block.rows))
                if self.label_style == "signoff"
            ),
        )
        return move_rows(laid, placement) if placement is not None else laid

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        """Each row found by its labels in their columns, in order, from ``start_row`` down.

        Sign-off labels are matched by their beginning: units often write the name into the
        label cell (单位负责人：张三).
        """
        by_row: dict[int, list[FixedCell]] = {}
        for cell in laid.cells:
            by_row.setdefault(cell.row_number, []).append(cell)
        rows: dict[int, int] = {}
        cursor = start_row
        for row_number in sorted(by_row):
            labels = by_row[row_number]
            found = view.find_cells(
                [(c.column_number, c.text) for c in labels],
                cursor,
                prefix=self.label_style == "signoff",
            )
            if found is None:
                return Misfit(row_number, labels[0].column_number, labels[0].text)
            rows[row_number] = found
            cursor = found + 1
        return fit_from_rows(laid, view, rows, set(by_row))


register(PairsKind("pairs", "label"))
register(PairsKind("signoff", "signoff"))
