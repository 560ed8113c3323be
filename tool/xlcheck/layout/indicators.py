"""The ``indicators`` kind: the 绩效指标 table whose 三级 rows the unit writes itself.

The spec fixes the 一级/二级 structure (产出指标 → 数量指标 …), the 一级 weights and a number of blank
rows per 二级; the unit writes each row's 三级指标, 年度指标值, 实际完成值, 分值, 得分 and 偏差原因.
In an edited workbook the 二级 labels are found in order, and every row from one 二级 label down to
the next is an indicator row of that 二级: rows a unit inserts inside a group are more indicators.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView
from xlcheck.layout.model import BlockLayout, BlockPlacement, FixedCell, PlacedField
from xlcheck.layout.registry import Frame, register
from xlcheck.spec.model import BlockSpec, FieldSpec
from xlcheck.spec.nodes import (
    SpecNode,
    derivation,
    field,
    flag,
    integer,
    key,
    number,
    text,
    texts,
)

#: Column roles: default header, value type (None: fixed text, no field), width, input help.
ROLES: dict[str, tuple[str, str | None, float, str]] = {
    "level1": ("一级指标", None, 10.0, ""),
    "level2": ("二级指标", None, 11.0, ""),
    "name": ("三级指标", "text", 24.0, "三级指标的名称，由单位填写"),
    "direction": ("指标性质", "choice", 7.0, "≥ 越大越好，≤ 越小越好，= 应等于，定性 按等级评价"),
    "target": ("年度指标值", "text", 13.0, "如 ≥50个、100%、≤90万元；定性指标写目标的描述"),
    "unit": ("度量单位", "text", 7.0, "如 个、%、万元"),
    "actual": (
        "实际完成值",
        "text",
        13.0,
        "定量指标写数值（如 50个、98.5%）；定性指标写 达成预期指标 / 部分达成预期指标 / 未达成预期指标",
    ),
    "weight": ("分值", "score", 7.0, "本行指标的分值"),
    "score": ("得分", "score", 7.0, "不超过本行分值"),
    "reason": ("偏差原因分析及改进措施", "text", 26.0, "得分低于分值时必须填写"),
}
#: What each column role is to the rules (``PlacedField.role``).
FIELD_ROLES = {"name": "indicator_name", "unit": "measure"}
DEFAULT_COLUMNS = ("level1", "level2", "name", "target", "actual", "weight", "score", "reason")
DIRECTION_CHOICES = ("≥", "≤", "=", "定性")
#: How a quantitative shortfall is scored: in proportion, or nothing unless the target is met.
METHODS = ("proportional", "all_or_nothing")
DIRECTIONS = ("at_least", "at_most", "equal")


@dataclass(frozen=True)
class IndicatorColumn:
    #: One of ``ROLES``, or None for a column of the spec's own (得分系数 …).
    role: str | None
    header: str
    width: float
    #: The field each row has in this column; None for the 一级/二级 label columns.
    field: FieldSpec | None

    @property
    def key(self) -> str:
        return self.field.key if self.field is not None else str(self.role)


@dataclass(frozen=True)
class IndicatorGroup:
    """A 二级指标 and the blank rows the template gives it."""

    key: str
    name: str
    rows: int


@dataclass(frozen=True)
class IndicatorLevel:
    """A 一级指标, its weight (the Σ分值 its rows must reach) and its 二级 groups."""

    key: str
    name: str
    weight: float | None
    groups: tuple[IndicatorGroup, ...]


@dataclass(frozen=True)
class QualitativeGrade:
    """A grade a qualitative indicator's 实际完成值 may state, and the share of 分值 it earns."""

    name: str
    share: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorScoring:
    """How a row's expected 得分 follows from its target, direction and actual value."""

    at_least: str = "proportional"
    at_most: str = "proportional"
    equal: str = "proportional"
    #: The direction of a target written without ≥, ≤ or =.
    unsigned: str = "at_least"
    qualitative: tuple[QualitativeGrade, ...] = (
        QualitativeGrade("达成预期指标", 1.0, ("达成", "已达成", "完成", "已完成", "达到预期")),
        QualitativeGrade("部分达成预期指标", 0.5, ("部分达成", "基本达成", "部分完成", "基本完成")),
        QualitativeGrade("未达成预期指标", 0.0, ("未达成", "未完成", "未达到")),
    )

    def method(self, direction: str) -> str:
        return {"at_least": self.at_least, "at_most": self.at_most}.get(direction, self.equal)


@dataclass(frozen=True)
class IndicatorsBlock(BlockSpec):
    key: str = ""
    #: The label path's segment (绩效指标).
    label: str = ""
    #: Text in the first column beside the whole table (绩效指标); none when empty.
    side: str = ""
    columns: tuple[IndicatorColumn, ...] = ()
    levels: tuple[IndicatorLevel, ...] = ()
    #: Print each 一级's weight in its label: 产出指标（50分）.
    show_weights: bool = True
    scoring: IndicatorScoring = IndicatorScoring()

    def column_number(self, role_or_key: str) -> int | None:
        """The 1-based column of a role (or a spec column's key), None when the table has none."""
        first = 2 if self.side else 1
        for at, column in enumerate(self.columns, first):
            if column.role == role_or_key or (column.role is None and column.key == role_or_key):
                return at
        return None

    def level_label(self, level: IndicatorLevel) -> str:
        if self.show_weights and level.weight is not None:
            return f"{level.name}（{level.weight:g}分）"
        return level.name


@dataclass(frozen=True)
class IndicatorsLayout(BlockLayout):
    """An indicators block placed: which 一级 each indicator row (its fields' group) belongs to."""

    #: (the row's fields' group, the 一级's key), top to bottom.
    row_levels: tuple[tuple[str, str], ...] = ()


def _column(node: SpecNode) -> IndicatorColumn:
    if not isinstance(node.value, dict):
        raise node.fail("应为键值表：{role: target} 或 {column: 键, label: …, type: …}")
    if "role" not in node.value:
        spec = field(node, key_name="column", extra=frozenset({"width"}))
        return IndicatorColumn(None, spec.label, node.get("width", number, 10.0), spec)
    node.mapping(
        {"role", "header", "width", "help", "derive", "min", "max", "precision", "choices"}
    )
    role = node.need("role", text)
    if role not in ROLES:
        raise node.child("role").fail(f"未知的列 {role!r}；可用：{', '.join(ROLES)}")
    column = _default_column(role)
    header = node.get("header", text, column.header)
    width = node.get("width", number, column.width)
    if column.field is None:
        return replace(column, header=header, width=width)
    spec = replace(
        column.field,
        label=header,
        help=node.get("help", text, column.field.help),
        derive=node.get("derive", derivation, None),
        minimum=node.get("min", number, column.field.minimum),
        maximum=node.get("max", number, None),
        precision=node.get("precision", integer, None),
        choices=node.get("choices", texts, column.field.choices),
    )
    return IndicatorColumn(role, header, width, spec)


def _default_column(role: str) -> IndicatorColumn:
    header, value_type, width, help_text = ROLES[role]
    if value_type is None:
        return IndicatorColumn(role, header, width, None)
    spec = FieldSpec(
        key=role,
        label=header,
        value_type=value_type,
        help=help_text,
        minimum=0.0 if value_type == "score" else None,
        choices=DIRECTION_CHOICES if role == "direction" else (),
    )
    return IndicatorColumn(role, header, width, spec)


def _rows(node: SpecNode) -> int:
    value = integer(node)
    if not 1 <= value <= 50:
        raise node.fail("每个二级指标的空行数应在 1 到 50 之间")
    return value


def _level(node: SpecNode, default_rows: int) -> IndicatorLevel:
    node.mapping({"key", "name", "weight", "groups"})
    groups = []
    for group in node.need("groups", lambda n: n.items()):
        group.mapping({"key", "name", "rows"})
        groups.append(
            IndicatorGroup(
                group.need("key", key),
                group.need("name", text),
                group.get("rows", _rows, default_rows),
            )
        )
    weight = node.get("weight", number, None)
    if weight is not None and weight < 0:
        raise node.child("weight").fail("分值不能为负")
    return IndicatorLevel(node.need("key", key), node.need("name", text), weight, tuple(groups))


def _method(node: SpecNode) -> str:
    value = text(node)
    if value not in METHODS:
        raise node.fail(f"应为 {' 或 '.join(METHODS)}")
    return value


def _scoring(node: SpecNode) -> IndicatorScoring:
    node.mapping({*DIRECTIONS, "unsigned", "qualitative"})
    default = IndicatorScoring()
    unsigned = node.get("unsigned", text, default.unsigned)
    if unsigned not in DIRECTIONS:
        raise node.child("unsigned").fail(f"应为 {'、'.join(DIRECTIONS)} 之一")
    grades = default.qualitative
    if node.has("qualitative"):
        parsed = []
        for grade in node.child("qualitative").items():
            grade.mapping({"name", "share", "aliases"})
            share = grade.need("share", number)
            if not 0 <= share <= 1:
                raise grade.child("share").fail("share 是分值的比例，应在 0 到 1 之间")
            parsed.append(
                QualitativeGrade(grade.need("name", text), share, grade.get("aliases", texts, ()))
            )
        grades = tuple(parsed)
    return IndicatorScoring(
        at_least=node.get("at_least", _method, default.at_least),
        at_most=node.get("at_most", _method, default.at_most),
        equal=node.get("equal", _method, default.equal),
        unsigned=unsigned,
        qualitative=grades,
    )


def row_key(block: str, group: str, row: int, column: str) -> str:
    """The field key of one cell: ``indicators.quantity[2].score``."""
    return f"{block}.{group}[{row}].{column}"


class IndicatorsKind:
    name = "indicators"
    spec_keys = frozenset(
        {"key", "label", "side", "columns", "levels", "rows", "show_weights", "scoring"}
    )

    def parse(self, node: SpecNode) -> IndicatorsBlock:
        if node.has("columns"):
            columns = tuple(_column(c) for c in node.child("columns").items())
        else:
            columns = tuple(_default_column(r) for r in DEFAULT_COLUMNS)
        roles = [c.role for c in columns if c.role]
        for needed in ("level1", "level2", "name", "weight", "score"):
            if needed not in roles:
                raise node.child("columns").fail(f"指标表需要 {needed} 列")
        column_keys = [c.key for c in columns]
        if len(set(column_keys)) != len(column_keys):
            raise node.child("columns").fail("列重复")
        default_rows = node.get("rows", _rows, 2)
        levels = tuple(_level(lv, default_rows) for lv in node.need("levels", lambda n: n.items()))
        group_keys = [g.key for lv in levels for g in lv.groups]
        if len(set(group_keys)) != len(group_keys):
            raise node.child("levels").fail("二级指标的 key 重复")
        for column in columns:
            derive = column.field.derive if column.field else None
            for operand in derive.field_keys() if derive else ():
                if operand not in column_keys:
                    raise node.child("columns").fail(
                        f"{column.key} 的 derive 引用了不存在的列 {operand}"
                    )
        return IndicatorsBlock(
            self.name,
            node.get("title", text, ""),
            key=node.need("key", key),
            label=node.get("label", text, ""),
            side=node.get("side", text, ""),
            columns=columns,
            levels=levels,
            show_weights=node.get("show_weights", flag, True),
            scoring=node.get("scoring", _scoring, IndicatorScoring()),
        )

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
        widths = ([10.0] if block.side else []) + [c.width for c in block.columns]
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
