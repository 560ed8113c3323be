"""Edits made by real LibreOffice itself (through UNO), read back by verify.

A project row inserted into the 项目支出 table without copying the 执行率 formula down is a
warning saying so, and its amounts count in the totals; the template's frozen panes, which a
headless LibreOffice save loses, come back in the annotated copy.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests import libreoffice_uno as lo
from tests.conftest import FillWorkbook
from xlcheck import VerifyOptions, verify_workbook

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def uno() -> None:
    if not lo.available():
        pytest.skip("LibreOffice with python3-uno is not installed")


def test_row_inserted_by_libreoffice_without_the_formula_is_a_warning_and_counts(
    uno: None, make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    # The seed's projects are one row (311.52); a second project of 5.00 makes 316.52, which
    # 数据表 states too, with 5.00 more income so spending stays within the funds.
    source = make_workbook(overrides={"spend_project": 316.52, "carryover": 5})
    edited = lo.edit_workbook(
        source,
        tmp_path / "edited.xlsx",
        [
            lo.unprotect_sheet("项目支出"),
            lo.insert_rows("项目支出", 6, 1),  # inside the table: the 合计 SUMs grow over it
            lo.set_string("项目支出", "B6", "新增项目甲"),
            lo.set_value("项目支出", "C6", 0),
            lo.set_value("项目支出", "D6", 5),
            lo.set_value("项目支出", "E6", 5),
        ],
    )
    result = verify_workbook(edited, options=VerifyOptions(annotate=False))
    found = {(f.code, str(f.location)) for f in result.findings}
    assert found == {("formula-not-copied", "项目支出!F6")}, result.findings
    assert result.status == "warnings"
    assert result.all_values["projects.total.actual"] == 316.52


def test_annotated_copy_restores_the_frozen_panes_libreoffice_dropped(
    uno: None, make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    saved = lo.edit_workbook(make_workbook(), tmp_path / "saved.xlsx", [])
    before = openpyxl.load_workbook(saved)
    result = verify_workbook(saved, options=VerifyOptions(output=tmp_path / "copy.xlsx"))
    assert result.annotated is not None
    after = openpyxl.load_workbook(result.annotated)
    expected = {"基本信息": "A4", "数据表": "A4", "项目支出": "C4", "评分表": "D4"}
    assert {name: after[name].freeze_panes for name in expected} == expected
    # What LibreOffice wrote, for the record: the point of restoring them.
    assert any(before[name].freeze_panes != pane for name, pane in expected.items())
