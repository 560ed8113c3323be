"""The ``form`` kind: labelled values one per row (项目 | 数值 | 单位 | 说明), with section headings.

Rows are recognised in an edited workbook by their labels, in order, below the header row.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView, cell_text, fit_from_rows, move_rows
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, FieldSpec
from xlcheck.spec.nodes import SpecNode, field, number, text

#: What a form column may hold: the row's label, its value, its unit, its explanation.
COLUMN_ROLES = ("label", "value", "unit", "help")


@record
class FormColumn:
    role: str
    header: str
    width: float


DEFAULT_COLUMNS = (
    FormColumn("label", "项目", 36),
    FormColumn("value", "数值", 18),
    FormColumn("unit", "单位", 8),
    FormColumn("help", "说明", 52),
)


@record
class Section:
    """A heading row; it sets the label group of the fields below it."""

    title: str


@record
class FormBlock(BlockSpec):
    rows: tuple[FieldSpec | Section, ...] = ()
    columns: tuple[FormColumn, ...] = DEFAULT_COLUMNS

    def column_of(self, role: str) -> int | None:
        """The 1-based column holding ``role``, or None when the form has no such column."""
        return next((i for i, c in enumerate(self.columns, 1) if c.role == role), None)


def _column(node: SpecNode) -> FormColumn:
    node.mapping({"role", "header", "width"})
    role = node.need("role", text)
    if role not in COLUMN_ROLES:
        raise node.child("role").fail(f"未知的列 {role!r}；可用：{', '.join(COLUMN_ROLES)}")
    default = next(c for c in DEFAULT_COLUMNS if c.role == role)
    return FormColumn(
        role, node.get("header", text, default.header), node.get("width", number, default.width)
    )


class FormKind:
    name = "form"
    spec_keys = frozenset({"rows", "columns"})

    def parse(self, node: SpecNode) -> FormBlock:
        rows: list[FieldSpec | Section] = []
        for row in node.need("rows", lambda n: n.items()):
            if isinstance(row.value, dict) and "section" in row.value:
                row.mapping({"section"})
                rows.append(Section(row.need("section", text)))
            else:
                rows.append(field(row))
        columns = node.get(
            "columns", lambda n: tuple(_column(c) for c in n.items()), DEFAULT_COLUMNS
        )
        roles = [c.role for c in columns]
        if "label" not in roles or "value" not in roles or len(set(roles)) != len(roles):
            raise node.child("columns").fail("表单需要 label 和 value 两列，每种列只能出现一次")
        return FormBlock(self.name, node.get("title", text, ""), tuple(rows), columns)

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> BlockLayout:
        assert isinstance(block, FormBlock)
        label_column = block.column_of("label") or 1
        value_column = block.column_of("value") or 2
        unit_column, help_column = block.column_of("unit"), block.column_of("help")
        width = len(block.columns)
        header_row = frame.first_row
        cells = [
            FixedCell(header_row, number_, column.header, "header")
            for number_, column in enumerate(block.columns, 1)
        ]
        fields: list[PlacedField] = []
        section = ""
        row_number = header_row + 1
        for row in block.rows:
            if isinstance(row, Section):
                section = row.title
                cells.append(FixedCell(row_number, 1, row.title, "section", columns=width))
            else:
                group = row.group or section
                path = "/".join(p for p in (frame.sheet, group, row.label) if p)
                fields.append(
                    PlacedField(
                        frame.key(row.key),
                        replace(row, derive=frame.derivation(row.derive)),
                        frame.sheet,
                        frame.sheet_index,
                        row_number,
                        value_column,
                        path,
                    )
                )
                cells.append(FixedCell(row_number, label_column, row.label, "label"))
                if unit_column is not None:
                    cells.append(FixedCell(row_number, unit_column, row.unit or "", "text"))
                if help_column is not None:
                    cells.append(FixedCell(row_number, help_column, row.help, "text"))
            row_number += 1
        laid = BlockLayout(
            self.name,
            block,
            0,
            frame.first_row,
            row_number - 1,
            tuple(fields),
            tuple(cells),
            tuple(c.width for c in block.columns),
            header_rows=(header_row, header_row),
        )
        return move_rows(laid, placement) if placement is not None else laid

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        assert isinstance(laid.spec, FormBlock)
        headers = [c.header for c in laid.spec.columns]
        header_row = laid.first_row
        found_header = view.find_row(headers, start_row)
        rows: dict[int, int] = {}
        if found_header is not None:
            rows[header_row] = found_header
        # Labels are searched below the header, so a section titled like a header word (项目)
        # is not mistaken for the header row.
        cursor = body_start = (found_header or start_row - 1) + 1
        label_column = laid.spec.column_of("label") or 1
        body = laid.cells_by_style.get("label", ())
        sections = laid.cells_by_style.get("section", ())
        for cell in body:
            found = view.find_in_column(label_column, cell_text(cell.text), cursor)
            if found is None:
                return Misfit(cell.row_number, cell.column_number, cell.text)
            rows[cell.row_number] = found
            cursor = found + 1
        # A section is looked for between the rows found above and below it.
        found_rows = sorted(rows)
        images = [rows[r] for r in found_rows]
        for cell in sections:
            above = bisect.bisect_left(found_rows, cell.row_number)
            below = bisect.bisect_right(found_rows, cell.row_number)
            found = view.find_in_column(
                1,
                cell_text(cell.text),
                images[above - 1] + 1 if above else body_start,
                images[below] if below < len(images) else None,
            )
            if found is not None:
                rows[cell.row_number] = found
        expected = {c.row_number for c in body} | {c.row_number for c in sections}
        return fit_from_rows(laid, view, rows, expected | ({header_row} if found_header else set()))


register(FormKind())
