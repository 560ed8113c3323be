"""The checks a spec declares: two figures equal or one at most the other (across sheets), a
date within its year or at the year's end, a stated count of rows against the rows filled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from xlcheck.cell_values import values_match
from xlcheck.findings import Finding, Severity
from xlcheck.layout import PlacedField
from xlcheck.recompute import blank_guard
from xlcheck.rules.registry import RuleContext, make_finding, rule
from xlcheck.spec import CheckSpec

E, W = Severity.ERROR, Severity.WARNING

CROSS_CHECK_MISMATCH = rule(
    "cross-check-mismatch",
    E,
    "前后数据不一致",
    "Figures disagree",
    "模板规定应相等的两个数（常在不同工作表上，如项目支出表合计与数据表的项目支出）不相等。",
    "{message}：{left_label} 为 {left}，{right_label} 为 {right}",
    "{message_en}: {left_label} is {left}, {right_label} is {right}",
    severity_from_spec=True,
)
LIMIT_EXCEEDED = rule(
    "limit-exceeded",
    E,
    "超过上限",
    "Above its limit",
    "模板规定不应超过另一个数的值超过了它（如实际支出超过可用资金）。",
    "{message}：{left_label} 为 {left}，{right_label} 为 {right}",
    "{message_en}: {left_label} is {left}, {right_label} is {right}",
    severity_from_spec=True,
)
DATE_OUTSIDE_YEAR = rule(
    "date-outside-year",
    E,
    "日期不在应在的年度",
    "Date in the wrong year",
    "模板规定某个日期应在评价年度内（或评价年度的下一年，如填报日期），而填写的日期不在该年。",
    "“{label}”为 {date}，应在 {year} 年内（{which}）",
    "'{label}' is {date}; it should fall in {year} ({which_en})",
    severity_from_spec=True,
)
DATE_NOT_YEAR_END = rule(
    "date-not-year-end",
    E,
    "不是年末日期",
    "Not the year's end",
    "模板规定某个日期应为评价年度的年末（12 月 31 日），如年末人数的统计时点。",
    "“{label}”应为评价年度年末 {year_end}，实际为 {date}",
    "'{label}' should be the evaluated year's end, {year_end}; found {date}",
    severity_from_spec=True,
)
ROW_COUNT_MISMATCH = rule(
    "row-count-mismatch",
    E,
    "填写的行数与所写个数不符",
    "Rows filled differ from the stated count",
    "表中填写的行数与另一处写明的个数不同（如项目个数写 7 个，项目表只填了 5 行）。",
    "“{label}”写的是 {stated} 个，但“{table}”中填写了 {filled} 行",
    "'{label}' states {stated}, but {filled} rows of '{table}' are filled",
    severity_from_spec=True,
)

#: Default wording of the two relations, when the spec gives no message of its own.
_RELATION_WORDS = {
    "equal": ("两处数字应相等", "The two figures must be equal"),
    "at_most": ("前一个数不应超过后一个数", "The first figure must not exceed the second"),
}


def _pairs(context: RuleContext, check: CheckSpec) -> list[tuple[PlacedField, PlacedField]]:
    """The field pairs a relation compares: one pair, or one per sheet written once per item."""
    layout = context.layout
    lefts, rights = layout.instances_of(check.left), layout.instances_of(check.right)
    if len(lefts) == len(rights):
        pairs = list(zip(lefts, rights, strict=True))
    elif len(lefts) == 1:
        pairs = [(lefts[0], r) for r in rights]
    elif len(rights) == 1:
        pairs = [(left, rights[0]) for left in lefts]
    else:
        pairs = []
    return [(layout.by_key[a], layout.by_key[b]) for a, b in pairs]


def _as_compared(context: RuleContext, placed: PlacedField, value: Any) -> Any:
    """A total left blank because none of its parts is filled counts as 0 against a figure
    (a 项目支出 of 311.52 万元 with an empty project list is still a difference)."""
    derive = placed.spec.derive
    if value is None and derive is not None and blank_guard(derive, context.layout):
        return 0.0
    return value


def _relation(context: RuleContext, check: CheckSpec) -> Iterator[Finding]:
    default, default_en = _RELATION_WORDS[check.relation]
    for left, right in _pairs(context, check):
        if left.key not in context.workbook.cells or right.key not in context.workbook.cells:
            continue
        if {left.key, right.key} & context.unreliable:
            continue
        left_value = _as_compared(context, left, context.value_shown(left.key))
        right_value = _as_compared(context, right, context.value_shown(right.key))
        if not isinstance(left_value, int | float) or not isinstance(right_value, int | float):
            continue
        decimals = min(d for d in (left.spec.decimals, right.spec.decimals, 9) if d is not None)
        if check.relation == "equal":
            failed = not values_match(right_value, left_value, decimals)
            family = CROSS_CHECK_MISMATCH
        else:
            failed = left_value > right_value and not values_match(
                right_value, left_value, decimals
            )
            family = LIMIT_EXCEEDED
        if failed:
            yield make_finding(
                family,
                left,
                expected=right_value,
                actual=left_value,
                severity=Severity(check.severity),
                message=check.message or default,
                message_en=check.message_en or default_en,
                left_label=left.label_path,
                right_label=right.label_path,
                left=context.show(left.key, left_value),
                right=context.show(right.key, right_value),
            )


def evaluated_year(context: RuleContext) -> int:
    """The year under evaluation: the workbook's own year field when it holds one, else the spec's."""
    key = context.layout.role("year")
    value = context.values.get(key) if key else None
    if isinstance(value, int) and 1900 < value < 3000:
        return value
    return context.layout.spec.year


def _dates(context: RuleContext, check: CheckSpec) -> Iterator[Finding]:
    year = evaluated_year(context)
    for key in context.layout.instances_of(check.left):
        placed = context.layout.by_key[key]
        date = context.values.get(key)
        if not isinstance(date, dt.date) or key in context.unreliable:
            continue
        severity = Severity(check.severity)
        if check.relation == "year_end":
            expected = dt.date(year, 12, 31)
            if date != expected:
                yield make_finding(
                    DATE_NOT_YEAR_END,
                    placed,
                    expected=expected.isoformat(),
                    actual=date.isoformat(),
                    severity=severity,
                    year_end=expected.isoformat(),
                    date=date.isoformat(),
                )
            continue
        wanted = year + check.offset
        if date.year != wanted:
            which = "评价年度" if check.offset == 0 else f"评价年度 {year} 年的下一年"
            which_en = "the evaluated year" if check.offset == 0 else f"the year after {year}"
            yield make_finding(
                DATE_OUTSIDE_YEAR,
                placed,
                actual=date.isoformat(),
                severity=severity,
                date=date.isoformat(),
                year=wanted,
                which=which,
                which_en=which_en,
            )


def _row_count(context: RuleContext, check: CheckSpec) -> Iterator[Finding]:
    layout = context.layout
    for stated_key in layout.instances_of(check.right):
        stated = context.values.get(stated_key)
        if not isinstance(stated, int | float) or stated_key in context.unreliable:
            continue
        prefix = stated_key[: len(stated_key) - len(check.right)]
        table = prefix + check.left
        rows = {
            f.table_row
            for f in layout.fields
            if f.table == table
            and f.table_row
            and f.is_input
            and context.values.get(f.key) not in (None, "")
        }
        if len(rows) != stated:
            placed = layout.by_key[stated_key]
            sheet = next((f.sheet for f in layout.fields if f.table == table), table)
            yield make_finding(
                ROW_COUNT_MISMATCH,
                placed,
                expected=len(rows),
                actual=stated,
                severity=Severity(check.severity),
                stated=f"{stated:g}",
                filled=len(rows),
                table=sheet,
            )


def check(context: RuleContext) -> Iterator[Finding]:
    for spec_check in context.layout.spec.checks:
        if spec_check.relation in _RELATION_WORDS:
            yield from _relation(context, spec_check)
        elif spec_check.relation in ("year_of", "year_end"):
            yield from _dates(context, spec_check)
        else:
            yield from _row_count(context, spec_check)
