"""The UNO harness (tests/libreoffice_uno.py): each operation does in real LibreOffice what it
says, and the edited workbook is stored in the format asked for."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from tests import libreoffice_uno as lo
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.libreoffice

EXAMPLE = EXAMPLES / "zhanjiang-xinfang-2023.xlsx"


@pytest.fixture(scope="module")
def uno_available() -> None:
    if not lo.available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have LibreOffice and python3-uno for the UNO round trips")
        pytest.skip("LibreOffice or the system python3 with python3-uno is not installed")


def _sheets(path: Path) -> dict[str, list[list[Any]]]:
    with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes())) as book:
        return {
            name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in book.sheet_names
        }


def test_libreoffice_uno_applies_each_operation(uno_available: None, tmp_path: Path) -> None:
    before = _sheets(EXAMPLE)["项目支出"]
    edited_xlsx, edited_ods = lo.edit_workbooks(
        [
            lo.Edit(
                EXAMPLE,
                tmp_path / "edited.xlsx",
                [
                    lo.set_value("数据表", "B5", 123.5),
                    lo.set_string("基本信息", "B3", "=不是公式"),
                    lo.set_formula("数据表", "D5", "=B5*2"),
                    lo.unprotect_sheet("项目支出"),
                    lo.delete_rows("项目支出", 5, 2),
                    lo.insert_rows("项目支出", 4, 1),
                    lo.rename_sheet("评分表", "评分"),
                ],
            ),
            lo.Edit(EXAMPLE, tmp_path / "copy.ods"),
        ]
    )
    after = _sheets(edited_xlsx)
    assert list(after) == ["基本信息", "数据表", "项目支出", "评分", "自查"]
    assert after["数据表"][4][1] == 123.5
    assert after["数据表"][4][3] == 247  # recalculated by LibreOffice
    assert after["基本信息"][2][1] == "=不是公式"
    projects = after["项目支出"]
    assert not any(projects[3])  # the inserted row
    assert projects[4] == before[3]  # row 4 moved down by one
    assert projects[5] == before[6]  # rows 5 and 6 deleted: row 7 now sits at row 6
    assert edited_ods.read_bytes().startswith(b"PK")
    assert list(_sheets(edited_ods)) == ["基本信息", "数据表", "项目支出", "评分表", "自查"]


def test_libreoffice_uno_says_what_failed(uno_available: None, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no sheet named"):
        lo.edit_workbook(EXAMPLE, tmp_path / "x.xlsx", [lo.set_value("没有这张表", "A1", 1)])
    assert not (tmp_path / "x.xlsx").exists()


def test_libreoffice_uno_refuses_a_format_libreoffice_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.xlsb"):
        lo.edit_workbook(EXAMPLE, tmp_path / "x.xlsb")
