"""Text from a unit's workbook never runs as a formula in anything xlcheck writes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl

from tests.conftest import FillWorkbook
from xlcheck import VerifyOptions, api
from xlcheck.layout import lay_out
from xlcheck.spec_loading import load_spec

HOSTILE_NAME = '=HYPERLINK("http://example.invalid","点此")'
HOSTILE_REMARK = "+1+cmd|' /C calc'!A0"


def _as_text(path: Path, key: str, text: str) -> None:
    """Type ``text`` into a field's cell as text (openpyxl would make "=…" a formula)."""
    placed = lay_out(load_spec("zhanjiang-overall")).by_key[key]
    book = openpyxl.load_workbook(path)
    cell = book[placed.sheet].cell(placed.row_number, placed.column_number)
    cell.value = text
    cell.data_type = "s"
    book.save(path)


def _hostile(make_workbook: FillWorkbook) -> Path:
    path = make_workbook(overrides={"projects[1].remark": HOSTILE_REMARK})
    _as_text(path, "unit_name", HOSTILE_NAME)
    return path


def _csv_cells(path: Path) -> list[str]:
    rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    return [cell for row in rows for cell in row]


def test_collect_csv_and_xlsx_keep_formula_text_as_text(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    workbook = _hostile(make_workbook)
    csv_path = tmp_path / "values.csv"
    api.collect_values([workbook], csv_path, jobs=1)
    texts = _csv_cells(csv_path)
    assert "'" + HOSTILE_NAME in texts and HOSTILE_NAME not in texts
    assert "'" + HOSTILE_REMARK in texts

    xlsx_path = tmp_path / "values.xlsx"
    api.collect_values([workbook], xlsx_path, jobs=1)
    sheet = openpyxl.load_workbook(xlsx_path).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    assert "'" + HOSTILE_NAME in {cell.value for cell in cells}


def test_summary_csv_keeps_formula_text_as_text(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    results = api.verify_paths([_hostile(make_workbook)], options=VerifyOptions(annotate=False))
    out = api.write_summary(results, tmp_path / "汇总表.csv")
    texts = _csv_cells(out)
    assert "'" + HOSTILE_NAME in texts and HOSTILE_NAME not in texts


def test_annotated_results_sheet_keeps_formula_text_as_text(make_workbook: FillWorkbook) -> None:
    path = make_workbook()
    _as_text(path, "staff_contract", HOSTILE_NAME)  # a number field: not-a-number echoes the text
    result = api.verify_workbook(path)
    assert result.annotated is not None
    results_sheet = openpyxl.load_workbook(result.annotated)["校验结果"]
    cells = [cell for row in results_sheet.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    assert "'" + HOSTILE_NAME in {cell.value for cell in cells}
