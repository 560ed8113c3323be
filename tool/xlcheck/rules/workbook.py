"""How the file itself came back: formulas unreadable, hidden sheets, macros, links, dropped validation."""

from __future__ import annotations

from collections.abc import Iterator

from xlcheck.findings import CellRef, Finding, Severity
from xlcheck.rules.registry import RuleContext, make_finding, rule

W = Severity.WARNING

FORMULAS_UNREAD = rule(
    "formulas-unread",
    W,
    "公式无法读取",
    "Formulas not read",
    "工作簿的文件结构特殊（如旧版 .xls、zip 内路径用反斜杠、某些数据透视表），只能读出单元格的值，"
    "读不出公式：已按显示的值校验，公式是否被改动未检查，也无法写出批注副本。",
    "只能读出单元格的值，读不出公式（{reason}）：已按显示的值校验，未检查公式，未写批注副本；"
    "请在 Excel、WPS 或 LibreOffice 中另存为 .xlsx 后再校验",
    "Only cell values could be read, not formulas ({reason}): values were checked, formulas were not, "
    "and no annotated copy was written; save it as .xlsx in Excel, WPS or LibreOffice and verify again",
)
SHEET_HIDDEN = rule(
    "sheet-hidden",
    W,
    "工作表被隐藏",
    "Sheet hidden",
    "模板的某张工作表被隐藏了。其中的单元格照常校验，但审阅的人可能看不到它。",
    "工作表“{sheet}”被隐藏；已照常校验，请取消隐藏以便审阅",
    "Sheet '{sheet}' is hidden; it was checked as usual, unhide it for reviewers",
)
MACROS_PRESENT = rule(
    "macros-present",
    W,
    "含有宏",
    "Contains macros",
    "工作簿含有 VBA 宏。xlcheck 从不运行宏；批注副本为 .xlsm 时保留宏，为 .xlsx 时去掉宏。",
    "工作簿含有 VBA 宏（xlcheck 不会运行）；{kept}",
    "The workbook contains VBA macros (xlcheck never runs them); {kept_en}",
)
EXTERNAL_LINKS = rule(
    "external-links",
    W,
    "链接到其他工作簿",
    "Links to other workbooks",
    "工作簿含有指向其他文件的外部链接。xlcheck 不打开、不更新这些链接，只使用保存时缓存的值。",
    "工作簿链接了 {count} 个外部文件；xlcheck 未打开它们，只用了保存时的缓存值；请把链接的数据粘贴为数值",
    "The workbook links to {count} external files; xlcheck did not open them and used the values cached at save; "
    "paste the linked data as values",
)
VALIDATION_DROPPED = rule(
    "validation-dropped",
    W,
    "批注副本丢失部分数据验证",
    "Some data validation not kept",
    "工作簿用到了 Excel 扩展格式（x14）的数据验证（如引用其他工作表的下拉列表），"
    "批注副本无法保留这些下拉列表；原文件不受影响。",
    "工作簿含有扩展格式（x14）的数据验证，批注副本中这些下拉列表会丢失；原文件不受影响",
    "The workbook uses extended (x14) data validation, which the annotated copy cannot keep; the original is unchanged",
)


def check(context: RuleContext) -> Iterator[Finding]:
    workbook = context.workbook
    if not workbook.formulas_read:
        yield make_finding(FORMULAS_UNREAD, None, reason=workbook.formula_problem or "")
    sheet_index = {s.sheet.name: s.index for s in context.layout.sheets}
    for name in workbook.hidden_sheets:
        if name in sheet_index:
            yield make_finding(
                SHEET_HIDDEN, None, location=CellRef(sheet_index[name], 1, 1, name), sheet=name
            )
    package = workbook.package
    if package is None:
        return
    if package.has_macros:
        yield make_finding(
            MACROS_PRESENT,
            None,
            kept="批注副本为 .xlsm 时保留宏，为 .xlsx 时不含宏"
            if workbook.path.suffix.lower() != ".xlsm"
            else "批注副本（.xlsm）原样保留了宏",
            kept_en="an .xlsm annotated copy keeps them, an .xlsx copy leaves them out"
            if workbook.path.suffix.lower() != ".xlsm"
            else "the .xlsm annotated copy keeps them as they are",
        )
    if package.external_links:
        yield make_finding(EXTERNAL_LINKS, None, count=len(package.external_links))
    if package.has_x14_validation and workbook.formulas_read:
        yield make_finding(VALIDATION_DROPPED, None)
