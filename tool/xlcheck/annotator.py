"""Verification result + source workbook → a NEW annotated .xlsx; the input is never touched."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlcheck.cell_values import safe_text, wrapped_lines
from xlcheck.errors import WorkbookError
from xlcheck.findings import Finding, Severity, VerificationResult

RESULTS_SHEET = "校验结果"
RESULTS_SHEET_EN = "Findings"
_FILLS = {Severity.ERROR: "FFC7CE", Severity.WARNING: "FFEB9C"}
#: Width of the results sheet's message column (说明), in Excel column units.
_MESSAGE_WIDTH = 70
_SEVERITY_NAMES = {
    "zh": {Severity.ERROR: "错误", Severity.WARNING: "警告"},
    "en": {Severity.ERROR: "error", Severity.WARNING: "warning"},
}
_HEADERS = {
    "zh": ("序号", "级别", "代码", "位置", "字段", "说明", "应为", "实际"),
    "en": ("No.", "Severity", "Code", "Cell", "Field", "Message", "Expected", "Actual"),
}


def _anchor(sheet: Any, cell_ref: str) -> Any:
    """The cell to mark: for a cell inside a merged range, its top-left cell."""
    from openpyxl.cell.cell import MergedCell

    cell = sheet[cell_ref]
    if isinstance(cell, MergedCell):
        for merged in sheet.merged_cells.ranges:
            if cell.coordinate in merged:
                return sheet.cell(merged.min_row, merged.min_col)
    return cell


def _mark(book: Any, finding: Finding, lang: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

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
    comment = Comment(safe_text(text), "xlcheck")
    comment.width, comment.height = 320, 160
    cell.comment = comment


def _write_results_sheet(
    book: Any, result: VerificationResult, findings: Sequence[Finding], lang: str
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

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
        line_count = wrapped_lines(finding.message_in(lang), _MESSAGE_WIDTH)
        if line_count > 1:
            sheet.row_dimensions[row].height = 15 * line_count + 2
        sheet.cell(row, 2).fill = PatternFill(fill_type="solid", fgColor=_FILLS[finding.severity])
        if location and location.sheet in book.sheetnames:
            link = sheet.cell(row, 4)
            link.hyperlink = "#'{}'!{}".format(location.sheet.replace("'", "''"), location.cell_ref)
            link.font = Font(color="0563C1", underline="single")
    for letter, width in zip("ABCDEFGH", (6, 8, 22, 16, 30, _MESSAGE_WIDTH, 14, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    # Reviewers print this page: A4 landscape, all columns on one page wide, header repeated.
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    for other in book.worksheets:
        other.sheet_view.tabSelected = False
    sheet.sheet_view.tabSelected = True
    book.active = 0


def _fallback_directory(preferred: Path) -> Path:
    """Where the copy goes when the input's folder is read-only: the working directory, else temp."""
    for candidate in (Path.cwd(), Path(tempfile.gettempdir()) / "xlcheck"):
        with contextlib.suppress(OSError):
            candidate.mkdir(parents=True, exist_ok=True)
            if candidate.resolve() != preferred.resolve() and os.access(candidate, os.W_OK):
                return candidate
    raise WorkbookError(
        preferred,
        "没有可写入批注副本的文件夹",
        message_en="no writable folder for the annotated copy",
    )


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem (2).suffix`` … when that is taken: never overwrite there."""
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({number}){suffix}"
        number += 1
    return candidate


def _save_atomically(book: Any, out: Path) -> None:
    """Save to a temporary file beside ``out``, then rename: no half-written copy, ever."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    try:
        book.save(temporary)
        os.replace(temporary, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def annotate_workbook(
    result: VerificationResult,
    out: Path,
    *,
    lang: str = "zh",
    may_relocate: bool = False,
    document: Any | None = None,
) -> Path | None:
    """Write a copy of ``result.path`` with every finding marked at its cell and a results sheet.

    The copy is written to a temporary file beside ``out`` and renamed into place, so an
    interrupted run never leaves half a file. Macros (``xl/vbaProject.bin``) are never run; they
    are kept when ``out`` is an ``.xlsm`` and dropped from an ``.xlsx`` copy (the ``macros-present``
    finding says which).

    Args:
        document: the source already loaded by openpyxl (``FilledWorkbook.document``, loaded with
            ``keep_vba`` and ``keep_links``); it is marked in place instead of parsing the file
            again. None loads ``result.path``.
        may_relocate: when ``out``'s folder cannot be written (a read-only input folder), write
            the copy to the working directory (or the temp folder) instead, under a free name.

    Returns:
        Where the copy was written, or None when openpyxl cannot load the source package (the
        ``formulas-unread`` finding then says that no copy was written).

    Raises:
        WorkbookError: the copy could not be written.
    """
    import openpyxl

    from xlcheck.reader import OPENPYXL_FAILURES, quiet_openpyxl

    source = result.path
    keep_vba = out.suffix.lower() == ".xlsm"
    book = document
    if book is None:
        try:
            with quiet_openpyxl(), source.open("rb") as handle:
                book = openpyxl.load_workbook(handle, keep_vba=keep_vba, keep_links=True)
        except OPENPYXL_FAILURES:
            return None
    elif not keep_vba and book.vba_archive is not None:
        # An .xlsx copy cannot carry macros: drop them, as a load without keep_vba would.
        book.vba_archive.close()
        book.vba_archive = None
    for finding in result.findings:
        _mark(book, finding, lang)
    _write_results_sheet(book, result, result.findings, lang)
    try:
        try:
            _save_atomically(book, out)
        except OSError as exc:
            if not may_relocate or exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            out = _free_name(_fallback_directory(out.parent), out.name)
            _save_atomically(book, out)
    except OSError as exc:
        raise WorkbookError(
            out,
            f"无法写入批注副本（{exc.strerror or exc}）",
            message_en=f"cannot write the annotated copy ({exc.strerror or exc})",
            hint="用 -o 指定一个可写的位置，或加 --no-annotate。",
            hint_en="Choose a writable place with -o, or add --no-annotate.",
        ) from exc
    return out
