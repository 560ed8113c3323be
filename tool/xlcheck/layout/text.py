"""The ``text`` kind: free-text areas under their headers, e.g. 年度总体目标: 预期目标 | 实际完成情况.

Each area is one tall merged cell, with room for the sentences and amounts units write there.
The block is recognised in an edited workbook by its header row; the areas are the row below it.
"""

from __future__ import annotations

from dataclasses import replace

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView, fit_from_rows, move_rows
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.layout.row_heights import LINE_HEIGHT
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, FieldSpec
from xlcheck.spec.nodes import SpecNode, column_span, field, integer_in, text


@record
class TextArea:
    field: FieldSpec
    span: int = 1


@record
class TextBlock(BlockSpec):
    areas: tuple[TextArea, ...] = ()
    #: Text in the first column beside the headers and the areas (年度总体目标); none when empty.
    side: str = ""
    #: The label path's segment for the areas (defaults to ``side``).
    label: str = ""
    #: How many lines of text the areas show.
    lines: int = 4


def _area(node: SpecNode) -> TextArea:
    if isinstance(node.value, dict) and "type" not in node.value:
        node = SpecNode({**node.value, "type": "text"}, node.path, node.source)
    spec = field(node, extra=frozenset({"span"}))
    if spec.value_type != "text":
        raise node.child("type").fail("文字区只能是 text 类型")
    return TextArea(spec, node.get("span", column_span, 1))


class TextKind:
    name = "text"
    spec_keys = frozenset({"areas", "side", "label", "lines"})

    def parse(self, node: SpecNode) -> TextBlock:
        lines = node.get("lines", integer_in(1, 40), 4)
        side = node.get("side", text, "")
        return TextBlock(
            self.name,
            node.get("title", text, ""),
            areas=tuple(_area(a) for a in node.need("areas", lambda n: n.items())),
            side=side,
            label=node.get("label", text, side),
            lines=lines,
        )

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> BlockLayout:
        assert isinstance(block, TextBlock)
        header_row, area_row = frame.first_row, frame.first_row + 1
        cells: list[FixedCell] = []
        widths: list[float] = []
        column = 1
        if block.side:
            cells.append(FixedCell(header_row, 1, block.side, "label", rows=2))
            widths.append(10.0)
            column = 2
        fields: list[PlacedField] = []
        for area in block.areas:
            spec = area.field
            cells.append(FixedCell(header_row, column, spec.label, "header", area.span))
            path = "/".join(p for p in (frame.sheet, block.label, spec.label) if p)
            fields.append(
                PlacedField(
                    frame.key(spec.key),
                    replace(spec, derive=frame.derivation(spec.derive)),
                    frame.sheet,
                    frame.sheet_index,
                    area_row,
                    column,
                    path,
                    columns=area.span,
                )
            )
            column += area.span
        laid = BlockLayout(
            self.name,
            block,
            0,
            header_row,
            area_row,
            tuple(fields),
            tuple(cells),
            tuple(widths),
            row_heights=((area_row, LINE_HEIGHT * block.lines + 4),),
        )
        if placement is None:
            return laid
        moved = move_rows(laid, placement)
        rows = placement.rows or {}
        return replace(
            moved, row_heights=((rows.get(area_row, area_row), moved.row_heights[0][1]),)
        )

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        headers = [c for c in laid.cells if c.row_number == laid.first_row]
        found = view.find_cells([(c.column_number, c.text) for c in headers], start_row)
        if found is None:
            return Misfit(headers[0].row_number, headers[0].column_number, headers[0].text)
        rows = {laid.first_row: found, laid.last_row: found + 1}
        return fit_from_rows(laid, view, rows, set(rows))


register(TextKind())
