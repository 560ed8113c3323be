"""The summary (汇总表) as an .xlsx workbook: workbooks, findings and a distribution chart sheet.

This module imports xlsxwriter, which house style keeps in ``template_writer``: the summary is a
new workbook written from scratch with charts, which is xlsxwriter's job, and it has nothing to
do with the template, so it gets its own writer module instead of growing ``template_writer``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, BinaryIO

from xlcheck.exchange.summary_rows import COLUMNS, FINDING_COLUMNS, STATUS_WORDS, Summary
from xlcheck.findings import column_letters

_SHEETS = {"zh": ("汇总表", "问题清单", "分布图"), "en": ("Workbooks", "Findings", "Distribution")}
_STATUS_FILLS = {
    "unreadable": "#D9D9D9",
    "errors": "#FFC7CE",
    "warnings": "#FFEB9C",
    "ok": "#C6EFCE",
}
_WIDTHS = {
    "file": 36,
    "mail_file": 24,
    "sender": 28,
    "subject": 30,
    "received": 20,
    "unit": 24,
    "year": 7,
    "template": 18,
    "template_version": 9,
    "application": 22,
    "status": 9,
    "errors": 7,
    "warnings": 7,
    "budget": 12,
    "income": 12,
    "spending": 12,
    "execution_rate": 11,
    "total_score": 8,
    "grade": 6,
    "duplicate": 36,
    "reason": 40,
    "annotated": 28,
}
_SUMMED = ("errors", "warnings", "budget", "income", "spending")
_SCORE_BINS = (
    ("<60", None, 60),
    ("60–70", 60, 70),
    ("70–80", 70, 80),
    ("80–90", 80, 90),
    ("≥90", 90, None),
)
_RATE_BINS = (
    ("<80%", None, 0.8),
    ("80–90%", 0.8, 0.9),
    ("90–95%", 0.9, 0.95),
    ("95–100%", 0.95, 1.0000001),
    (">100%", 1.0000001, None),
)


def _not_finite(value: Any) -> bool:
    """NaN and infinities: a cell cannot hold them (Excel would call the file corrupt)."""
    return isinstance(value, float) and not math.isfinite(value)


def _link_target(annotated: str, summary_path: Path) -> str:
    """The annotated copy relative to the summary, so the folder can be moved as a whole."""
    try:
        return os.path.relpath(annotated, summary_path.parent)
    except ValueError:  # another drive on Windows
        return annotated


def _write_rows_sheet(book: Any, summary: Summary, path: Path, lang: str) -> None:
    sheet = book.add_worksheet(_SHEETS[lang][0])
    header = book.add_format(
        {"bold": True, "bg_color": "#D9E1F2", "text_wrap": True, "valign": "top"}
    )
    money = book.add_format({"num_format": "#,##0.00"})
    percent = book.add_format({"num_format": "0.00%"})
    link = book.add_format({"font_color": "#0563C1", "underline": 1})
    bold = book.add_format({"bold": True, "top": 1})
    bold_money = book.add_format({"bold": True, "top": 1, "num_format": "#,##0.00"})
    fills = {
        status: book.add_format({"bg_color": color}) for status, color in _STATUS_FILLS.items()
    }
    keys = list(COLUMNS)
    index = {key: number for number, key in enumerate(keys)}
    for column, key in enumerate(keys):
        sheet.write_string(0, column, COLUMNS[key][0 if lang == "zh" else 1], header)
        sheet.set_column(column, column, _WIDTHS.get(key, 12))
    words = STATUS_WORDS[lang]
    for row_number, row in enumerate(summary.rows, start=1):
        for column, key in enumerate(keys):
            value = row.get(key)
            if value is None or value == "" or _not_finite(value):
                continue
            if key == "status":
                sheet.write_string(
                    row_number, column, words.get(str(value), str(value)), fills.get(str(value))
                )
            elif key == "annotated":
                target = _link_target(str(value), path)
                sheet.write_url(
                    row_number, column, "external:" + target, link, Path(str(value)).name
                )
            elif key in ("budget", "income", "spending") and isinstance(value, int | float):
                sheet.write_number(row_number, column, value, money)
            elif key == "execution_rate" and isinstance(value, int | float):
                sheet.write_number(row_number, column, value, percent)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(row_number, column, value)
            else:
                sheet.write_string(row_number, column, str(value))
    last = len(summary.rows)
    totals = last + 1
    sheet.write_string(
        totals, 0, f"合计（{last} 个工作簿）" if lang == "zh" else f"Total ({last} workbooks)", bold
    )
    for key in _SUMMED:
        column = index[key]
        cached = sum(float(r[key]) for r in summary.rows if isinstance(r.get(key), int | float))
        cached = cached if math.isfinite(cached) else 0  # a cell cannot cache inf or nan
        letter = column_letters(column + 1)  # xlsxwriter columns are 0-based
        # SUBTOTAL(109, …) sums only the rows the autofilter shows.
        formula = f"=SUBTOTAL(109,{letter}2:{letter}{last + 1})" if last else "=0"
        sheet.write_formula(
            totals,
            column,
            formula,
            bold_money if key not in ("errors", "warnings") else bold,
            cached,
        )
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, max(last, 1), len(keys) - 1)
    # Too many columns for one page to stay legible: pages run across, each repeating the
    # header row and the file column.
    _set_up_print(sheet, one_page_wide=False)
    sheet.repeat_columns(0)


_SEVERITY_WORDS = {"zh": {"error": "错误", "warning": "警告"}, "en": {}}


def _write_findings_sheet(book: Any, summary: Summary, lang: str) -> None:
    sheet = book.add_worksheet(_SHEETS[lang][1])
    header = book.add_format({"bold": True, "bg_color": "#D9E1F2"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    keys = list(FINDING_COLUMNS)
    for column, key in enumerate(keys):
        sheet.write_string(0, column, FINDING_COLUMNS[key][0 if lang == "zh" else 1], header)
    for row_number, finding in enumerate(summary.findings, start=1):
        for column, key in enumerate(keys):
            value = finding.get(key)
            if value is None or value == "" or _not_finite(value):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(row_number, column, value)
            else:
                if key == "severity":  # a code in the data, a word on the sheet
                    value = _SEVERITY_WORDS[lang].get(str(value), value)
                sheet.write_string(
                    row_number, column, str(value), wrap if key == "message" else None
                )
    for column, width in enumerate((36, 24, 7, 8, 22, 12, 8, 30, 70, 14, 14)):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(summary.findings), 1), len(keys) - 1)
    _set_up_print(sheet)


def _set_up_print(sheet: Any, *, one_page_wide: bool = True) -> None:
    """A4 landscape with the header row on every page (and every column on one page wide)."""
    sheet.set_paper(9)
    sheet.set_landscape()
    if one_page_wide:
        sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)


def _count(values: list[float], low: float | None, high: float | None) -> int:
    return sum(1 for v in values if (low is None or v >= low) and (high is None or v < high))


def _write_chart_sheet(book: Any, summary: Summary, lang: str) -> None:
    name = _SHEETS[lang][2]
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    scores = [
        float(r["total_score"])
        for r in summary.rows
        if isinstance(r.get("total_score"), int | float)
    ]
    rates = [
        float(r["execution_rate"])
        for r in summary.rows
        if isinstance(r.get("execution_rate"), int | float)
    ]
    tables = (
        ("总分" if lang == "zh" else "Total score", _SCORE_BINS, scores, 0),
        ("预算执行率" if lang == "zh" else "Execution rate", _RATE_BINS, rates, 3),
    )
    unit_words = "单位数" if lang == "zh" else "Units"
    # Row by row across both tables: the workbook is written in constant-memory mode, where a
    # row is final once a later one is written.
    for title, _, _, column in tables:
        sheet.write_string(0, column, title, bold)
        sheet.write_string(0, column + 1, unit_words, bold)
    for number in range(1, max(len(bins) for _, bins, _, _ in tables) + 1):
        for _, bins, values, column in tables:
            if number <= len(bins):
                label, low, high = bins[number - 1]
                sheet.write_string(number, column, label)
                sheet.write_number(number, column + 1, _count(values, low, high))
    for title, bins, _, column in tables:
        chart = book.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": title,
                "categories": [name, 1, column, len(bins), column],
                "values": [name, 1, column + 1, len(bins), column + 1],
                "data_labels": {"value": True},
            }
        )
        chart.set_title({"name": f"{title}{'分布' if lang == 'zh' else ' distribution'}"})
        chart.set_legend({"none": True})
        chart.set_y_axis({"name": unit_words})
        sheet.insert_chart(8 if column == 0 else 24, 0, chart, {"x_scale": 1.4, "y_scale": 1.1})
    sheet.set_column(0, 4, 14)


def write_summary_workbook(
    summary: Summary, stream: BinaryIO, path: Path, *, lang: str = "zh"
) -> None:
    """Write the three-sheet summary workbook (rows, findings, chart) into ``stream``.

    Args:
        path: where the workbook will live, so links to the annotated copies are relative.
    """
    import xlsxwriter

    # constant_memory: each row goes to a temporary file once written, so tens of thousands of
    # findings never sit in memory as cell objects.
    book = xlsxwriter.Workbook(
        stream,
        {"strings_to_formulas": False, "strings_to_urls": False, "constant_memory": True},
    )
    try:
        _write_rows_sheet(book, summary, path, lang)
        _write_findings_sheet(book, summary, lang)
        _write_chart_sheet(book, summary, lang)
    finally:
        book.close()
