"""The written template: locked formulas with honest cached values, validation, print set-up, identity."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import SEED_VALUES
from xlcheck import load_prefill, load_spec, write_template
from xlcheck.layout import lay_out


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("t") / "blank.xlsx")


@pytest.fixture(scope="module")
def prefilled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = load_spec("zhanjiang-overall")
    return write_template(
        tmp_path_factory.mktemp("t") / "seed.xlsx", prefill=load_prefill(SEED_VALUES, spec)
    )


def _cached_values(path: Path, sheet_number: int) -> dict[str, str]:
    xml = zipfile.ZipFile(path).read(f"xl/worksheets/sheet{sheet_number}.xml").decode()
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'<c r="([A-Z]+\d+)"[^>]*><f>[^<]*</f><v>([^<]*)</v>', xml)
    }


def test_template_inputs_are_unlocked_and_derived_cells_locked(blank: Path) -> None:
    book = openpyxl.load_workbook(blank)
    for placed in lay_out(load_spec("zhanjiang-overall")).fields:
        cell = book[placed.sheet].cell(placed.row_number, placed.column_number)
        assert cell.protection.locked is (not placed.is_input), placed.key
        if not placed.is_input and placed.spec.derive and placed.spec.derive.verb != "constant":
            assert cell.data_type == "f", placed.key
    assert all(sheet.protection.sheet for sheet in book.worksheets)


def test_template_caches_only_true_values_or_nothing(blank: Path) -> None:
    layout = lay_out(load_spec("zhanjiang-overall"))
    cached = _cached_values(blank, 2)
    by_cell = {f.cell_ref: f for f in layout.fields if f.sheet == "数据表"}
    fields = {cell: value for cell, value in cached.items() if cell in by_cell}
    assert fields  # formulas are there
    # Nothing typed yet: every total and ratio shows a blank, not a misleading 0.00.
    assert set(fields.values()) == {""}


def test_template_caches_true_values_when_prefilled(prefilled: Path) -> None:
    layout = lay_out(load_spec("zhanjiang-overall"))
    cached = _cached_values(prefilled, 2)
    assert float(cached[layout.by_key["budget_total"].cell_ref]) == pytest.approx(1133.49)
    assert float(cached[layout.by_key["exec_rate"].cell_ref]) == pytest.approx(1130.30 / 1133.49)


def test_template_carries_its_identity_in_custom_properties(blank: Path) -> None:
    book = openpyxl.load_workbook(blank)
    properties = {p.name: p.value for p in book.custom_doc_props.props}  # type: ignore[attr-defined]
    spec = load_spec("zhanjiang-overall")
    assert properties == {
        "xlcheck.template": spec.id,
        "xlcheck.version": spec.version,
        "xlcheck.spec_hash": spec.spec_hash,
    }


def test_template_validates_inputs_with_chinese_messages(blank: Path) -> None:
    sheet = openpyxl.load_workbook(blank)["评分表"]
    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    score = rules["F9"]  # 预算执行率, weight 10
    # "between" is OOXML's default operator, so it is not written.
    assert (score.type, score.operator or "between", float(score.formula2)) == (
        "decimal",
        "between",
        10.0,
    )
    assert "不能超过分值" in (score.error or "")
    assert score.promptTitle


def test_template_is_set_up_for_a4_printing_with_frozen_headers(blank: Path) -> None:
    book = openpyxl.load_workbook(blank)
    for sheet in book.worksheets:
        assert sheet.page_setup.paperSize == 9, sheet.title
        assert sheet.freeze_panes is not None, sheet.title
        assert sheet.print_title_rows == "$1:$3", sheet.title
    assert book["评分表"].page_setup.orientation == "landscape"
    assert book["数据表"].column_dimensions["A"].width >= 30


def test_template_prefill_fills_inputs(prefilled: Path) -> None:
    sheet = openpyxl.load_workbook(prefilled)["基本信息"]
    assert sheet["B6"].value == "湛江市信访局"


def test_template_title_names_the_year(tmp_path: Path) -> None:
    path = write_template(tmp_path / "y.xlsx", year=2024, unit="某单位")
    sheet = openpyxl.load_workbook(path, data_only=True)["基本信息"]
    assert sheet["A1"].value == "某单位　部门整体支出绩效自评 基本信息（2024 年度）"
    assert sheet["B5"].value == 2024
    # Every sheet's title is a formula over 基本信息's unit and year, so it follows the cells.
    formula = openpyxl.load_workbook(path)["评分表"]["A1"].value
    assert "'基本信息'!B6" in formula and "'基本信息'!B5" in formula
