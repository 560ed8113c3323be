"""Derived values recomputed from the inputs alone, the way the template's formulas define them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from xlcheck.layout import Layout
from xlcheck.spec import Grade, ScoreRule


def _number(value: Any) -> float:
    """A value as SUM sees it: blanks and text count as 0."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _finite(number: float) -> float | None:
    """A result Excel can show; beyond a double's range it shows #NUM!, which is no value."""
    return number if math.isfinite(number) else None


def recompute_derived(
    layout: Layout, inputs: Mapping[str, Any], grades: tuple[Grade, ...] = ()
) -> dict[str, Any]:
    """Every derived value from the inputs (field key → normalised value or None).

    Returns:
        field key → value for every field: the inputs as given, derived values recomputed. A ratio
        whose denominator is 0 or blank is None, as the template's ``IF(N(x)=0,"",…)`` shows it;
        so is a result beyond a double's range (Excel's #NUM!).
    """
    values: dict[str, Any] = dict(inputs)
    for placed in layout.dependencies_first():
        derive = placed.spec.derive
        assert derive is not None
        operands = [values.get(key) for key in derive.operands]
        if derive.verb == "constant":
            values[placed.key] = derive.constant
        elif derive.verb == "sum":
            try:
                values[placed.key] = math.fsum(_number(v) for v in operands)
            except OverflowError:  # beyond a double, where Excel's SUM shows #NUM!
                values[placed.key] = None
        elif derive.verb == "difference":
            values[placed.key] = _finite(_number(operands[0]) - _number(operands[1]))
        elif derive.verb == "ratio":
            denominator = _number(operands[1])
            values[placed.key] = (
                None if denominator == 0 else _finite(_number(operands[0]) / denominator)
            )
        elif derive.verb == "grade":
            values[placed.key] = grade_for(_number(operands[0]), grades)
    return values


def grade_for(total: float, grades: tuple[Grade, ...]) -> str | None:
    if total == 0:
        return None
    for grade in grades:
        if total >= grade.minimum:
            return grade.name
    return grades[-1].name if grades else None


def canonical_grade(text: str, grades: tuple[Grade, ...]) -> str | None:
    """The grade a typed label means (优秀 → 优), or None for an unknown label."""
    cleaned = text.strip()
    for grade in grades:
        if cleaned == grade.name or cleaned in grade.aliases:
            return grade.name
    return None


def expected_score(rule: ScoreRule, weight: float, metric: float | None) -> float | None:
    """The score a rule gives for a metric value, or None when the metric is not known."""
    if metric is None:
        return None
    if rule.method == "proportional":
        share = 1.0 if rule.full_at <= 0 else min(max(metric / rule.full_at, 0.0), 1.0)
        return weight * share
    if rule.method == "deduct":
        if metric <= rule.limit + 1e-12:
            return weight
        steps = math.ceil((metric - rule.limit) / rule.step - 1e-9)
        return max(weight - steps * rule.points, 0.0)
    for kind, bound, share in rule.bands:
        if (
            kind == "any"
            or (kind == "at_least" and metric >= bound)
            or (kind == "at_most" and metric <= bound)
        ):
            return weight * share
    return 0.0
