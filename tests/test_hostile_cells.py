"""Cell contents that used to end in 内部错误: control characters in text (Excel's _x001B_) and
numbers whose sums overflow a double. Each now gives findings and an annotated copy."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.conftest import FillWorkbook
from tests.package_builders import rewrite_package
from xlcheck import api
from xlcheck.findings import VerificationResult

PLACEHOLDER = "PLACEHOLDER-TEXT"


def _verify(path: Path) -> VerificationResult:
    [result] = api.verify_batch([path], jobs=1)
    return result


@pytest.mark.parametrize(
    ("key", "escaped", "code"),
    [
        ("budget_basic", "12_x001B_3", "not-a-number"),
        ("grade", "优_x001B_", "grade-mismatch"),
        ("year", "2023_x0000_", "not-a-number"),
        ("fill_date", "x_x0007_", "not-a-date"),
        ("unit_name", "单位_x001B_[31m红", None),
    ],
    ids=["esc-in-a-number", "esc-in-the-grade", "nul-in-the-year", "bell-in-a-date", "esc-in-text"],
)
def test_control_characters_in_cell_text_give_findings_and_a_copy(
    make_workbook: FillWorkbook, tmp_path: Path, key: str, escaped: str, code: str | None
) -> None:
    plain = make_workbook(overrides={key: PLACEHOLDER})
    path = rewrite_package(
        plain,
        tmp_path / "controls.xlsx",
        lambda _, data: data.replace(PLACEHOLDER.encode(), escaped.encode()),
    )

    result = _verify(path)

    assert result.unreadable_reason is None, result.unreadable_reason
    assert code is None or code in {f.code for f in result.findings}
    assert result.annotated is not None
    book = openpyxl.load_workbook(result.annotated)
    shown = [str(c.value) for row in book.worksheets[0].iter_rows() for c in row if c.value]
    assert not any(ch < " " and ch not in "\t\n\r" for text in shown for ch in text)


def test_sums_that_overflow_a_double_give_findings(make_workbook: FillWorkbook) -> None:
    path = make_workbook(overrides={"budget_basic": 1e308, "budget_retiree": 1e308})

    result = _verify(path)

    assert result.unreadable_reason is None, result.unreadable_reason
    out_of_range = [f for f in result.findings if f.code == "out-of-range"]
    assert {f.field for f in out_of_range} == {"budget_basic", "budget_retiree"}
    assert "1e+308" in out_of_range[0].message  # not 309 digits
    assert result.values.get("budget") is None  # Excel's #NUM!: no value


def test_a_sum_that_overflows_from_numbers_excel_accepts(make_workbook: FillWorkbook) -> None:
    path = make_workbook(overrides={"budget_basic": 9e307, "budget_retiree": 9e307})

    result = _verify(path)

    assert result.unreadable_reason is None, result.unreadable_reason
    assert result.values.get("budget") is None
