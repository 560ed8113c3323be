"""Workbooks edited and saved by real LibreOffice 7.4 (through UNO), read as they are: a sheet
whose declared dimension reaches row 1,048,576, and LibreOffice's own .ods; and an .xlsb.

Every LibreOffice edit of this module runs in ONE soffice start (``libreoffice_uno``).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest
import python_calamine

from tests import libreoffice_uno as lo
from tests.conftest import EXAMPLES
from tests.xlsb_builder import write_xlsb
from xlcheck import TemplateMismatchError
from xlcheck.api import VerifyOptions, verify_workbook
from xlcheck.findings import VerificationResult

pytestmark = pytest.mark.libreoffice

EXAMPLE = EXAMPLES / "zhanjiang-xinfang-2023.xlsx"
#: The example's own findings (it holds these errors on purpose).
EXAMPLE_FINDINGS = {
    ("ratio-wrong-base", "数据表!B30"),
    ("score-above-weight", "评分表!F25"),
    ("total-above-maximum", "评分表!F28"),
}


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not lo.available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have LibreOffice and python3-uno for the UNO round trips")
        pytest.skip("LibreOffice or the system python3 with python3-uno is not installed")
    folder = tmp_path_factory.mktemp("libreoffice-edits")
    edits = {
        # A project row deleted, then the sheet renamed, and a figure that breaks the
        # cross-check typed in: LibreOffice then declares A1:G1048576 and writes row 1048576.
        "deleted-renamed": [
            lo.unprotect_sheet("项目支出"),
            lo.delete_rows("项目支出", 6, 1),
            lo.rename_sheet("项目支出", "项目"),
            lo.set_value("项目", "E4", 99999),
        ],
        "deleted": [lo.unprotect_sheet("项目支出"), lo.delete_rows("项目支出", 6, 1)],
    }
    jobs = [lo.Edit(EXAMPLE, folder / f"{name}.xlsx", ops) for name, ops in edits.items()]
    jobs.append(lo.Edit(EXAMPLE, folder / "example.ods"))
    return {path.stem: path for path in lo.edit_workbooks(jobs)}


def _findings(result: VerificationResult) -> set[tuple[str, str | None]]:
    return {(f.code, str(f.location) if f.location else None) for f in result.findings}


def _declares_the_whole_column(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return any(
            re.search(rb'<dimension ref="A1:[A-Z]+1048576"/>', data) and b'<row r="1048576"' in data
            for data in (archive.read(n) for n in archive.namelist() if "worksheets/" in n)
        )


def test_reader_places_a_sheet_libreoffice_declares_a_million_rows_high(
    edited: dict[str, Path],
) -> None:
    """The sheet renamed after a row was deleted is found by its content and checked: its
    error is reported, and no sheet is called missing."""
    path = edited["deleted-renamed"]
    assert _declares_the_whole_column(path)
    result = verify_workbook(path, options=VerifyOptions(annotate=False))
    assert _findings(result) == EXAMPLE_FINDINGS | {
        ("formula-replaced", "数据表!B30"),
        ("sheet-renamed", "项目!A1"),
        ("cross-check-mismatch", "项目!E23"),
    }


def test_reader_reads_a_template_sheet_libreoffice_declares_a_million_rows_high(
    edited: dict[str, Path],
) -> None:
    path = edited["deleted"]
    assert _declares_the_whole_column(path)
    result = verify_workbook(path, options=VerifyOptions(annotate=False))
    assert _findings(result) == EXAMPLE_FINDINGS | {("formula-replaced", "数据表!B30")}


def test_reader_verifies_libreoffice_ods_on_its_values(edited: dict[str, Path]) -> None:
    """As a legacy .xls: no template mark read, so -t is needed; values only, formulas unread."""
    path = edited["example"]
    with pytest.raises(TemplateMismatchError) as caught:
        verify_workbook(path, options=VerifyOptions(annotate=False))
    assert "-t" in (caught.value.hint or "")
    result = verify_workbook(path, options=VerifyOptions(template="zhanjiang-overall"))
    assert _findings(result) == EXAMPLE_FINDINGS | {("formulas-unread", None)}
    assert result.annotated is None
    assert not path.with_name("example.checked.xlsx").exists()


def test_reader_verifies_xlsb_on_its_values(tmp_path: Path) -> None:
    """An .xlsb holding the example's values (as LibreOffice saved them; LibreOffice cannot
    write .xlsb itself, see tests/xlsb_builder.py)."""
    with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(EXAMPLE.read_bytes())) as book:
        sheets = {
            name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in book.sheet_names
        }
    path = write_xlsb(tmp_path / "example.xlsb", sheets)
    with pytest.raises(TemplateMismatchError):
        verify_workbook(path, options=VerifyOptions(annotate=False))
    result = verify_workbook(path, options=VerifyOptions(template="zhanjiang-overall"))
    assert _findings(result) == EXAMPLE_FINDINGS | {("formulas-unread", None)}
    assert result.annotated is None
