"""Where the template was found: sheets renamed or copied, rows inserted, deleted or left out of a total."""

from __future__ import annotations

from collections.abc import Iterator

from xlcheck.findings import CellRef, Finding, Severity
from xlcheck.rules.registry import RuleContext, make_finding, rule

E, W = Severity.ERROR, Severity.WARNING

SHEET_RENAMED = rule(
    "sheet-renamed",
    W,
    "工作表被改名",
    "Sheet renamed",
    "模板的某张工作表在工作簿里换了名字，xlcheck 按内容找到了它，并照常校验。",
    "工作表“{sheet}”就是模板的“{template_sheet}”（被改了名）；已照常校验，请改回原名以便汇总",
    "Sheet '{sheet}' is the template's '{template_sheet}' under another name; it was checked as usual, "
    "rename it back for the summary",
)
SHEET_COPIED = rule(
    "sheet-copied",
    W,
    "工作表重复",
    "Sheet copied",
    "工作簿里有两张内容都是模板同一张工作表的表（例如两份模板的表被复制进同一个文件）。"
    "只校验与模板同名（或最先找到）的那张，其余的未校验。",
    "工作表“{sheet}”是模板“{template_sheet}”的又一份副本，未校验；只校验了“{template_sheet}”，"
    "请删除多余的表或分开报送",
    "Sheet '{sheet}' is another copy of the template's '{template_sheet}' and was not checked; "
    "only '{template_sheet}' was; delete the extra sheet or send it separately",
)
ROWS_MOVED = rule(
    "rows-moved",
    W,
    "行被插入或删除",
    "Rows inserted or deleted",
    "工作表中插入或删除了行，模板的各行不在原来的位置。xlcheck 按 A 列的项目名称找到了每一行，"
    "按它们现在所在的位置校验；插入行中的内容不属于模板，未校验。",
    "工作表“{sheet}”插入了 {inserted} 行、删除了 {deleted} 行：已按各项现在所在的行校验，"
    "插入行中的内容未校验；请尽量不要改动模板的行",
    "Sheet '{sheet}' has {inserted} rows inserted and {deleted} deleted: every item was checked where "
    "it now stands, and the inserted rows were not; please keep the template's rows",
)
ROWS_UNRECOGNISED = rule(
    "rows-unrecognised",
    W,
    "找不到模板的行",
    "Template row not found",
    "工作表的行被改动（删除、改名或打乱），xlcheck 无法可靠地找到模板的每一行，"
    "因此按模板原来的位置读取；这张表上的其他发现可能因此有误。",
    "工作表“{sheet}”中找不到“{label}”这一行（被删除或改了名称）：已按模板原来的位置读取，"
    "这张表上的其他发现可能因此有误；请按模板恢复这一行",
    "Sheet '{sheet}' has no row '{label}' (deleted or renamed): cells were read where the template "
    "put them, so other findings on this sheet may be wrong; restore the template's row",
)
ROW_OUTSIDE_TOTAL = rule(
    "row-outside-total",
    E,
    "行不在合计范围内",
    "Row left out of the total",
    "表格中插入的行在合计行求和公式的范围之外（插在合计行上方或表头下方时 Excel 不会扩展求和范围），"
    "合计没有包括这一行的数。",
    "第 {row_number} 行有数据，但合计行的公式只加总第 {first}–{last} 行，合计没有包括这一行；"
    "请把合计公式的范围扩展到这一行",
    "Row {row_number} holds data but the 合计 row only adds up rows {first}-{last}, leaving it out; "
    "extend the total's range to this row",
)

_RULES = {
    r.code: r
    for r in (SHEET_RENAMED, SHEET_COPIED, ROWS_MOVED, ROWS_UNRECOGNISED, ROW_OUTSIDE_TOTAL)
}


def check(context: RuleContext) -> Iterator[Finding]:
    for note in context.workbook.placement_notes:
        placed = context.layout.by_key[note.field] if note.field else None
        location = None if placed else CellRef(note.sheet_index, note.row_number, 1, note.sheet)
        yield make_finding(_RULES[note.code], placed, location=location, **note.params)
