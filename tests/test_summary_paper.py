"""The 汇总表 on paper, printed by a real LibreOffice: five workbooks on at most five A4 pages, the
reviewer's columns on the first page with their headers whole, findings wrapped, not cut; and the
rows behind it: the unit's own execution rate where it differs, received times in local time."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import FillWorkbook, seed_values
from tests.libreoffice import pdf_pages, pdftotext, recalculate_many
from xlcheck.api import VerifyOptions, verify_batch
from xlcheck.exchange.summary import build_summary, write_summary
from xlcheck.exchange.summary_rows import DIFFERING_FIGURE_CODES, Summary
from xlcheck.rules import all_rules

#: The figures of the seed report: 实际支出 and 实际收入 (万元).
SPENDING, INCOME = 1130.3, 1131.12
REVIEWER_HEADERS = (
    "单位",
    "年度",
    "状态",
    "错误数",
    "警告数",
    "预算数（万元）",
    "实际支出（万元）",
    "预算执行率（重算）",
    "总分",
    "等级",
    "批注副本",
)


def _five(make_workbook: FillWorkbook, folder: Path) -> list[Path]:
    """Five units' workbooks: clean, an execution rate typed over its formula, one on the wrong
    base (the longest message xlcheck writes for a figure), scores over their weights, and a
    file that is no workbook."""
    broken = folder / "broken.xlsx"
    broken.write_bytes(b"PK garbage")
    return [
        make_workbook(name="xinfang.xlsx"),
        make_workbook(
            name="caizheng.xlsx", overrides={"unit_name": "湛江市财政局", "exec_rate": 0.85}
        ),
        make_workbook(
            name="jiaoyu.xlsx",
            overrides={"unit_name": "湛江市教育局", "exec_rate": SPENDING / INCOME},
        ),
        make_workbook(seed_values(), name="wrong.xlsx", overrides={"unit_name": "湛江市公安局"}),
        broken,
    ]


@pytest.fixture
def summary(make_workbook: FillWorkbook, tmp_path: Path) -> Iterator[Summary]:
    results = verify_batch(
        _five(make_workbook, tmp_path), options=VerifyOptions(annotate=False), jobs=1
    )
    built = build_summary(results)
    yield built
    built.findings.close()


@dataclass(frozen=True)
class Word:
    """A word pdftotext found on a page, with its box in points from the top left."""

    text: str
    left: float
    top: float
    right: float


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
)


def _findings_page_words(pdf: Path) -> list[Word]:
    """The words of the first page of the 问题清单 (the page whose header has 说明)."""
    for number in range(1, 6):
        command = [pdftotext(), "-bbox", "-f", str(number), "-l", str(number), str(pdf), "-"]
        page = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        words = [
            Word(html.unescape(text), float(left), round(float(top), 1), float(right))
            for left, top, right, text in _WORD.findall(page)
        ]
        if any(w.text == "说明" for w in words):
            return words
    raise AssertionError("no page of the PDF has the 问题清单's header")


def test_summary_row_carries_the_units_rate_only_where_it_differs(summary: Summary) -> None:
    by_unit = {r["unit"]: r for r in summary.rows}

    assert by_unit["湛江市财政局"]["execution_rate_reported"] == 0.85
    # As the cell shows it (99.93%), the figure a reviewer compares.
    assert by_unit["湛江市教育局"]["execution_rate_reported"] == 0.9993
    assert by_unit["湛江市财政局"]["execution_rate"] == 0.9972  # recomputed, as before
    assert by_unit["湛江市信访局"]["execution_rate_reported"] is None
    assert by_unit["湛江市公安局"]["execution_rate_reported"] is None


def test_differing_figure_codes_are_rules_that_exist() -> None:
    assert {rule.code for rule in all_rules()} >= DIFFERING_FIGURE_CODES


@pytest.fixture
def beijing_time() -> Iterator[None]:
    """The reader's clock in UTC+8, whatever the machine's."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.usefixtures("beijing_time")
def test_summary_workbook_shows_received_times_in_local_time(tmp_path: Path) -> None:
    row = {"file": "a.xlsx", "status": "ok", "unit": "湛江市信访局"}
    summary = Summary(rows=[{**row, "received": "2024-03-05T06:02:00+00:00"}])

    path = write_summary(summary, tmp_path / "汇总表.xlsx")

    sheet = openpyxl.load_workbook(path)["文件与来源"]
    headers = [c.value for c in sheet[1]]
    cell = sheet.cell(2, headers.index("收到/修改时间") + 1)
    assert cell.value == dt.datetime(2024, 3, 5, 14, 2)
    assert cell.number_format == "yyyy-mm-dd hh:mm"


@pytest.mark.libreoffice
def test_summary_of_five_workbooks_prints_on_five_pages_legibly(
    summary: Summary, tmp_path: Path, libreoffice_available: bool
) -> None:
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    workbook = write_summary(summary, tmp_path / "汇总表.xlsx")
    pdf = recalculate_many({workbook: tmp_path / "汇总表.pdf"}, convert_to="pdf")[workbook]

    pages = pdf_pages(pdf)
    assert len(pages) <= 5, [page[:200] for page in pages]
    first = "".join(pages[0].split())
    # Every header whole: a header cut by its cell would lose its second line or its tail.
    for header in REVIEWER_HEADERS:
        for part in header.replace("（", "\n（").split("\n"):
            assert part in first, (header, pages[0][:600])
    assert "≠85.00%" in first  # the unit's own rate, marked, beside the recomputed one
    assert "（broken.xlsx）" in first  # an unreadable file's row names the file
    # The longest message, wrapped within its cell: all of it printed, in order.
    message = next(f["message"] for f in summary.findings if f["code"] == "ratio-wrong-base")
    words = _findings_page_words(pdf)
    left = next(w for w in words if w.text == "说明")
    right = next(w for w in words if w.text == "应为" and w.top == left.top)
    in_column = [w for w in words if left.left <= w.left < right.left and w.top > left.top]
    shown = "".join(w.text for w in sorted(in_column, key=lambda w: (w.top, w.left)))
    assert "".join(message.split()) in shown, (message, shown)
    # Text that runs on under the next column is still in the PDF (clipped): look where it ends.
    assert all(w.right <= right.left for w in in_column), [
        w for w in in_column if w.right > right.left
    ]
