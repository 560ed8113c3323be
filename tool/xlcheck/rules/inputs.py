"""Input cells: required, typed, within range, from the list, not an error value."""

from __future__ import annotations

from collections.abc import Iterator

from xlcheck.cell_values import bounds_text
from xlcheck.findings import CellRef, Finding, Severity
from xlcheck.rules.registry import RuleContext, make_finding, rule

E, W = Severity.ERROR, Severity.WARNING

SHEET_MISSING = rule(
    "sheet-missing",
    E,
    "缺少工作表",
    "Sheet missing",
    "模板中的某张工作表在工作簿里找不到（被删除或改名），其中的单元格都无法校验。"
    "模板生成的“自查”表缺失只是警告：它只帮助填报，校验不依赖它。",
    "找不到工作表“{sheet}”（可能被删除或改名），其中的 {count} 个单元格无法校验",
    "Sheet '{sheet}' is missing (deleted or renamed); its {count} cells cannot be checked",
)
REQUIRED_MISSING = rule(
    "required-missing",
    E,
    "必填项为空",
    "Required cell empty",
    "模板规定必须填写的单元格为空。",
    "“{label}”为必填项，但未填写",
    "'{label}' is required but empty",
)
NOT_A_NUMBER = rule(
    "not-a-number",
    E,
    "不是数字",
    "Not a number",
    "数值单元格里是无法读作数字的文字。",
    "“{label}”应为数字，实际为“{text}”",
    "'{label}' must be a number, found '{text}'",
)
NOT_AN_INTEGER = rule(
    "not-an-integer",
    E,
    "不是整数",
    "Not a whole number",
    "人数、个数等整数单元格里填了小数。",
    "“{label}”应为整数，实际为 {text}",
    "'{label}' must be a whole number, found {text}",
)
NOT_A_DATE = rule(
    "not-a-date",
    E,
    "不是日期",
    "Not a date",
    "日期单元格里的内容无法读作日期。",
    "“{label}”应为日期（如 2024-07-28），实际为“{text}”",
    "'{label}' must be a date (e.g. 2024-07-28), found '{text}'",
)
NUMBER_AS_TEXT = rule(
    "number-as-text",
    W,
    "数字以文本形式输入",
    "Number stored as text",
    "数字以文本形式输入（含千位分隔符、全角数字、单位、百分号或空格）。xlcheck 已按数字校验，"
    "但 Excel 的求和等公式会忽略文本，表上的合计因而可能不对。",
    "“{label}”的数字是文本“{text}”，已按 {value} 校验；Excel 公式会忽略文本，请改为数字格式重新输入",
    "'{label}' holds the number as text '{text}', checked as {value}; Excel formulas ignore text, re-enter it as a number",
)
DATE_AS_TEXT = rule(
    "date-as-text",
    W,
    "日期以文本形式输入",
    "Date stored as text",
    "日期以文本形式输入，xlcheck 已按日期校验。",
    "“{label}”的日期是文本“{text}”，已按 {value} 校验；请改为日期格式",
    "'{label}' holds the date as text '{text}', checked as {value}; enter it as a date",
)
OUT_OF_RANGE = rule(
    "out-of-range",
    E,
    "超出范围",
    "Out of range",
    "数值小于模板规定的下限或大于上限。",
    "“{label}”应{bounds}，实际为 {value}",
    "'{label}' must be {bounds_en}, found {value}",
)
INVALID_CHOICE = rule(
    "invalid-choice",
    E,
    "不在可选项内",
    "Not one of the choices",
    "单元格的内容不是下拉列表中的选项。",
    "“{label}”应为以下之一：{choices}，实际为“{text}”",
    "'{label}' must be one of {choices_en}, found '{text}'",
)
ERROR_VALUE = rule(
    "error-value",
    E,
    "错误值",
    "Error value",
    "单元格显示 Excel 错误值（#DIV/0!、#REF!、#N/A 等）。",
    "“{label}”是错误值 {text}",
    "'{label}' holds the error value {text}",
)

_PROBLEM_RULES = {
    "not-a-number": NOT_A_NUMBER,
    "not-an-integer": NOT_AN_INTEGER,
    "not-a-date": NOT_A_DATE,
    "invalid-choice": INVALID_CHOICE,
}


#: The largest number Excel accepts in a cell; sums of larger ones overflow (Excel shows #NUM!).
_EXCEL_LARGEST = 9.99999999999999e307


def check(context: RuleContext) -> Iterator[Finding]:
    missing_sheets = context.workbook.missing_sheets
    for sheet_layout in context.layout.sheets if missing_sheets else ():
        name = sheet_layout.sheet.name
        if name in missing_sheets:
            yield make_finding(
                SHEET_MISSING,
                None,
                # The 自查 sheet only helps while typing: without it nothing is left unchecked.
                severity=Severity.WARNING if sheet_layout.generated else None,
                location=CellRef(sheet_layout.index, 1, 1, name),
                sheet=name,
                count=sum(1 for placed in context.layout.fields if placed.sheet == name),
            )
    readings = context.workbook.cells
    for placed in context.layout.input_fields:
        reading = readings.get(placed.key)
        if reading is None:
            continue
        spec = placed.spec
        if reading.error is not None:
            yield make_finding(ERROR_VALUE, placed, actual=reading.error, text=reading.error)
            continue
        normalised = context.cells[placed.key]
        if normalised.problem in _PROBLEM_RULES:
            text = str(reading.raw)
            yield make_finding(
                _PROBLEM_RULES[normalised.problem],
                placed,
                actual=text,
                text=text,
                choices="、".join(spec.choices),
                choices_en=", ".join(spec.choices),
            )
            continue
        value = normalised.value
        if value is None:
            if spec.required and placed.key not in context.excused:
                yield make_finding(REQUIRED_MISSING, placed)
            continue
        if normalised.was_text:
            text = str(reading.raw)
            shown = context.show(placed.key, value)
            family = DATE_AS_TEXT if spec.value_type == "date" else NUMBER_AS_TEXT
            yield make_finding(family, placed, expected=value, actual=text, text=text, value=shown)
        if spec.value_type == "choice" and value not in spec.choices:
            yield make_finding(
                INVALID_CHOICE,
                placed,
                actual=value,
                text=value,
                choices="、".join(spec.choices),
                choices_en=", ".join(spec.choices),
            )
        if isinstance(value, int | float):
            # A score above its weight has a rule of its own (scoring family).
            high = None if spec.value_type == "score" else spec.maximum
            too_low = spec.minimum is not None and value < spec.minimum
            too_high = high is not None and value > high
            beyond_excel = abs(value) > _EXCEL_LARGEST
            if too_low or too_high or beyond_excel:
                low_shown = (
                    -_EXCEL_LARGEST if spec.minimum is None and beyond_excel else spec.minimum
                )
                high_shown = _EXCEL_LARGEST if beyond_excel else spec.maximum
                yield make_finding(
                    OUT_OF_RANGE,
                    placed,
                    actual=value,
                    bounds=bounds_text(low_shown, high_shown, spec.value_type),
                    bounds_en=bounds_text(low_shown, high_shown, spec.value_type, "en"),
                    value=context.show(placed.key, value),
                )
