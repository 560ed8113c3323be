"""Indicator tables the unit writes itself: rows complete, Σ分值 per 一级 and in all, each row's
得分 as its target, direction and actual value give it (得分 ≤ 分值 and 偏差原因 are ``scoring``'s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from xlcheck.cell_values import values_match
from xlcheck.findings import Finding, Severity
from xlcheck.indicator_values import (
    IndicatorValue,
    comparable,
    direction_named,
    parse_indicator_value,
    share_earned,
)
from xlcheck.layout import PlacedField, SheetLayout
from xlcheck.records import record
from xlcheck.rules.registry import RuleContext, make_finding, rule
from xlcheck.rules.tables import ROW_INCOMPLETE

if TYPE_CHECKING:
    from xlcheck.layout.indicator_spec import IndicatorsBlock, IndicatorScoring
    from xlcheck.layout.indicators import IndicatorsLayout

E, W = Severity.ERROR, Severity.WARNING

LEVEL_WEIGHTS_WRONG = rule(
    "indicator-weights-wrong",
    E,
    "一级指标分值合计不对",
    "Weights of a first-level indicator do not add up",
    "某个一级指标（如产出指标）下各行三级指标的分值之和不等于模板规定的该一级指标分值（如 50 分）。",
    "“{level}”各行分值合计 {total} 分，应为 {expected_points} 分",
    "The rows of '{level}' are weighted {total} in all; they must add up to {expected_points}",
)
WEIGHTS_TOTAL_WRONG = rule(
    "weights-total-wrong",
    E,
    "分值合计不是满分",
    "Weights do not add up to the maximum",
    "一张表上所有分值（含资金执行的分值）之和不等于模板规格的满分（如 100 分）。",
    "分值合计 {total} 分，应为满分 {maximum} 分",
    "The weights add up to {total}; they must add up to the maximum of {maximum}",
)
INDICATOR_ABOVE_RULE = rule(
    "indicator-score-above-rule",
    E,
    "指标得分高于评分规则",
    "Indicator scored above its rule",
    "定量指标按年度指标值、指标性质和实际完成值（定性指标按实际完成的等级）算出的得分低于自评得分："
    "达到指标值得满分，未达到的按比例得分（≥：实际 ÷ 指标值 × 分值；≤：指标值 ÷ 实际 × 分值）。",
    "“{label}”{target_label} {target_value}、{actual_label} {actual_value}，按评分规则应得 {due} 分，自评 {score} 分偏高",
    "'{label}' (target '{target_value}', actual '{actual_value}') earns {due} by the scoring rule; the self-score {score} is too high",
)
INDICATOR_BELOW_RULE = rule(
    "indicator-score-below-rule",
    W,
    "指标得分低于评分规则",
    "Indicator scored below its rule",
    "自评得分低于按评分规则算出的得分：可能另有扣分原因，请确认。",
    "“{label}”{target_label} {target_value}、{actual_label} {actual_value}，按评分规则可得 {due} 分，自评 {score} 分；如另有扣分原因请写明",
    "'{label}' (target '{target_value}', actual '{actual_value}') earns {due} by the scoring rule; self-score {score}; state any other reason",
)
VALUE_UNREADABLE = rule(
    "indicator-value-unreadable",
    W,
    "指标值读不懂",
    "Indicator value not understood",
    "年度指标值或实际完成值无法按评分规则读取（不是一个数值加单位，单位对不上，或定性指标的完成情况不是规定的等级），"
    "这一行的得分没有按评分规则核对。",
    "“{label}”的{what}“{text}”{why}，未按评分规则核对得分",
    "The {what_en} of '{label}', '{text}', {why_en}; its score was not checked against the rule",
)


@record
class _Row:
    """One indicator row: its fields by role and the 一级 it belongs to."""

    level: str
    fields: dict[str, PlacedField]

    def field(self, role: str) -> PlacedField | None:
        return self.fields.get(role)


def check(context: RuleContext) -> Iterator[Finding]:
    if not any(b.kind == "indicators" for s in context.layout.sheets for b in s.blocks):
        return  # the kind's module is imported only by templates that have indicator tables
    from xlcheck.layout.indicator_spec import IndicatorsBlock
    from xlcheck.layout.indicators import IndicatorsLayout

    for sheet in context.layout.sheets:
        blocks = [
            b
            for b in sheet.blocks
            if isinstance(b, IndicatorsLayout) and isinstance(b.spec, IndicatorsBlock)
        ]
        if not blocks:
            continue
        level_wrong = False
        for block in blocks:
            rows = _rows(block)
            used = [row for row in rows if _in_use(context, row)]
            assert isinstance(block.spec, IndicatorsBlock)
            for row in used:
                yield from _incomplete(context, row)
                yield from _against_rule(context, row, block.spec.scoring)
            for finding in _level_weights(context, block.spec, rows, used):
                level_wrong = True
                yield finding
        if not level_wrong and any(_in_use(context, r) for b in blocks for r in _rows(b)):
            yield from _total_weights(context, sheet)


def _rows(block: IndicatorsLayout) -> list[_Row]:
    by_group: dict[str, dict[str, PlacedField]] = {}
    for placed in block.fields:
        if placed.group is not None and placed.role is not None:
            by_group.setdefault(placed.group, {})[placed.role] = placed
    return [_Row(level, by_group.get(group, {})) for group, level in block.row_levels]


def _in_use(context: RuleContext, row: _Row) -> bool:
    return any(
        placed.is_input and context.values.get(placed.key) not in (None, "")
        for placed in row.fields.values()
    )


def _blank(context: RuleContext, placed: PlacedField) -> bool:
    return (
        placed.key in context.workbook.cells
        and context.values.get(placed.key) in (None, "")
        and context.workbook.cells[placed.key].error is None
    )


def _incomplete(context: RuleContext, row: _Row) -> Iterator[Finding]:
    for role in ("indicator_name", "target", "actual", "weight", "score"):
        placed = row.field(role)
        if placed is not None and placed.is_input and _blank(context, placed):
            yield make_finding(
                ROW_INCOMPLETE, placed, row=placed.row_number, column=placed.spec.label
            )


def _number(context: RuleContext, placed: PlacedField | None) -> float | None:
    if placed is None or placed.key in context.unreliable:
        return None
    value = context.values.get(placed.key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _level_weights(
    context: RuleContext, block: IndicatorsBlock, rows: list[_Row], used: list[_Row]
) -> Iterator[Finding]:
    for level in block.levels:
        in_level = [r for r in used if r.level == level.key]
        if level.weight is None or not in_level:
            continue
        weights = [r.field("weight") for r in in_level]
        if any(w is not None and w.key in context.unreliable for w in weights):
            continue
        total = sum(_number(context, w) or 0.0 for w in weights)
        if values_match(total, level.weight, 2):
            continue
        first = next(w for r in rows if r.level == level.key and (w := r.field("weight")))
        yield make_finding(
            LEVEL_WEIGHTS_WRONG,
            first,
            expected=level.weight,
            actual=total,
            level=level.name,
            expected_points=_points(level.weight),
            total=_points(total),
        )


def _total_weights(context: RuleContext, sheet: SheetLayout) -> Iterator[Finding]:
    """Σ of every 分值 on the sheet (the 资金 block's too) against the spec's maximum."""
    weights = [f for b in sheet.blocks for f in b.fields if f.role == "weight"]
    if any(w.key in context.unreliable for w in weights):
        return
    total = sum(_number(context, w) or 0.0 for w in weights)
    maximum = context.grading.max_score
    if values_match(total, maximum, 2):
        return
    at = next((f for b in sheet.blocks for f in b.fields if f.role == "total_weight"), None)
    yield make_finding(
        WEIGHTS_TOTAL_WRONG,
        at or weights[0],
        expected=maximum,
        actual=total,
        total=_points(total),
        maximum=_points(maximum),
    )


@record
class _Unscorable:
    """Why a row's score cannot be worked out: which cell (by role), what it says, why."""

    role: str
    text: str
    why: str
    why_en: str


def _reading(context: RuleContext, placed: PlacedField | None) -> IndicatorValue | None:
    if placed is None or placed.key not in context.workbook.cells:
        return None
    reading = context.workbook.cells[placed.key]
    return parse_indicator_value(reading.raw, percent_format=reading.percent_format)


def _text(context: RuleContext, placed: PlacedField | None) -> str:
    value = context.values.get(placed.key) if placed is not None else None
    return str(value).strip() if value not in (None, "") else ""


def expected_share(
    scoring: IndicatorScoring,
    target: IndicatorValue,
    actual: IndicatorValue,
    direction_text: str = "",
    unit: str = "",
    target_label: str = "年度指标值",
) -> float | _Unscorable:
    """The share of 分值 a row earns, or why it cannot be worked out."""
    stated = direction_named(direction_text) if direction_text else None
    if direction_text and stated is None:
        return _Unscorable(
            "direction",
            direction_text,
            "不是 ≥、≤、= 或 定性",
            "is not ≥, ≤, = or 定性",
        )
    if stated == "qualitative" or (
        stated is None and not target.is_quantitative and not target.unreadable
    ):
        return _qualitative(scoring, target, actual, target_label)
    if not target.is_quantitative:
        return _Unscorable(
            "target",
            target.text,
            "读不出一个数值（请写成 ≥50个、100%、≤90万元 这样的形式）",
            "is not one number (write it like ≥50个, 100%, ≤90万元)",
        )
    if not actual.is_quantitative:
        return _Unscorable(
            "actual",
            actual.text,
            "读不出一个数值（请写成 50个、98.5% 这样的形式）",
            "is not one number (write it like 50个, 98.5%)",
        )
    assert target.number is not None and actual.number is not None
    if stated and target.direction and stated != target.direction:
        return _Unscorable(
            "target",
            target.text,
            f"与指标性质“{direction_text}”的方向相反",
            f"points the other way from the direction '{direction_text}'",
        )
    direction = stated or target.direction or scoring.unsigned
    numbers = comparable(target, actual, unit)
    if numbers is None:
        return _Unscorable(
            "actual",
            actual.text,
            f"单位与{target_label}“{_with_unit(target, unit)}”不同，无法比较",
            f"is in another unit than the target '{target.text}'",
        )
    return share_earned(direction, *numbers, scoring.method(direction))


def _qualitative(
    scoring: IndicatorScoring, target: IndicatorValue, actual: IndicatorValue, target_label: str
) -> float | _Unscorable:
    said = "".join(actual.text.split())
    if said == "".join(target.text.split()):
        return 1.0
    for grade in scoring.qualitative:
        if said in {"".join(n.split()) for n in (grade.name, *grade.aliases)}:
            return grade.share
    names = "、".join(g.name for g in scoring.qualitative)
    return _Unscorable(
        "actual",
        actual.text,
        f"不是定性指标的完成等级（{names}），也不同于{target_label}",
        f"is none of the qualitative grades ({', '.join(g.name for g in scoring.qualitative)})",
    )


#: Default words for the cells a row is scored from, in Chinese and English.
_WORDS = {
    "target": ("年度指标值", "target"),
    "actual": ("实际完成值", "actual value"),
    "direction": ("指标性质", "direction"),
}


def _label(placed: PlacedField | None, default: str) -> str:
    return placed.spec.label if placed is not None else default


def _with_unit(value: IndicatorValue, unit: str) -> str:
    """A value as the row states it: its text, with the 度量单位 column's unit if it has none."""
    return value.text if value.unit or not unit else f"{value.text}{unit}"


def _against_rule(context: RuleContext, row: _Row, scoring: IndicatorScoring) -> Iterator[Finding]:
    score_field = row.field("score")
    weight, score = _number(context, row.field("weight")), _number(context, score_field)
    target, actual = _reading(context, row.field("target")), _reading(context, row.field("actual"))
    if score_field is None or weight is None or score is None or target is None or actual is None:
        return
    if score > weight + 1e-9:
        return  # score-above-weight says it
    direction_field = row.field("direction")
    direction = _text(context, direction_field)
    if direction_field is not None and direction and direction not in direction_field.spec.choices:
        return  # not one of the column's choices: invalid-choice reports it at its cell
    label = _text(context, row.field("indicator_name")) or score_field.indicator_name
    unit = _text(context, row.field("measure"))
    target_label = _label(row.field("target"), "年度指标值")
    share = expected_share(scoring, target, actual, direction, unit, target_label)
    if isinstance(share, _Unscorable):
        at = row.field(share.role)
        yield make_finding(
            VALUE_UNREADABLE,
            at or score_field,
            label=label,
            what=_label(at, _WORDS[share.role][0]),
            what_en=_WORDS[share.role][1],
            text=share.text,
            why=share.why,
            why_en=share.why_en,
        )
        return
    due = share * weight
    if values_match(due, score, 2):
        return
    params: dict[str, Any] = {
        "label": label,
        "target_label": target_label,
        "actual_label": _label(row.field("actual"), "实际完成值"),
        "target_value": _with_unit(target, unit),
        "actual_value": _with_unit(actual, unit),
        "due": _points(due),
        "score": _points(score),
    }
    family = INDICATOR_ABOVE_RULE if score > due else INDICATOR_BELOW_RULE
    yield make_finding(family, score_field, expected=due, actual=score, **params)
