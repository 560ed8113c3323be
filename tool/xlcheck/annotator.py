"""Verification result + source workbook → a NEW annotated .xlsx; the input is never touched."""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlcheck.errors import WorkbookError
from xlcheck.findings import Finding, Severity, VerificationResult

RESULTS_SHEET = "校验结果"
RESULTS_SHEET_EN = "Findings"
_FILLS = {Severity.ERROR: "FFC7CE", Severity.WARNING: "FFEB9C"}
_SEVERITY_NAMES = {"zh": {Severity.ERROR: "错误", Severity.WARNING: "警告"}, "en": {Severity.ERROR: "error", Severity.WARNING: "warning"}}
_HEADERS = {
    "zh": ("序号", "级别", "代码", "位置", "字段", "说明", "应为", "实际"),
    "en": ("No.", "Severity", "Code", "Cell", "Field", "Message", "Expected", "Actual"),
}
# Text that a spreadsheet would run as a formula (or DDE) when it starts with one of these.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    """Cell text that cannot run as a formula: a leading =, +, -, @ gets a ' in front."""
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _anchor(sheet: Any, cell_ref: str) -> Any:
    """The cell to mark: for a cell inside a merged range, its top-left cell."""
    from openpyxl.cell.cell import MergedCell  # noqa: PLC0415

    cell = sheet[cell_ref]
    if isinstance(cell, MergedCell):
        for merged in sheet.merged_cells.ranges:
            if cell.coordinate in merged:
                return sheet.cell(merged.min_row, merged.min_col)
    return cell


def _mark(book: Any, finding: Finding, lang: str) -> None:
    from openpyxl.comments import Comment  # noqa: PLC0415
    from openpyxl.styles import PatternFill  # noqa: PLC0415

    location = finding.location
    if location is None or location.sheet not in book.sheetnames:
        return
    cell = _anchor(book[location.sheet], location.cell_ref)
    current = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None
    # An error's red is never downgraded to a warning's amber on the same cell.
    if finding.severity is Severity.ERROR or current != "00" + _FILLS[Severity.ERROR]:
        color = _FILLS[finding.severity]
        cell.fill = PatternFill(fill_type="solid", fgColor=color, bgColor=color)
    text = f"[{_SEVERITY_NAMES[lang][finding.severity]} {finding.code}] {finding.message_in(lang)}"
    if finding.expected is not None:
        text += f"\n{'应为' if lang == 'zh' else 'Expected'}: {finding.expected}"
    if cell.comment is not None:
        text = f"{cell.comment.text}\n\n{text}"
    comment = Comment(text, "xlcheck")
    comment.width, comment.height = 320, 160
    cell.comment = comment


def _write_results_sheet(book: Any, result: VerificationResult, findings: Sequence[Finding], lang: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415

    name = RESULTS_SHEET if lang == "zh" else RESULTS_SHEET_EN
    if name in book.sheetnames:  # verifying an annotated copy again
        del book[name]
    sheet = book.create_sheet(name, 0)
    template = f"{result.template.id} {result.template.version}" if result.template else "—"
    if lang == "zh":
        lines = [
            "xlcheck 校验结果",
            f"文件：{result.path.name}　模板：{template}　最后保存：{result.application or '未知'}",
            f"错误 {result.errors} 个，警告 {result.warnings} 个。点击“位置”可跳到对应单元格；单元格批注写明了应为的值。",
        ]
    else:
        lines = [
            "xlcheck findings",
            f"File: {result.path.name}  Template: {template}  Last saved by: {result.application or 'unknown'}",
            f"{result.errors} errors, {result.warnings} warnings. Click a cell address to jump to it; its comment gives the expected value.",
        ]
    for row, line in enumerate(lines, start=1):
        sheet.cell(row, 1, safe_text(line))
    sheet["A1"].font = Font(bold=True, size=14)
    header_row = len(lines) + 2
    for col, header in enumerate(_HEADERS[lang], start=1):
        cell = sheet.cell(header_row, col, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill(fill_type="solid", fgColor="D9E1F2")
    for number, finding in enumerate(findings, start=1):
        row = header_row + number
        location = finding.location
        values = (
            number,
            _SEVERITY_NAMES[lang][finding.severity],
            finding.code,
            str(location) if location else "",
            finding.field or "",
            finding.message_in(lang),
            "" if finding.expected is None else finding.expected,
            "" if finding.actual is None else finding.actual,
        )
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row, col, safe_text(value))
            cell.alignment = Alignment(wrap_text=col == 6, vertical="top")
        sheet.cell(row, 2).fill = PatternFill(fill_type="solid", fgColor=_FILLS[finding.severity])
        if location and location.sheet in book.sheetnames:
            link = sheet.cell(row, 4)
            link.hyperlink = "#'{}'!{}".format(location.sheet.replace("'", "''"), location.cell_ref)
            link.font = Font(color="0563C1", underline="single")
    for col, width in zip("ABCDEFGH", (6, 8, 22, 16, 30, 70, 14, 14), strict=True):
        sheet.column_dimensions[col].width = width
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    for other in book.worksheets:
        other.sheet_view.tabSelected = False
    sheet.sheet_view.tabSelected = True
    book.active = 0


def annotate_workbook(result: VerificationResult, out: Path, *, lang: str = "zh") -> Path:
    """Write a copy of ``result.path`` with every finding marked at its cell and a results sheet.

    The copy is written to a temporary file beside ``out`` and renamed into place, so an
    interrupted run never leaves half a file.

    Raises:
        WorkbookError: the source could not be loaded or the copy could not be written.
    """
    import openpyxl  # noqa: PLC0415 - keeps `xlcheck --help` fast

    source = result.path
    keep_vba = source.suffix.lower() == ".xlsm"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(source, keep_vba=keep_vba, keep_links=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise WorkbookError(source, f"无法生成批注副本（{exc}）", message_en=f"cannot write the annotated copy ({exc})") from exc
    for finding in result.findings:
        _mark(book, finding, lang)
    _write_results_sheet(book, result, result.findings, lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    try:
        book.save(temporary)
        os.replace(temporary, out)
    except OSError as exc:
        raise WorkbookError(out, f"无法写入批注副本（{exc}）", message_en=f"cannot write the annotated copy ({exc})") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return out
