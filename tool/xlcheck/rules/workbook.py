"""How the file itself came back: formulas unreadable, hidden sheets, macros, links."""

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
    "读不出公式：已按显示的值校验，公式是否被改动未检查。旧版 .xls 没有 Office Open XML 包，不写批注副本。",
    "只能读出单元格的值，读不出公式（{reason}）：已按显示的值校验，未检查公式{copy}；"
    "请在 Excel、WPS 或 LibreOffice 中另存为 .xlsx 后再校验",
    "Only cell values could be read, not formulas ({reason}): values were checked, formulas were not{copy_en}; "
    "save it as .xlsx in Excel, WPS or LibreOffice and verify again",
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
    "工作簿含有 VBA 宏。xlcheck 从不运行宏；批注副本为 .xlsx（默认）时不含宏，用 -o 指定 .xlsm 文件名时原样保留。",
    "工作簿含有 VBA 宏（xlcheck 不会运行）；.xlsx 批注副本不含宏，用 -o 指定 .xlsm 文件名可原样保留",
    "The workbook contains VBA macros (xlcheck never runs them); an .xlsx annotated copy leaves them out, "
    "an .xlsm one (name it with -o) keeps them as they are",
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


def check(context: RuleContext) -> Iterator[Finding]:
    workbook = context.workbook
    if not workbook.formulas_read:
        # Only a package that is not Office Open XML (a legacy .xls) gets no annotated copy.
        no_copy = workbook.package is not None and workbook.package.kind not in ("xlsx", "xlsm")
        yield make_finding(
            FORMULAS_UNREAD,
            None,
            reason=workbook.formula_problem or "",
            copy="，此格式不写批注副本" if no_copy else "",
            copy_en=", and no annotated copy is written for this format" if no_copy else "",
        )
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
        yield make_finding(MACROS_PRESENT, None)
    if package.external_links:
        yield make_finding(EXTERNAL_LINKS, None, count=len(package.external_links))
