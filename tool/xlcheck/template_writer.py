"""Spec → fill-in .xlsx template; the only module that imports xlsxwriter."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from xlcheck.errors import WorkbookError
from xlcheck.findings import PROPERTY_SPEC_HASH, PROPERTY_TEMPLATE, PROPERTY_VERSION
from xlcheck.formulas import excel_formula, title_formula, title_text
from xlcheck.input_validation import validation_ranges
from xlcheck.layout import Layout, PlacedField, SheetLayout, lay_out
from xlcheck.layout.row_heights import note_lines, row_heights, text_spots
from xlcheck.live_marks import conditional_formats
from xlcheck.recompute import recompute_derived
from xlcheck.spec import Spec
from xlcheck.version import __version__

_NUMBER_FORMATS = {
    "integer": "0",
    "amount": "#,##0.00",
    "number": "0.00",
    "score": "0.00",
    "percent": "0.00%",
    "date": "yyyy-mm-dd",
    "text": "@",
    "choice": "@",
}
_INPUT_TINT = "#FFF2CC"
_DERIVED_TINT = "#EDEDED"
#: The workbook's default font, whose digit width is the column unit. Arial, not xlsxwriter's
#: Calibri: LibreOffice on Linux has the metric-compatible Liberation Sans for it, so columns
#: measure alike in Excel, WPS and LibreOffice (see layout.row_heights).
_DEFAULT_FONT = {"font_name": "Arial", "font_size": 11}
#: Kinds whose block is not a bordered table (sign-off lines under a form).
_UNBORDERED_KINDS = frozenset({"signoff"})
_APPLICATION = re.compile(rb"<Application>[^<]*</Application>")


class _Formats:
    """The workbook's cell formats, created once per workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "border": 1}
        self.title = book.add_format(
            {
                "font_name": "黑体",
                "font_size": 16,
                "bold": True,
                # Centred across the sheet's columns, not merged: merged cells get in the way
                # of units pasting data, and cost every reader time.
                "align": "center_across",
                "valign": "vcenter",
            }
        )
        note = {"font_name": "宋体", "font_size": 10, "italic": True, "font_color": "#595959"}
        self.note = book.add_format({**note, "valign": "vcenter"})
        self.wrapped_note = book.add_format({**note, "valign": "top", "text_wrap": True})
        self.header = book.add_format(
            {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"}
        )
        self.label = book.add_format({**base, "text_wrap": True})
        self.section = book.add_format({**base, "bold": True, "bg_color": "#E2EFDA"})
        self.total_label = book.add_format({**base, "bold": True, "align": "center"})
        self.heading = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2"})
        self.not_applicable = book.add_format({**base, "bg_color": "#D9D9D9", "align": "center"})
        # Sign-off labels sit against the line to sign or stamp on.
        self.signoff = book.add_format(
            {
                "font_name": "宋体",
                "font_size": 11,
                "valign": "vcenter",
                "align": "right",
                "text_wrap": True,
            }
        )
        self.by_style = {
            "header": self.header,
            "label": self.label,
            "section": self.section,
            "total": self.total_label,
            "text": self.label,
            "heading": self.heading,
            "not_applicable": self.not_applicable,
            "signoff": self.signoff,
            "title": self.title,
            "note": self.note,
        }
        # What a cell shows when a live check (live_checks) finds a problem in it.
        self.problem = book.add_format(
            {"bg_color": "#FFC7CE", "font_color": "#9C0006", "bold": True}
        )
        self._base = base
        self._book = book
        self._cache: dict[tuple[str, bool, bool], Format] = {}

    def value(self, value_type: str, *, is_input: bool, bold: bool = False) -> Format:
        key = (value_type, is_input, bold)
        if key not in self._cache:
            self._cache[key] = self._book.add_format(
                {
                    **self._base,
                    "num_format": _NUMBER_FORMATS[value_type],
                    "bg_color": _INPUT_TINT if is_input else _DERIVED_TINT,
                    "locked": not is_input,
                    "bold": bold,
                    "text_wrap": value_type in ("text", "choice"),
                }
            )
        return self._cache[key]


def _excel_value(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def _set_up_print(sheet: Worksheet, sheet_layout: SheetLayout) -> None:
    sheet.set_paper(9)  # A4
    if sheet_layout.landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    first, last = sheet_layout.print_title_rows
    # The title row, which names the unit and the year, repeats at the top of every page.
    sheet.repeat_rows(first - 1, last - 1)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    sheet.center_horizontally()
    sheet.print_area(0, 0, sheet_layout.last_row - 1, sheet_layout.last_column - 1)
    # The template's id and version stay in the document properties, not on the paper.
    sheet.set_footer("&C第 &P 页，共 &N 页")


def _write_title(
    sheet: Worksheet,
    sheet_layout: SheetLayout,
    layout: Layout,
    formats: _Formats,
    values: Mapping[str, Any],
    title_suffix: str,
) -> None:
    """The title row: a formula naming the unit and the year (when the spec has them)."""
    for cell in (c for c in sheet_layout.cells if c.style == "title"):
        row, col = cell.row_number - 1, cell.column_number - 1
        formula = title_formula(sheet_layout, layout, cell.text)
        if formula is None:
            sheet.write_string(row, col, cell.text + title_suffix, formats.title)
        else:
            cached = title_text(sheet_layout, layout, cell.text, values)
            sheet.write_formula(row, col, formula, formats.title, cached)
        for other in range(col + 1, col + cell.columns):
            sheet.write_blank(row, other, None, formats.title)
        sheet.set_row(row, 30)


def _write_cells(sheet: Worksheet, sheet_layout: SheetLayout, formats: _Formats) -> None:
    """The fixed text: note, headers, labels, sections, totals."""
    width = sum(sheet_layout.widths)
    for cell in sheet_layout.cells:
        row, col = cell.row_number - 1, cell.column_number - 1
        cell_format = formats.by_style[cell.style]
        text = cell.text
        if cell.style == "title":
            continue
        if cell.style in ("section", "heading"):
            # Shaded across the columns, not merged: merged cells get in the way of units
            # pasting data, and cost every reader time.
            sheet.write_string(row, col, text, cell_format)
            for other in range(col + 1, col + cell.columns):
                sheet.write_blank(row, other, None, cell_format)
        elif cell.style == "note":
            lines = note_lines(text, width)
            if lines == 1:
                sheet.write_string(row, col, text, cell_format)  # one line over the empty cells
                sheet.set_row(row, 20)
            else:
                last = col + cell.columns - 1
                sheet.merge_range(row, col, row, last, text, formats.wrapped_note)
                sheet.set_row(row, lines * 14.0 + 4)
        elif cell.columns > 1 or cell.rows > 1:
            sheet.merge_range(
                row, col, row + cell.rows - 1, col + cell.columns - 1, text, cell_format
            )
        elif text:
            sheet.write_string(row, col, text, cell_format)
        else:
            sheet.write_blank(row, col, None, cell_format)


def _border_blanks(sheet: Worksheet, sheet_layout: SheetLayout, formats: _Formats) -> None:
    """Borders on every cell of a block's rectangle that holds nothing (the 评分表's 小计 and
    总分 rows beside their figures): a printed table has no holes in its grid."""
    covered: set[tuple[int, int]] = set()
    for cell in sheet_layout.cells:
        covered.update(
            (r, c)
            for r in range(cell.row_number, cell.row_number + cell.rows)
            for c in range(cell.column_number, cell.column_number + cell.columns)
        )
    for block in sheet_layout.blocks:
        covered.update(
            (f.row_number, c)
            for f in block.fields
            for c in range(f.column_number, f.column_number + f.columns)
        )
    for block in sheet_layout.blocks:
        if block.kind in _UNBORDERED_KINDS:
            continue
        for row in range(block.first_row, block.last_row + 1):
            for column in range(1, block.last_column + 1):
                if (row, column) not in covered:
                    sheet.write_blank(row - 1, column - 1, None, formats.label)


def _fit_rows(sheet: Worksheet, sheet_layout: SheetLayout, values: Mapping[str, Any]) -> None:
    """Rows as tall as their wrapped text (criteria, 说明, 备注, pre-filled names)."""
    fixed = {row: height for block in sheet_layout.blocks for row, height in block.row_heights}
    heights = row_heights(sheet_layout, text_spots(sheet_layout, values), fixed=fixed)
    for row, height in heights.items():
        sheet.set_row(row - 1, height)


def _write_field(
    sheet: Worksheet,
    placed: PlacedField,
    layout: Layout,
    formats: _Formats,
    values: Mapping[str, Any],
) -> None:
    row, col = placed.row_number - 1, placed.column_number - 1
    spec = placed.spec
    cell_format = formats.value(spec.value_type, is_input=placed.is_input, bold=placed.emphasis)
    if placed.columns > 1:
        sheet.merge_range(row, col, row, col + placed.columns - 1, "", cell_format)
    value = values.get(placed.key)
    if placed.is_input:
        if value is None:
            sheet.write_blank(row, col, None, cell_format)
        elif isinstance(value, str):
            sheet.write_string(row, col, value, cell_format)
        else:
            sheet.write(row, col, _excel_value(value), cell_format)
        return
    formula = excel_formula(placed, layout, layout.spec.grading.grades)
    if formula is None:
        sheet.write(row, col, value, cell_format)
        return
    # A cached result that is wrong misleads anyone who reads the file without recalculating
    # (xlsxwriter would cache 0): cache the true value, or nothing.
    cached = "" if value is None else _excel_value(value)
    sheet.write_formula(row, col, formula, cell_format, cached)


def _write_sheet(
    sheet: Worksheet,
    sheet_layout: SheetLayout,
    layout: Layout,
    formats: _Formats,
    values: Mapping[str, Any],
    title_suffix: str,
) -> None:
    _write_title(sheet, sheet_layout, layout, formats, values, title_suffix)
    _write_cells(sheet, sheet_layout, formats)
    _border_blanks(sheet, sheet_layout, formats)
    rows, columns = sheet_layout.frozen
    if rows or columns:
        sheet.freeze_panes(rows, columns)
    for col, width in enumerate(sheet_layout.widths):
        sheet.set_column(col, col, width)
    _fit_rows(sheet, sheet_layout, values)
    fields = [f for b in sheet_layout.blocks for f in b.fields]
    for placed in fields:
        _write_field(sheet, placed, layout, formats, values)
    for rule in validation_ranges(fields):
        column = rule.column_number - 1
        sheet.data_validation(rule.first_row - 1, column, rule.last_row - 1, column, rule.options)
    for marked in conditional_formats(layout, sheet_layout):
        sheet.conditional_format(
            marked.cells,
            {"type": "formula", "criteria": "=" + marked.formula, "format": formats.problem},
        )
    _set_up_print(sheet, sheet_layout)
    sheet.protect(
        "",
        {
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
            # Units add rows where a table or an indicator group needs more (relocation reads
            # them); deleting rows stays locked.
            "insert_rows": True,
        },
    )


def _finished(package: bytes) -> bytes:
    """The package with docProps/app.xml naming xlcheck as the application that wrote it
    (xlsxwriter always writes "Microsoft Excel", and verify reports who last saved a file)."""
    source = zipfile.ZipFile(io.BytesIO(package))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "docProps/app.xml":
                data = _APPLICATION.sub(
                    f"<Application>xlcheck {__version__}</Application>".encode(), data, count=1
                )
            target.writestr(entry, data)
    return output.getvalue()


def write_template(
    spec: Spec,
    out: Path,
    *,
    prefill: Mapping[str, Any] | None = None,
    title_suffix: str = "",
    layout: Layout | None = None,
) -> bytes:
    """The fill-in workbook for ``spec``, as the bytes of an .xlsx file (``out`` names it in
    messages; the caller writes it through ``output_files``).

    Args:
        prefill: field key → already normalised input value, written into the input cells.
        title_suffix: appended to each sheet title when the spec names no unit or year field
            (the titles of a spec that does show the workbook's own, e.g. "（2023 年度）").
        layout: the layout to write (one with a sheet per project); default ``lay_out(spec)``.

    Raises:
        WorkbookError: the workbook could not be built.
    """
    layout = layout or lay_out(spec)
    values = recompute_derived(layout, dict(prefill or {}))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_format_properties": _DEFAULT_FONT,
        },
    )
    book.set_properties(
        {"title": spec.title, "subject": f"{spec.id} {spec.version}", "comments": "由 xlcheck 生成"}
    )
    book.set_custom_property(PROPERTY_TEMPLATE, spec.id)
    book.set_custom_property(PROPERTY_VERSION, spec.version)
    book.set_custom_property(PROPERTY_SPEC_HASH, spec.spec_hash)
    formats = _Formats(book)
    for sheet_layout in layout.sheets:
        sheet = book.add_worksheet(sheet_layout.name)
        _write_sheet(sheet, sheet_layout, layout, formats, values, title_suffix)
    try:
        book.close()
    except (OSError, xlsxwriter.exceptions.XlsxWriterException) as exc:
        raise WorkbookError(
            out, f"无法生成模板：{exc}", message_en=f"cannot build the template: {exc}"
        ) from exc
    return _finished(buffer.getvalue())
