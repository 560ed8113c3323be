"""Derived cells: formula kept, not broken, and showing what the inputs give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from xlcheck.cell_values import excel_round, is_blank, values_match
from xlcheck.findings import Finding, Severity
from xlcheck.formula_text import normalise_formula
from xlcheck.formulas import template_formulas
from xlcheck.layout import PlacedField
from xlcheck.layout.self_check import SELF_CHECK_ROLE
from xlcheck.layout.table import TableLayout
from xlcheck.recompute import canonical_grade
from xlcheck.rounding import Agreement, total_agreement
from xlcheck.rules.registry import RuleContext, make_finding, rule

E, W = Severity.ERROR, Severity.WARNING

FORMULA_REPLACED = rule(
    "formula-replaced",
    W,
    "公式被改成数值",
    "Formula replaced by a value",
    "应由公式计算的单元格里被直接输入（或粘贴）了数值。该值已与重新计算的结果比较；"
    "即使现在相符，以后修改数据时它也不会随之更新。",
    "“{label}”应由公式计算，现为手工输入的值；请恢复公式 {formula}",
    "'{label}' should be computed by a formula but holds a typed value; restore the formula {formula}",
)
FORMULA_MISSING = rule(
    "formula-missing",
    E,
    "公式被删除",
    "Formula deleted",
    "应由公式计算的单元格为空。",
    "“{label}”的公式被删除，单元格为空；应为 {expected_text}，请恢复公式 {formula}",
    "'{label}' lost its formula and is empty; it should be {expected_text}; restore the formula {formula}",
)
FORMULA_ALTERED = rule(
    "formula-altered",
    W,
    "公式被修改",
    "Formula altered",
    "单元格的公式与模板不同（引用了别的单元格或改了算法）。",
    "“{label}”的公式与模板不同：现为 {actual_formula}，模板为 {formula}",
    "'{label}' has a different formula from the template: {actual_formula} instead of {formula}",
)
FORMULA_BROKEN = rule(
    "formula-broken",
    E,
    "公式引用失效",
    "Broken formula reference",
    "公式里有 #REF!：它引用的行、列或工作表已被删除。",
    "“{label}”的公式引用了已删除的单元格（{actual_formula}）；请恢复公式 {formula}",
    "'{label}' refers to deleted cells ({actual_formula}); restore the formula {formula}",
)
DERIVED_MISMATCH = rule(
    "derived-mismatch",
    E,
    "计算结果不符",
    "Computed value differs",
    "单元格显示的值与按模板公式从填报数据重新计算的结果不同（按显示精度比较）。",
    "“{label}”应为 {expected_text}，实际为 {actual_text}",
    "'{label}' should be {expected_text}, found {actual_text}",
)
RATIO_WRONG_BASE = rule(
    "ratio-wrong-base",
    E,
    "比率分母用错",
    "Ratio on the wrong base",
    "比率的值与另一个分母算出的结果相同：分母用错了（例如预算执行率用实际收入而不是预算数作分母）。",
    "“{label}”应为 {expected_text}（{numerator} ÷ {denominator}），实际 {actual_text} 是 {numerator} ÷ {wrong_base}：分母用错了",
    "'{label}' should be {expected_text} ({numerator} / {denominator}); {actual_text} is {numerator} / {wrong_base}: wrong base",
)
SHOWN_VALUE_WRONG = rule(
    "shown-value-wrong",
    E,
    "表上显示的结果不对",
    "Displayed result is wrong",
    "公式没有被改动，但工作簿保存的计算结果（表上显示、打印出来的数）与按填报数据重新计算的结果不同："
    "多半是公式引用的单元格里有文本形式的数字（求和时被忽略），或文件被不会重新计算的程序改过。",
    "“{label}”在表上显示为 {shown_text}，按填报数据应为 {expected_text}；请把引用单元格中的文本数字改为数字，并重新计算后保存",
    "'{label}' shows {shown_text} on the sheet but the inputs give {expected_text}; turn numbers stored as text into numbers and recalculate before saving",
)
GRADE_MISMATCH = rule(
    "grade-mismatch",
    E,
    "等级与总分不符",
    "Grade does not match the score",
    "填写的等级与总分按模板规格的等级分档所对应的等级不同（规格里列出的别名，如优秀之于优，视为同一等级）。",
    "等级应为“{grade}”（总分 {total}；分档：{bands}），实际为“{typed}”",
    "The grade should be '{grade}' (total {total}; bands: {bands_en}), found '{typed}'",
)

SUBTOTAL_WITHOUT_PARTS = rule(
    "subtotal-without-parts",
    W,
    "小计直接填写、明细为空",
    "Subtotal typed without its parts",
    "应由各明细相加的小计被直接填了数，而各明细都空着（常见于只有决算的基本支出、没有分项）。"
    "xlcheck 用填写的数计算上面的合计，只提示一次，不再逐项报明细为空。",
    "“{label}”直接填了 {value}，而它的各项明细都是空的：已按 {value} 计算上面的合计；如有明细请补填并恢复公式 {formula}",
    "'{label}' holds the typed figure {value} while all its parts are blank: the totals above use {value}; "
    "fill the parts if known and restore the formula {formula}",
)
FORMULA_NOT_COPIED = rule(
    "formula-not-copied",
    W,
    "插入的行没有公式",
    "Inserted row lacks the column's formula",
    "表格中插入的新行没有复制这一列的公式（Excel、WPS、LibreOffice 插入行时不会自动补公式）。"
    "这一行的数据照常计入合计（在合计公式的范围内时）。",
    "第 {row} 行是插入的行，“{column}”没有公式（应为 {expected_text}）；请从上一行复制这一列的公式（选中上一行的单元格，向下拖动填充柄）",
    "Row {row} was inserted and '{column}' has no formula (it should be {expected_text}); copy the column's "
    "formula down from the row above (drag the fill handle)",
)
TOTAL_OF_SHOWN_PARTS = rule(
    "total-of-shown-parts",
    W,
    "合计按显示值相加（舍位差）",
    "Total of the parts as shown (rounding)",
    "手工填写的合计等于各项按显示精度舍入后之和，而各项单元格里的数有更多小数，按实际数值合计略有不同："
    "这是舍位差，不是算错。每个显示的数代表一个区间（1,133.49 即 1,133.485 到 1,133.495），合计落在各项区间之和内即为舍位。",
    "“{label}”填的 {actual_text} 是各项显示值之和；按各项单元格里的数合计为 {expected_text}（舍位差）；请恢复公式 {formula}",
    "'{label}' holds {actual_text}, the sum of its parts as shown; the parts' own values add up to "
    "{expected_text} (a rounding difference); restore the formula {formula}",
)
RATIO_BASE_MISSING = rule(
    "ratio-base-missing",
    W,
    "比率无法核对",
    "Ratio cannot be checked",
    "比率单元格里填了数，但它的分母为空或为 0，无法核对这个比率是否正确。",
    "“{label}”填了 {actual_text}，但分母“{denominator}”为空或为 0，无法核对；请填写{denominator}并恢复公式",
    "'{label}' holds {actual_text} but its base '{denominator}' is blank or 0, so it cannot be checked; "
    "fill in the base and restore the formula",
)


def _compare(context: RuleContext, placed: PlacedField, actual: Any) -> Iterator[Finding]:
    expected = context.values.get(placed.key)
    derive = placed.spec.derive
    assert derive is not None
    if derive.verb == "grade":
        grades = context.grading.grades
        meant = canonical_grade(str(actual), grades) if actual is not None else None
        if expected is not None and meant != expected:
            total_key = derive.field_keys()[0]
            total = context.show(total_key, context.value_shown(total_key))
            yield make_finding(
                GRADE_MISMATCH,
                placed,
                expected=expected,
                actual=actual,
                total=total,
                grade=expected,
                typed=actual,
                bands=context.grading.bands_text("zh"),
                bands_en=context.grading.bands_text("en"),
            )
        return
    if expected is None and actual is None:
        return
    if values_match(expected, actual, placed.spec.decimals):
        return
    if derive.verb == "ratio" and expected is None and len(derive.field_keys()) == 2:
        # The right base is unknown: nothing says which base the typed rate used.
        denominator_field = context.layout.by_key[derive.field_keys()[1]]
        yield make_finding(
            RATIO_BASE_MISSING,
            placed,
            actual=actual,
            actual_text=context.show(placed.key, actual),
            denominator=denominator_field.short_label,
        )
        return
    params: dict[str, Any] = {
        "expected_text": context.show(placed.key, expected),
        "actual_text": context.show(placed.key, actual),
    }
    if _within_shown_parts(context, placed, actual):
        formula = template_formulas(context.layout).get(placed.key, "")
        yield make_finding(
            TOTAL_OF_SHOWN_PARTS,
            placed,
            expected=expected,
            actual=actual,
            formula=formula,
            **params,
        )
        return
    if derive.verb == "ratio" and isinstance(actual, float) and len(derive.field_keys()) == 2:
        numerator_key, denominator_key = derive.field_keys()
        for base in derive.alt_bases:
            numerator, denominator = context.values.get(numerator_key), context.values.get(base)
            if not (
                isinstance(numerator, float) and isinstance(denominator, float) and denominator
            ):
                continue
            if values_match(numerator / denominator, actual, placed.spec.decimals):
                yield make_finding(
                    RATIO_WRONG_BASE,
                    placed,
                    expected=expected,
                    actual=actual,
                    numerator=context.layout.by_key[numerator_key].short_label,
                    denominator=context.layout.by_key[denominator_key].short_label,
                    wrong_base=context.layout.by_key[base].short_label,
                    **params,
                )
                return
    yield make_finding(DERIVED_MISMATCH, placed, expected=expected, actual=actual, **params)


def _within_shown_parts(context: RuleContext, placed: PlacedField, actual: Any) -> bool:
    """Whether a typed total agrees with its parts as they are shown, only rounded differently.

    Each part shown with d decimals stands for an interval of half a unit of its last place
    either side (``rounding``); a total typed from the shown parts (1.00 + 2.00 = 3.00 where the
    cells hold 1.004 and 2.004) falls inside their sum. Only parts holding more decimals than
    they show were rounded: over parts that hold what they show, a total off by a cent is wrong.
    """
    derive = placed.spec.derive
    own = placed.spec.decimals
    if derive is None or derive.verb != "sum" or own is None or not isinstance(actual, int | float):
        return False
    parts: list[tuple[float, int]] = []
    rounded = False
    for key in derive.field_keys():
        part, decimals = context.values.get(key), context.layout.by_key[key].spec.decimals
        if part is None or part == "":
            continue
        if not isinstance(part, int | float) or decimals is None:
            return False
        shown = excel_round(part, decimals)
        rounded = rounded or not values_match(shown, part, None)
        parts.append((shown, decimals))
    return rounded and total_agreement(actual, own, parts) is not Agreement.MISMATCH


def _check_shown(context: RuleContext, placed: PlacedField, shown: Any) -> Iterator[Finding]:
    """The template's own formula, showing a result the inputs do not give.

    The saved result is what the sheet displays and what gets printed and stamped. It goes wrong
    when a referenced cell holds a number as text (SUM skips it) or the file was edited by a
    program that did not recalculate.
    """
    expected = context.values.get(placed.key)
    derive = placed.spec.derive
    if derive is not None and derive.verb == "grade":
        shown = canonical_grade(str(shown), context.grading.grades) or shown
    if expected is None and shown in (None, ""):
        return
    if values_match(expected, shown, placed.spec.decimals):
        return
    yield make_finding(
        SHOWN_VALUE_WRONG,
        placed,
        expected=expected,
        actual=shown,
        shown_text=context.show(placed.key, shown),
        expected_text=context.show(placed.key, expected),
    )


def _rows_without_formulas(context: RuleContext) -> frozenset[str]:
    """Derived cells of table rows a unit inserted without copying the formulas down.

    A table that grew by n rows holds n new rows; rows whose derived cells are all blank and hold
    no formula, when there are at most n of them, are those rows.
    """

    def bare(key: str) -> bool:
        reading = context.workbook.cells.get(key)
        return reading is not None and reading.formula is None and is_blank(reading.raw)

    found: set[str] = set()
    for sheet in context.layout.sheets:
        for block in sheet.blocks:
            if not isinstance(block, TableLayout) or not block.added_rows:
                continue
            rows: dict[int, list[str]] = {}
            for placed in block.fields:
                if placed.table_row and not placed.is_input:
                    rows.setdefault(placed.table_row, []).append(placed.key)
            without = [keys for keys in rows.values() if all(bare(key) for key in keys)]
            if len(without) <= block.added_rows:
                found.update(key for keys in without for key in keys)
    return frozenset(found)


def _check_self_check(
    context: RuleContext,
    placed: PlacedField,
    formula: str,
    unplaced: frozenset[str],
) -> Iterator[Finding]:
    """A 自查 cell: only its formula is compared (its text result is not recomputed).

    Its rows follow the sheets in workbook order: a unit who reorders the project sheets gets the
    same formulas in another order, which is no alteration. ``unplaced``: the sheets read at the
    template's positions.
    """
    if not context.workbook.formulas_read:
        return
    if unplaced:
        derive = placed.spec.derive
        reads = {context.layout.by_key[k].sheet for k in derive.field_keys()} if derive else set()
        if reads & unplaced:
            # A sheet read at the template's positions (rows-unrecognised says so): the 自查
            # formula's references follow where Excel moved the cells, which xlcheck did not find.
            return
    reading = context.workbook.cells[placed.key]
    if reading.formula == formula:
        return
    params: dict[str, Any] = {"formula": formula, "label": placed.short_label}
    if reading.formula is None:
        if is_blank(reading.raw) and reading.error is None:
            yield make_finding(FORMULA_MISSING, placed, expected_text="自查结果", **params)
        else:
            yield make_finding(FORMULA_REPLACED, placed, **params)
    elif normalise_formula(reading.formula) != normalise_formula(formula):
        expected, held = context.self_check_formulas
        if normalise_formula(reading.formula) in expected and normalise_formula(formula) in held:
            return
        code = FORMULA_BROKEN if "#REF!" in reading.formula.upper() else FORMULA_ALTERED
        yield make_finding(code, placed, actual_formula=reading.formula, **params)


def check(context: RuleContext) -> Iterator[Finding]:
    new_rows = _rows_without_formulas(context) if context.workbook.formulas_read else frozenset()
    notes = context.workbook.placement_notes
    unplaced = frozenset(n.sheet for n in notes if n.code == "rows-unrecognised")
    formulas = template_formulas(context.layout)
    readings = context.workbook.cells
    for placed in context.layout.derived_fields:
        reading = readings.get(placed.key)
        if reading is None:
            continue
        template_formula = formulas.get(placed.key)
        if placed.role == SELF_CHECK_ROLE and template_formula is not None:
            yield from _check_self_check(context, placed, template_formula, unplaced)
            continue
        if template_formula is None:  # a constant such as an indicator's weight
            actual = context.cells[placed.key].value
            if reading.formula is not None or not values_match(
                context.values.get(placed.key), actual, placed.spec.decimals
            ):
                yield from _compare(context, placed, actual)
            continue
        if placed.key in context.typed_subtotals:
            shown = context.show(placed.key, context.values.get(placed.key))
            yield make_finding(
                SUBTOTAL_WITHOUT_PARTS, placed, value=shown, formula=template_formula
            )
            continue
        if not context.workbook.formulas_read:
            # Only cached values could be read (formulas-unread says so): compare those alone.
            # A text result (an empty ratio, the grade) can come back as 0 there: calamine reads
            # string results of legacy .xls formulas as 0, so a 0 where text or a blank is due
            # proves nothing.
            expected = context.values.get(placed.key)
            text_due = expected is None or isinstance(expected, str)
            unreadable_text = text_due and reading.raw == 0
            if reading.error is None and not is_blank(reading.raw) and not unreadable_text:
                yield from _compare(context, placed, context.cells[placed.key].value)
            continue
        if reading.formula is None:
            if reading.error is not None:
                yield make_finding(FORMULA_REPLACED, placed, formula=template_formula)
                continue
            if is_blank(reading.raw):
                expected = context.values.get(placed.key)
                if placed.key in new_rows:
                    yield make_finding(
                        FORMULA_NOT_COPIED,
                        placed,
                        expected=expected,
                        expected_text=context.show(placed.key, expected),
                        row=placed.row_number,
                        column=placed.spec.label,
                    )
                    continue
                yield make_finding(
                    FORMULA_MISSING,
                    placed,
                    expected=expected,
                    expected_text=context.show(placed.key, expected),
                    formula=template_formula,
                )
                continue
            actual = context.cells[placed.key].value
            yield make_finding(FORMULA_REPLACED, placed, actual=actual, formula=template_formula)
            yield from _compare(context, placed, actual)
            continue
        if reading.formula == template_formula or normalise_formula(
            reading.formula
        ) == normalise_formula(template_formula):
            if not is_blank(reading.raw) and placed.key not in context.downstream_of_tampering:
                yield from _check_shown(context, placed, context.cells[placed.key].value)
            continue
        if "#REF!" in reading.formula.upper():
            yield make_finding(
                FORMULA_BROKEN, placed, actual_formula=reading.formula, formula=template_formula
            )
            continue
        yield make_finding(
            FORMULA_ALTERED,
            placed,
            actual=reading.formula,
            actual_formula=reading.formula,
            formula=template_formula,
        )
        if not is_blank(reading.raw):
            # The altered formula's cached result is the only evidence of what it shows.
            yield from _compare(context, placed, context.cells[placed.key].value)
