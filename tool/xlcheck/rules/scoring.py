"""The score table: scores within their weights, the total within the maximum, scores by rule."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from xlcheck.cell_values import values_match
from xlcheck.findings import Finding, Severity
from xlcheck.layout import Layout, PlacedField
from xlcheck.recompute import expected_score
from xlcheck.records import record
from xlcheck.rules.registry import RuleContext, make_finding, rule

E, W = Severity.ERROR, Severity.WARNING

SCORE_ABOVE_WEIGHT = rule(
    "score-above-weight",
    E,
    "得分超过分值",
    "Score above its weight",
    "某项指标的自评得分大于它的分值。",
    "“{label}”的自评得分 {score} 超过了分值 {weight}",
    "'{label}' scores {score}, above its weight of {weight}",
)
TOTAL_ABOVE_MAXIMUM = rule(
    "total-above-maximum",
    E,
    "总分超过满分",
    "Total above the maximum",
    "总分超过模板规格的满分（规格声明了加分上限时，为满分加加分上限）。",
    "总分 {total} 超过了满分 {maximum} 分",
    "The total score {total} is above the maximum of {maximum}",
)
BONUS_USED = rule(
    "bonus-used",
    W,
    "使用了加分",
    "Bonus points used",
    "总分超过模板规格的满分，但未超过规格允许的加分上限：请确认加分有依据。",
    "总分 {total} 超过 {base} 分，使用了加分（上限 {bonus} 分），请确认加分依据",
    "The total score {total} is above {base} using bonus points (up to {bonus}); confirm the basis",
)
SCORE_ABOVE_RULE = rule(
    "score-above-rule",
    E,
    "得分高于评分规则",
    "Score above what the rule gives",
    "可由数据计算的指标（如预算执行率、在职人员控制率），自评得分高于按评分标准算出的得分。",
    "“{label}”按评分标准应得 {due} 分（{metric_label} 为 {metric}），自评 {score} 分偏高",
    "By its scoring rule '{label}' earns {due} ({metric_label} is {metric}); the self-score {score} is too high",
)
SCORE_BELOW_RULE = rule(
    "score-below-rule",
    W,
    "得分低于评分规则",
    "Score below what the rule gives",
    "自评得分低于按评分标准算出的得分：可能另有扣分原因，请确认。",
    "“{label}”按评分标准可得 {due} 分（{metric_label} 为 {metric}），自评 {score} 分；如另有扣分原因请写明",
    "By its scoring rule '{label}' earns {due} ({metric_label} is {metric}); self-score {score}; state any other reason",
)
REASON_MISSING = rule(
    "reason-missing",
    W,
    "未写扣分原因",
    "Deduction not explained",
    "自评得分低于分值，但扣分原因（指标表的偏差原因分析及改进措施）为空。",
    "“{label}”扣了 {deducted} 分，请填写{reason}",
    "'{label}' lost {deducted} {points_en}; give the reason",
)


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


@record
class _ScoredRow:
    """A score and the fields of its row the checks read (None: the row has no such field)."""

    score: PlacedField
    weight: PlacedField | None
    name: PlacedField | None
    reason: PlacedField | None


@record
class _ScoreFields:
    rows: tuple[_ScoredRow, ...]
    totals: tuple[PlacedField, ...]


@functools.lru_cache(maxsize=16)
def _score_fields(layout: Layout) -> _ScoreFields:
    """Each score with its row's weight, name and reason, and the total scores: the same for
    every workbook of a layout (which hashes by identity), so gathered once."""
    by_role: dict[str, dict[str | None, PlacedField]] = {"reason": {}, "weight": {}, "name": {}}
    for placed in layout.fields:
        role = "name" if placed.role == "indicator_name" else placed.role
        if role in by_role and placed.group is not None:
            by_role[role][placed.group] = placed
    rows = tuple(
        _ScoredRow(
            placed,
            by_role["weight"].get(placed.group),
            by_role["name"].get(placed.group),
            by_role["reason"].get(placed.group),
        )
        for placed in layout.fields
        if placed.role == "score"
    )
    return _ScoreFields(rows, tuple(f for f in layout.fields if f.role == "total_score"))


def check(context: RuleContext) -> Iterator[Finding]:
    fields = _score_fields(context.layout)
    for row in fields.rows:
        placed = row.score
        if placed.key not in context.workbook.cells:
            continue
        weight = _weight(context, placed, row.weight)
        if weight is None:
            continue
        label = _row_name(context, row.name) or placed.indicator_name
        yield from _check_score(context, placed, weight, label, row.reason)
    grading = context.grading
    maximum = grading.max_score + grading.bonus_max
    for total_field in fields.totals:
        if total_field.key not in context.workbook.cells:
            continue
        total = context.value_shown(total_field.key)
        if not isinstance(total, int | float):
            continue
        if total > maximum + 1e-9:
            yield make_finding(
                TOTAL_ABOVE_MAXIMUM,
                total_field,
                expected=maximum,
                actual=total,
                total=_points(total),
                maximum=_points(maximum),
            )
        elif total > grading.max_score + 1e-9:
            yield make_finding(
                BONUS_USED,
                total_field,
                expected=grading.max_score,
                actual=total,
                total=_points(total),
                base=_points(grading.max_score),
                bonus=_points(grading.bonus_max),
            )


def _weight(
    context: RuleContext, placed: PlacedField, weight_field: PlacedField | None
) -> float | None:
    """What a score is out of: its fixed weight, else the row's own 分值 cell (indicator rows)."""
    if placed.weight is not None:
        return placed.weight
    if weight_field is None or weight_field.key in context.unreliable:
        return None
    value = context.values.get(weight_field.key)
    return float(value) if isinstance(value, int | float) else None


def _row_name(context: RuleContext, name_field: PlacedField | None) -> str | None:
    """The name a unit wrote for its own indicator row (三级指标), if any."""
    value = context.values.get(name_field.key) if name_field is not None else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _check_score(
    context: RuleContext,
    placed: PlacedField,
    weight: float,
    label: str,
    reason: PlacedField | None,
) -> Iterator[Finding]:
    """One scored row: within its weight, explained when below it, as its rule gives."""
    score = context.values.get(placed.key)
    if not isinstance(score, int | float):
        return
    if score > weight + 1e-9:
        yield make_finding(
            SCORE_ABOVE_WEIGHT,
            placed,
            expected=weight,
            actual=score,
            label=label,
            score=_points(score),
            weight=_points(weight),
        )
    elif (
        score < weight - 1e-9
        and reason is not None
        and reason.key in context.workbook.cells
        and context.values.get(reason.key) in (None, "")
    ):
        deducted = weight - score
        yield make_finding(
            REASON_MISSING,
            reason,
            deducted=_points(deducted),
            points_en="point" if deducted == 1 else "points",
            label=label,
            reason=reason.spec.label,
        )
    rule_ = placed.spec.rule
    if rule_ is None or rule_.metric in context.unreliable:
        return
    metric = context.values.get(rule_.metric)
    due = expected_score(rule_, weight, metric if isinstance(metric, int | float) else None)
    if due is None or values_match(due, score, 2):
        return
    params: dict[str, Any] = {
        "label": label,
        "metric_label": context.layout.by_key[rule_.metric].short_label,
        "metric": context.show(rule_.metric, metric),
        "due": _points(due),
        "score": _points(score),
    }
    family = SCORE_ABOVE_RULE if score > due else SCORE_BELOW_RULE
    yield make_finding(family, placed, expected=due, actual=score, **params)
