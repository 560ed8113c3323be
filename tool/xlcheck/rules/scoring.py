"""The score table: scores within their weights, the total within the maximum, scores by rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from xlcheck.cell_values import values_match
from xlcheck.findings import Finding, Severity
from xlcheck.recompute import expected_score
from xlcheck.rules import RuleContext, make_finding, rule

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
    "总分超过满分（默认 100 分；模板声明加分项时为满分加加分上限）。",
    "总分 {total} 超过了满分 {maximum} 分",
    "The total score {total} is above the maximum of {maximum}",
)
BONUS_USED = rule(
    "bonus-used",
    W,
    "使用了加分",
    "Bonus points used",
    "总分超过 100 分但未超过模板允许的加分上限：请确认加分有依据。",
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
    "自评得分低于分值，但扣分原因为空。",
    "“{label}”扣了 {deducted} 分，请填写扣分原因",
    "'{label}' lost {deducted} points; give the reason",
)


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def check(context: RuleContext) -> Iterator[Finding]:
    scoring = context.scoring
    if scoring is None:
        return
    by_key = context.layout.by_key
    for placed in context.layout.fields:
        if (
            placed.indicator is None
            or not placed.key.startswith("score.")
            or placed.key not in context.workbook.cells
        ):
            continue
        score = context.values.get(placed.key)
        weight = placed.weight or 0.0
        if not isinstance(score, int | float):
            continue
        if score > weight + 1e-9:
            yield make_finding(
                SCORE_ABOVE_WEIGHT,
                placed,
                expected=weight,
                actual=score,
                label=placed.indicator_name,
                score=_points(score),
                weight=_points(weight),
            )
        elif score < weight - 1e-9:
            reason_key = f"reason.{placed.indicator}"
            if (
                context.values.get(reason_key) in (None, "")
                and reason_key in context.workbook.cells
            ):
                yield make_finding(
                    REASON_MISSING,
                    by_key[reason_key],
                    deducted=_points(weight - score),
                    label=placed.indicator_name,
                )
        rule_ = placed.spec.rule
        if rule_ is None or rule_.metric in context.unreliable:
            continue
        metric = context.values.get(rule_.metric)
        due = expected_score(rule_, weight, metric if isinstance(metric, int | float) else None)
        if due is None or values_match(due, score, 2):
            continue
        params: dict[str, Any] = {
            "label": placed.indicator_name,
            "metric_label": by_key[rule_.metric].short_label,
            "metric": context.show(rule_.metric, metric),
            "due": _points(due),
            "score": _points(score),
        }
        family = SCORE_ABOVE_RULE if score > due else SCORE_BELOW_RULE
        yield make_finding(family, placed, expected=due, actual=score, **params)
    total_field = by_key.get("total_score")
    total = context.value_shown("total_score")
    maximum = scoring.max_score + scoring.bonus_max
    if total_field is not None and isinstance(total, int | float):
        if total > maximum + 1e-9:
            yield make_finding(
                TOTAL_ABOVE_MAXIMUM,
                total_field,
                expected=maximum,
                actual=total,
                total=_points(total),
                maximum=_points(maximum),
            )
        elif total > scoring.max_score + 1e-9:
            yield make_finding(
                BONUS_USED,
                total_field,
                expected=scoring.max_score,
                actual=total,
                total=_points(total),
                base=_points(scoring.max_score),
                bonus=_points(scoring.bonus_max),
            )
