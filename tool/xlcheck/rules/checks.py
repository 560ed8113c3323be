"""Relations the spec declares between fields (across sheets), and complete table rows."""

from __future__ import annotations

from collections.abc import Iterator

from xlcheck.cell_values import values_match
from xlcheck.findings import Finding, Severity
from xlcheck.rules import RuleContext, make_finding, rule
from xlcheck.spec import TableSheetSpec

E, W = Severity.ERROR, Severity.WARNING

CROSS_CHECK_MISMATCH = rule(
    "cross-check-mismatch",
    E,
    "前后数据不一致",
    "Figures disagree",
    "模板规定应相等的两个数（常在不同工作表上，如项目支出表合计与数据表的项目支出）不相等。",
    "{message}：{left_label} 为 {left}，{right_label} 为 {right}",
    "{message_en}: {left_label} is {left}, {right_label} is {right}",
)
LIMIT_EXCEEDED = rule(
    "limit-exceeded",
    E,
    "超过上限",
    "Above its limit",
    "模板规定不应超过另一个数的值超过了它（如实际支出超过可用资金）。",
    "{message}：{left_label} 为 {left}，{right_label} 为 {right}",
    "{message_en}: {left_label} is {left}, {right_label} is {right}",
)
ROW_INCOMPLETE = rule(
    "row-incomplete",
    E,
    "明细行不完整",
    "Incomplete row",
    "表格中已填写的一行缺少必填的列（如有项目名称但没有实际支出）。",
    "第 {row} 行已填写，但“{column}”为空",
    "Row {row} is in use but '{column}' is empty",
)


def check(context: RuleContext) -> Iterator[Finding]:
    by_key = context.layout.by_key
    for spec_check in context.layout.spec.checks:
        left, right = by_key[spec_check.left], by_key[spec_check.right]
        if left.key not in context.workbook.cells or right.key not in context.workbook.cells:
            continue
        if {left.key, right.key} & context.unreliable:
            continue
        left_value, right_value = context.value_shown(left.key), context.value_shown(right.key)
        if not isinstance(left_value, int | float) or not isinstance(right_value, int | float):
            continue
        decimals = min(d for d in (left.spec.decimals, right.spec.decimals, 9) if d is not None)
        if spec_check.relation == "equal":
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
                severity=Severity(spec_check.severity),
                message=spec_check.message,
                message_en=spec_check.message_en,
                left_label=left.label_path,
                right_label=right.label_path,
                left=context.show(left.key, left_value),
                right=context.show(right.key, right_value),
            )
    for sheet in context.layout.spec.sheets:
        if isinstance(sheet, TableSheetSpec):
            yield from _table_rows(context, sheet)


def _table_rows(context: RuleContext, sheet: TableSheetSpec) -> Iterator[Finding]:
    by_key = context.layout.by_key
    inputs = [c.key for c in sheet.columns if c.derive is None]
    for row in range(1, sheet.capacity + 1):
        keys = {column: f"{sheet.key}[{row}].{column}" for column in inputs}
        if not any(context.values.get(key) not in (None, "") for key in keys.values()):
            continue
        for column in sheet.row_required:
            key = keys.get(column)
            if (
                key
                and key in context.workbook.cells
                and context.values.get(key) in (None, "")
                and context.inputs[key].problem is None
            ):
                placed = by_key[key]
                yield make_finding(ROW_INCOMPLETE, placed, row=row, column=placed.spec.label)
