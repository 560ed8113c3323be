"""Spec → fill-in .xlsx template; the only module that imports xlsxwriter."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from xlcheck.cell_values import wrapped_lines
from xlcheck.errors import WorkbookError
from xlcheck.findings import PROPERTY_SPEC_HASH, PROPERTY_TEMPLATE, PROPERTY_VERSION
from xlcheck.formulas import excel_formula
from xlcheck.layout import Layout, PlacedField, SheetLayout, lay_out
from xlcheck.recompute import recompute_derived
from xlcheck.spec import Spec

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
_TYPE_NAMES = {
    "integer": "整数",
    "amount": "金额（万元，两位小数）",
    "number": "数字",
    "score": "分数",
    "percent": "百分比（如 95%）",
    "date": "日期（如 2024-07-28）",
    "text": "文本",
    "choice": "从列表中选择",
}


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
        self.note = book.add_format(
            {
                "font_name": "宋体",
                "font_size": 10,
                "italic": True,
                "font_color": "#595959",
                "valign": "vcenter",
            }
        )
        self.header = book.add_format(
            {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"}
        )
        self.label = book.add_format({**base, "text_wrap": True})
        self.section = book.add_format({**base, "bold": True, "bg_color": "#E2EFDA"})
        self.total_label = book.add_format({**base, "bold": True, "align": "center"})
        self.heading = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2"})
        self.not_applicable = book.add_format({**base, "bg_color": "#D9D9D9", "align": "center"})
        self.signoff = book.add_format(
            {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "text_wrap": True}
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


def _add_validation(sheet: Worksheet, placed: PlacedField) -> None:
    spec = placed.spec
    row, col = placed.row_number - 1, placed.column_number - 1
    message = spec.help or _TYPE_NAMES[spec.value_type]
    options: dict[str, Any] = {
        "input_title": spec.label[:32],
        "input_message": message[:255],
        "error_title": "输入有误",
        "error_type": "stop",
    }
    low = spec.minimum if spec.minimum is not None else -1e12
    high = spec.maximum if spec.maximum is not None else 1e12
    if spec.value_type == "integer":
        options.update(validate="integer", criteria="between", minimum=int(low), maximum=int(high))
        options["error_message"] = (
            f"请填写 {int(low)} 到 {int(high)} 之间的整数。"
            if spec.maximum is not None
            else "请填写整数。"
        )
    elif spec.value_type in ("amount", "number", "score", "percent"):
        options.update(validate="decimal", criteria="between", minimum=low, maximum=high)
        if spec.value_type == "score":
            options["error_message"] = f"自评得分应在 0 到 {high:g} 分之间（不能超过分值）。"
        elif spec.minimum is not None and spec.maximum is None:
            options["error_message"] = (
                f"请填写不小于 {low:g} 的数字（{spec.unit or ''}），不要输入文字或单位。"
            )
        else:
            options["error_message"] = "请填写数字，不要输入文字或单位。"
    elif spec.value_type == "date":
        options.update(
            validate="date",
            criteria="between",
            minimum=dt.date(1990, 1, 1),
            maximum=dt.date(2100, 12, 31),
        )
        options["error_message"] = "请填写日期，如 2024-07-28。"
    elif spec.value_type == "choice":
        options.update(validate="list", source=list(spec.choices))
        options["error_message"] = "请从下拉列表中选择：" + "、".join(spec.choices)
    else:
        options.update(validate="any")
        options.pop("error_title")
        options.pop("error_type")
    sheet.data_validation(row, col, row, col, options)


def _set_up_print(sheet: Worksheet, sheet_layout: SheetLayout, footer: str) -> None:
    sheet.set_paper(9)  # A4
    if sheet_layout.landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    first, last = sheet_layout.print_title_rows
    sheet.repeat_rows(first - 1, last - 1)
    sheet.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    sheet.center_horizontally()
    sheet.print_area(0, 0, sheet_layout.last_row - 1, sheet_layout.last_column - 1)
    sheet.set_footer(f"&L{footer}&R第 &P 页，共 &N 页")


def _fit_row_heights(
    sheet: Worksheet,
    sheet_layout: SheetLayout,
    fields: list[PlacedField],
    values: Mapping[str, Any],
) -> None:
    """Taller rows where wrapped text (criteria, help, pre-filled text) needs more than one line.

    Excel does not grow a row for wrapped text written by a library, so long 评分标准 (or a
    pre-filled 三级指标 name) would overlap the next row when printed.
    """
    widths = sheet_layout.widths
    lines: dict[int, int] = {}
    texts = [
        (c.row_number, c.column_number, c.columns, c.text)
        for c in sheet_layout.cells
        if c.style not in ("title", "note", "section", "heading") and c.rows == 1
    ]
    texts += [
        (f.row_number, f.column_number, f.columns, value)
        for f in fields
        if isinstance(value := values.get(f.key), str)
    ]
    for row_number, column_number, columns, text in texts:
        first = column_number - 1
        usable = sum(widths[first : first + columns]) if first < len(widths) else 10
        needed = wrapped_lines(text, usable)
        lines[row_number] = max(lines.get(row_number, 1), needed)
    heights = {row: 15.0 * count + 2 for row, count in lines.items() if count > 1}
    for block in sheet_layout.blocks:
        for row, height in block.row_heights:
            heights[row] = max(heights.get(row, 0.0), height)
    for row, height in heights.items():
        sheet.set_row(row - 1, height)


def _write_cells(
    sheet: Worksheet, sheet_layout: SheetLayout, formats: _Formats, title_suffix: str
) -> None:
    """The fixed text: title and note, headers, labels, sections, totals."""
    for cell in sheet_layout.cells:
        row, col = cell.row_number - 1, cell.column_number - 1
        cell_format = formats.by_style[cell.style]
        text = cell.text + title_suffix if cell.style == "title" else cell.text
        if cell.style in ("title", "section", "heading"):
            # Centred or shaded across the columns, not merged: merged cells get in the way of
            # units pasting data, and cost every reader time.
            sheet.write_string(row, col, text, cell_format)
            for other in range(col + 1, col + cell.columns):
                sheet.write_blank(row, other, None, cell_format)
            if cell.style == "title":
                sheet.set_row(row, 30)
        elif cell.style == "note":
            sheet.write_string(row, col, text, cell_format)  # one line over the empty cells
            sheet.set_row(row, 20)
        elif cell.columns > 1 or cell.rows > 1:
            sheet.merge_range(
                row, col, row + cell.rows - 1, col + cell.columns - 1, text, cell_format
            )
        elif text:
            sheet.write_string(row, col, text, cell_format)
        else:
            sheet.write_blank(row, col, None, cell_format)


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
        title_suffix: appended to each sheet title, e.g. "（2023 年度）".
        layout: the layout to write (one with a sheet per project); default ``lay_out(spec)``.

    Raises:
        WorkbookError: the workbook could not be built.
    """
    layout = layout or lay_out(spec)
    grades = spec.grading.grades
    values = recompute_derived(layout, dict(prefill or {}))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    book.set_properties(
        {"title": spec.title, "subject": f"{spec.id} {spec.version}", "comments": "由 xlcheck 生成"}
    )
    book.set_custom_property(PROPERTY_TEMPLATE, spec.id)
    book.set_custom_property(PROPERTY_VERSION, spec.version)
    book.set_custom_property(PROPERTY_SPEC_HASH, spec.spec_hash)
    formats = _Formats(book)
    footer = f"模板 {spec.id} {spec.version}"
    fields_by_sheet: dict[str, list[PlacedField]] = {}
    for placed in layout.fields:
        fields_by_sheet.setdefault(placed.sheet, []).append(placed)
    for sheet_layout in layout.sheets:
        sheet = book.add_worksheet(sheet_layout.name)
        _write_cells(sheet, sheet_layout, formats, title_suffix)
        rows, columns = sheet_layout.frozen
        if rows or columns:
            sheet.freeze_panes(rows, columns)
        for col, width in enumerate(sheet_layout.widths):
            sheet.set_column(col, col, width)
        _fit_row_heights(sheet, sheet_layout, fields_by_sheet.get(sheet_layout.name, []), values)
        for placed in fields_by_sheet.get(sheet_layout.name, []):
            _write_field(sheet, placed, layout, formats, values, grades)
        _set_up_print(sheet, sheet_layout, footer)
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
    try:
        book.close()
    except (OSError, xlsxwriter.exceptions.XlsxWriterException) as exc:
        raise WorkbookError(
            out, f"无法生成模板：{exc}", message_en=f"cannot build the template: {exc}"
        ) from exc
    return buffer.getvalue()


def _write_field(
    sheet: Worksheet,
    placed: PlacedField,
    layout: Layout,
    formats: _Formats,
    values: Mapping[str, Any],
    grades: tuple[Any, ...],
) -> None:
    row, col = placed.row_number - 1, placed.column_number - 1
    spec = placed.spec
    cell_format = formats.value(spec.value_type, is_input=placed.is_input, bold=placed.emphasis)
    if placed.columns > 1:
        sheet.merge_range(row, col, row, col + placed.columns - 1, "", cell_format)
    if placed.is_input:
        value = values.get(placed.key)
        if value is None:
            sheet.write_blank(row, col, None, cell_format)
        elif isinstance(value, str):
            sheet.write_string(row, col, value, cell_format)
        else:
            sheet.write(row, col, _excel_value(value), cell_format)
        _add_validation(sheet, placed)
        return
    formula = excel_formula(placed, layout, grades)
    value = values.get(placed.key)
    if formula is None:
        sheet.write(row, col, value, cell_format)
        return
    # A cached result that is wrong misleads anyone who reads the file without recalculating
    # (xlsxwriter would cache 0): cache the true value, or nothing.
    cached = "" if value is None else value
    sheet.write_formula(row, col, formula, cell_format, cached)
