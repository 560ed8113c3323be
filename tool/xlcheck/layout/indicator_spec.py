"""The spec of an ``indicators`` block: its columns, 一级/二级 structure and scoring rule, and how
they are parsed (the kind itself, its geometry and row recognition, is ``layout.indicators``)."""

from __future__ import annotations

from dataclasses import replace

from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, FieldSpec
from xlcheck.spec.nodes import (
    SpecNode,
    derivation,
    field,
    flag,
    integer,
    integer_in,
    key,
    number,
    text,
    texts,
)

#: Column roles: default header, value type (None: fixed text, no field), width, input help.
ROLES: dict[str, tuple[str, str | None, float, str]] = {
    "level1": ("一级指标", None, 10.0, ""),
    "level2": ("二级指标", None, 11.0, ""),
    "name": ("三级指标", "text", 30.0, "三级指标的名称，由单位填写"),
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
    "reason": ("偏差原因分析及改进措施", "text", 30.0, "得分低于分值时必须填写"),
}
#: What each column role is to the rules (``PlacedField.role``).
FIELD_ROLES = {"name": "indicator_name", "unit": "measure"}
DEFAULT_COLUMNS = ("level1", "level2", "name", "target", "actual", "weight", "score", "reason")
DIRECTION_CHOICES = ("≥", "≤", "=", "定性")
#: How a quantitative shortfall is scored: in proportion, or nothing unless the target is met.
METHODS = ("proportional", "all_or_nothing")
DIRECTIONS = ("at_least", "at_most", "equal")


@record
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


@record
class IndicatorGroup:
    """A 二级指标 and the blank rows the template gives it."""

    key: str
    name: str
    rows: int


@record
class IndicatorLevel:
    """A 一级指标, its weight (the Σ分值 its rows must reach) and its 二级 groups."""

    key: str
    name: str
    weight: float | None
    groups: tuple[IndicatorGroup, ...]


@record
class QualitativeGrade:
    """A grade a qualitative indicator's 实际完成值 may state, and the share of 分值 it earns."""

    name: str
    share: float
    aliases: tuple[str, ...] = ()


@record
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


@record
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


_rows = integer_in(1, 50, subject="每个二级指标的空行数")


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


def parse_indicators(node: SpecNode, kind: str) -> IndicatorsBlock:
    """An ``indicators`` block from its YAML mapping (key paths in every message)."""
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
    scoring = node.get("scoring", _scoring, IndicatorScoring())
    return IndicatorsBlock(
        kind,
        node.get("title", text, ""),
        key=node.need("key", key),
        label=node.get("label", text, ""),
        side=node.get("side", text, ""),
        columns=tuple(_offering_grades(c, scoring) for c in columns),
        levels=levels,
        show_weights=node.get("show_weights", flag, True),
        scoring=scoring,
    )


def _offering_grades(column: IndicatorColumn, scoring: IndicatorScoring) -> IndicatorColumn:
    """The 实际完成值 column offers the qualitative grades in a dropdown (a number may still be
    typed: the column is text, so the choices are suggestions, not a rule)."""
    spec = column.field
    if column.role != "actual" or spec is None or spec.choices:
        return column
    return replace(column, field=replace(spec, choices=tuple(g.name for g in scoring.qualitative)))
