"""Derived values recomputed from the inputs alone, the way the template's formulas define them."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from typing import Any

from xlcheck.cell_values import excel_round
from xlcheck.layout import Layout
from xlcheck.spec import Derivation, Grade, ScoreRule


def _number(value: Any) -> float:
    """A value as SUM sees it: blanks and text count as 0."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _finite(number: float) -> float | None:
    """A result Excel can show; beyond a double's range it shows #NUM!, which is no value."""
    return number if math.isfinite(number) else None


def _is_number(value: Any) -> bool:
    """Whether Excel's COUNT counts the value: a number (a date too), not text, not blank."""
    return isinstance(value, int | float | dt.date) and not isinstance(value, bool)


def blank_guard(derive: Derivation, layout: Layout) -> tuple[str, ...]:
    """The fields whose being all blank leaves a derived cell blank, not 0.00.

    A blank template shows blanks in its sums, subtotals and scores until a unit types a number
    they read; the formula writes this as ``IF(COUNT(…)=0,"",…)``. A sum is blank when none of its
    cells holds a number; a sum reading a fixed value (分值) never is. Other arithmetic is blank
    while every cell it reads that can be blank is. Ratios, grades and copies are blank in their
    own way (and have no guard).
    """
    if derive.verb == "sum":
        if all(isinstance(o, str) for o in derive.operands) and not any(
            never_blank(str(o), layout) for o in derive.operands
        ):
            return tuple(str(o) for o in derive.operands)
        return ()
    if derive.verb in ("difference", "product", "min", "max", "round"):
        return tuple(k for k in dict.fromkeys(derive.field_keys()) if not never_blank(k, layout))
    return ()


def never_blank(key: str, layout: Layout) -> bool:
    """Whether a field always shows a number: a fixed value, or a sum of at least one."""
    derive = layout.by_key[key].spec.derive
    if derive is None:
        return False
    if derive.verb == "constant":
        return isinstance(derive.constant, int | float)
    return derive.verb == "sum" and not blank_guard(derive, layout)


def may_be_blank(key: str, layout: Layout) -> bool:
    """Whether a field's cell can show "" (text) rather than a number: arithmetic on it then
    needs ``N()``, as Excel's ``+``/``*`` fail on text where SUM skips it."""
    derive = layout.by_key[key].spec.derive
    if derive is None:
        return False
    return derive.verb in ("ratio", "grade", "copy") or bool(blank_guard(derive, layout))


def evaluate(derive: Derivation, values: Mapping[str, Any], grades: tuple[Grade, ...]) -> Any:
    """One derivation's value from the values of the fields it reads, as its formula gives it
    (without the blank guard of a whole cell: ``recompute_derived`` applies it)."""

    if derive.verb == "constant":
        return derive.constant
    if derive.verb == "self_check":
        # The 自查 sheet's text results are not recomputed: verify reports each problem at its
        # own cell, and the text depends on how the app formats numbers (see live_checks). Its
        # operands are not even looked up: a third of a template's derived cells are 自查's.
        return None
    operands = [
        values.get(o)
        if isinstance(o, str)
        else evaluate(o, values, grades)
        if isinstance(o, Derivation)
        else o
        for o in derive.operands
    ]
    if derive.verb == "sum":
        try:
            return math.fsum(_number(v) for v in operands)
        except OverflowError:  # beyond a double, where Excel's SUM shows #NUM!
            return None
    if derive.verb == "difference":
        return _finite(_number(operands[0]) - _number(operands[1]))
    if derive.verb == "product":
        return _finite(math.prod(_number(v) for v in operands))
    if derive.verb == "ratio":
        denominator = _number(operands[1])
        return None if denominator == 0 else _finite(_number(operands[0]) / denominator)
    if derive.verb == "min":
        return min(_number(v) for v in operands)
    if derive.verb == "max":
        return max(_number(v) for v in operands)
    if derive.verb == "round":
        return excel_round(_number(operands[0]), derive.decimals)
    if derive.verb == "grade":
        return grade_for(_number(operands[0]), grades)
    if derive.verb == "copy":
        return None if operands[0] == "" else operands[0]
    raise AssertionError(f"unknown derivation {derive.verb}")


def recompute_derived(
    layout: Layout, inputs: Mapping[str, Any], *, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every derived value from the inputs (field key → normalised value or None).

    Args:
        overrides: derived values taken as given instead of recomputed (a typed subtotal that
            stands for parts left blank).

    Returns:
        field key → value for every field: the inputs as given, derived values recomputed. A ratio
        whose denominator is 0 or blank is None, as the template's ``IF(N(x)=0,"",…)`` shows it;
        so is a sum none of whose cells holds a number (``blank_guard``), and a
        result beyond a double's range (Excel's #NUM!).
    """
    values: dict[str, Any] = dict(inputs)
    grades = layout.spec.grading.grades
    for key, derive, guard in _derivations(layout):
        if overrides and key in overrides:
            values[key] = overrides[key]
        elif guard and not any(_is_number(values.get(k)) for k in guard):
            values[key] = None
        else:
            values[key] = evaluate(derive, values, grades)
    return values


@functools.lru_cache(maxsize=16)
def _derivations(layout: Layout) -> tuple[tuple[str, Derivation, tuple[str, ...]], ...]:
    """Each derived field's key, derivation and blank guard, operands first: the same for every
    workbook a layout is placed in (a layout hashes by identity), worked out once."""
    found = []
    for placed in layout.dependencies_first():
        derive = placed.spec.derive
        assert derive is not None
        found.append((placed.key, derive, blank_guard(derive, layout)))
    return tuple(found)


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
