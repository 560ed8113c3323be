"""The ``indicators`` kind: the 绩效指标 table whose 三级 rows the unit writes itself.

The spec fixes the 一级/二级 structure (产出指标 → 数量指标 …), the 一级 weights and a number of blank
rows per 二级; the unit writes each row's 三级指标, 年度指标值, 实际完成值, 分值, 得分 and 偏差原因.
In an edited workbook the 二级 labels are found in order, and every row from one 二级 label down to
the next is an indicator row of that 二级: rows a unit inserts inside a group are more indicators.
"""

from __future__ import annotations

from dataclasses import replace

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView
from xlcheck.layout.indicator_spec import (
    FIELD_ROLES,
    IndicatorGroup,
    IndicatorLevel,
    IndicatorsBlock,
    parse_indicators,
)
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.layout.row_heights import text_width
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec
from xlcheck.spec.nodes import SpecNode


@record
class IndicatorsLayout(BlockLayout):
    """An indicators block placed: which 一级 each indicator row (its fields' group) belongs to."""

    #: (the row's fields' group, the 一级's key), top to bottom.
    row_levels: tuple[tuple[str, str], ...] = ()


def row_key(block: str, group: str, row: int, column: str) -> str:
    """The field key of one cell: ``indicators.quantity[2].score``."""
    return f"{block}.{group}[{row}].{column}"


class IndicatorsKind:
    name = "indicators"
    spec_keys = frozenset(
        {"key", "label", "side", "columns", "levels", "rows", "show_weights", "scoring"}
    )

    def parse(self, node: SpecNode) -> IndicatorsBlock:
        return parse_indicators(node, self.name)

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> IndicatorsLayout:
        assert isinstance(block, IndicatorsBlock)
        header_row = placement.first_row if placement and placement.first_row else frame.first_row
        found_rows = (placement.group_rows if placement else None) or {}
        first = 2 if block.side else 1
        cells = [
            FixedCell(header_row, at, column.header, "header")
            for at, column in enumerate(block.columns, first)
        ]
        fields: list[PlacedField] = []
        row_levels: list[tuple[str, str]] = []
        level1_column = block.column_number("level1") or first
        level2_column = block.column_number("level2") or first + 1
        next_row = header_row + 1
        for level in block.levels:
            level_first = next_row
            for group in level.groups:
                rows = found_rows.get(group.key) or tuple(range(next_row, next_row + group.rows))
                cells.append(FixedCell(rows[0], level2_column, group.name, "label", rows=len(rows)))
                for position, row_number in enumerate(rows, 1):
                    group_key = frame.key(f"{block.key}.{group.key}[{position}]")
                    row_levels.append((group_key, level.key))
                    fields.extend(
                        _row_fields(block, frame, level, group, position, row_number, group_key)
                    )
                next_row = rows[-1] + 1
            cells.append(
                FixedCell(
                    level_first,
                    level1_column,
                    block.level_label(level),
                    "label",
                    rows=next_row - level_first,
                )
            )
        last_row = next_row - 1
        if block.side:
            cells.append(
                FixedCell(header_row, 1, block.side, "label", rows=last_row - header_row + 1)
            )
        # The 二级 labels on one line each (可持续影响指标), so their rows keep one line's height.
        names = [g.name for level in block.levels for g in level.groups]
        widths = ([10.0] if block.side else []) + [
            max(c.width, *(text_width(n) + 1 for n in names)) if c.role == "level2" else c.width
            for c in block.columns
        ]
        return IndicatorsLayout(
            self.name,
            block,
            0,
            header_row,
            last_row,
            tuple(fields),
            tuple(cells),
            tuple(widths),
            header_rows=(header_row, header_row),
            landscape=True,
            row_levels=tuple(row_levels),
        )

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        """The header row, then each 二级 label in order; a group's rows reach the next label."""
        assert isinstance(laid.spec, IndicatorsBlock)
        block = laid.spec
        headers = [c for c in laid.cells if c.row_number == laid.first_row and c.rows == 1]
        header_row = view.find_cells([(c.column_number, c.text) for c in headers], start_row)
        if header_row is None:
            return Misfit(laid.first_row, headers[0].column_number, headers[0].text)
        level2_column = block.column_number("level2") or 1
        groups = [g for level in block.levels for g in level.groups]
        labels = {
            c.text: c for c in laid.cells if c.column_number == level2_column and c.style == "label"
        }
        starts: list[int] = []
        cursor = header_row + 1
        for group in groups:
            found = view.find_cells([(level2_column, group.name)], cursor)
            if found is None:
                cell = labels[group.name]
                return Misfit(cell.row_number, cell.column_number, cell.text)
            starts.append(found)
            cursor = found + 1
        ends = [*(s - 1 for s in starts[1:]), _last_group_end(block, view, starts[-1], groups[-1])]
        group_rows = {
            g.key: tuple(range(start, end + 1))
            for g, start, end in zip(groups, starts, ends, strict=True)
        }
        in_place = (
            header_row == laid.first_row
            and all(len(group_rows[g.key]) == g.rows for g in groups)
            and starts[0] == laid.first_row + 1
        )
        placement = BlockPlacement(first_row=header_row, group_rows=group_rows)
        return BlockFit(placement, (), in_place, ends[-1] + 1)


def _last_group_end(
    block: IndicatorsBlock, view: SheetView, start: int, group: IndicatorGroup
) -> int:
    """The last row of the table's last group: rows go on while the label columns are empty
    (the next block's first column holds its label, 总分 say); trailing blank rows beyond the
    template's count belong to no one."""
    label_columns = [1, block.column_number("level1") or 1, block.column_number("level2") or 1]
    end = start
    last_used = start
    for row_number in range(start + 1, len(view.grid) + 1):
        row = view.row(row_number)
        if any(len(row) >= c and row[c - 1] for c in label_columns):
            break
        end = row_number
        if any(row):
            last_used = row_number
    return max(min(end, start + group.rows - 1), last_used)


def _row_fields(
    block: IndicatorsBlock,
    frame: Frame,
    level: IndicatorLevel,
    group: IndicatorGroup,
    number: int,
    row_number: int,
    group_key: str,
) -> list[PlacedField]:
    """The fields of one indicator row; derivations read the same row's columns."""
    first = 2 if block.side else 1
    local = {c.key: row_key(block.key, group.key, number, c.key) for c in block.columns if c.field}
    fields = []
    for column_number, column in enumerate(block.columns, first):
        spec = column.field
        if spec is None:
            continue
        derive = frame.derivation(spec.derive.with_keys(local)) if spec.derive else None
        maximum = spec.maximum
        if spec.value_type == "score" and maximum is None and level.weight is not None:
            maximum = level.weight  # no row can be worth more than its 一级
        fields.append(
            PlacedField(
                frame.key(row_key(block.key, group.key, number, column.key)),
                replace(spec, derive=derive, maximum=maximum),
                frame.sheet,
                frame.sheet_index,
                row_number,
                column_number,
                "/".join(
                    p
                    for p in (
                        frame.sheet,
                        block.label,
                        level.name,
                        f"{group.name}第{number}行",
                        spec.label,
                    )
                    if p
                ),
                group=group_key,
                role=FIELD_ROLES.get(column.role or "", column.role),
            )
        )
    return fields


register(IndicatorsKind())
