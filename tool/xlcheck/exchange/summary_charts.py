"""The summary workbook's 分布图 sheet: how the units' total scores and execution rates spread,
as two small tables and a column chart of each, every table with its chart on a page of its own.

The sheet is written through the xlsxwriter workbook ``summary_workbook`` opens (this module
does not import xlsxwriter).
"""

from __future__ import annotations

import math
from typing import Any

from xlcheck.exchange.summary_rows import Summary

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
#: The first row (0-based) of each page: a table, then its chart under it. A4 landscape with the
#: summary's margins holds about 30 rows of the default 20 px at 100 %, and the chart (one row
#: below the table, _CHART_HEIGHT px) ends well inside the page, so no app moves it across a
#: page break. The pages are set by manual breaks, which fit-to-page printing would ignore.
_PAGE_ROWS = 30
_CHART_ROW = 8
_CHART_WIDTH, _CHART_HEIGHT = 900, 400


def _count(values: list[float], low: float | None, high: float | None) -> int:
    return sum(1 for v in values if (low is None or v >= low) and (high is None or v < high))


def _figures(summary: Summary, key: str) -> list[float]:
    return [float(r[key]) for r in summary.rows if isinstance(r.get(key), int | float)]


def write_chart_sheet(book: Any, sheet: Any, summary: Summary, lang: str) -> None:
    """Write the 分布图 sheet ``sheet`` of ``book``: the tables and their charts."""
    name = sheet.get_name()
    bold = book.add_format({"bold": True, "bottom": 1})
    tables = (
        ("总分" if lang == "zh" else "Total score", _SCORE_BINS, _figures(summary, "total_score")),
        (
            "预算执行率" if lang == "zh" else "Execution rate",
            _RATE_BINS,
            _figures(summary, "execution_rate"),
        ),
    )
    unit_words = "单位数" if lang == "zh" else "Units"
    # The workbook is written in constant-memory mode, where a row is final once a later one is
    # written: the tables go down the sheet in row order.
    for page, (title, bins, values) in enumerate(tables):
        top = page * _PAGE_ROWS
        sheet.write_string(top, 0, title, bold)
        sheet.write_string(top, 1, unit_words, bold)
        for number, (label, low, high) in enumerate(bins, start=1):
            sheet.write_string(top + number, 0, label)
            sheet.write_number(top + number, 1, _count(values, low, high))
        chart = book.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": title,
                "categories": [name, top + 1, 0, top + len(bins), 0],
                "values": [name, top + 1, 1, top + len(bins), 1],
                "data_labels": {"value": True},
                # Dark enough to stay a solid bar when printed in black and white.
                "fill": {"color": "#44546A"},
            }
        )
        chart.set_title({"name": f"{title}{'分布' if lang == 'zh' else ' distribution'}"})
        chart.set_legend({"none": True})
        # Whole units on the axis (auto steps would show 0.5 units).
        step = max(1, math.ceil(max((_count(values, low, high) for _, low, high in bins)) / 8))
        chart.set_y_axis(
            {
                "name": unit_words,
                "min": 0,
                "major_unit": step,
                "num_format": "0",
                "major_gridlines": {"visible": True},
            }
        )
        sheet.insert_chart(
            top + _CHART_ROW,
            0,
            chart,
            {"x_scale": _CHART_WIDTH / 480, "y_scale": _CHART_HEIGHT / 288, "object_position": 3},
        )
    sheet.set_h_pagebreaks([page * _PAGE_ROWS for page in range(1, len(tables))])
    sheet.set_column(0, 1, 14)
