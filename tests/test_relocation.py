"""Relocation: the template found in workbooks units edited (sheets renamed, copied, rows moved)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from tests import sheet_edits
from tests.conftest import FillWorkbook
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.formulas import template_formulas
from xlcheck.layout import lay_out
from xlcheck.reader import open_workbook
from xlcheck.relocation import relocate
from xlcheck.spec_loading import load_spec

SPEC = load_spec("zhanjiang-overall")
LAYOUT = lay_out(SPEC)


def _edited(path: Path, *edits: Any) -> Path:
    book = openpyxl.load_workbook(path)
    for edit in edits:
        edit(book)
    book.save(path)
    return path


def _codes(path: Path, **options: Any) -> list[str]:
    result = verify_workbook(path, options=VerifyOptions(annotate=False, **options))
    return [f.code for f in result.findings]


def _grid(book: Any, sheet: str) -> list[list[Any]]:
    return [list(row) for row in book[sheet].iter_rows(values_only=True)]


def test_relocate_returns_the_template_layout_when_nothing_moved(
    make_workbook: FillWorkbook,
) -> None:
    with open_workbook(make_workbook()) as source:
        filled = source.read(LAYOUT)
    assert filled.layout is LAYOUT
    assert filled.placement_notes == ()


def test_relocate_falls_back_to_template_positions_without_labels() -> None:
    grids: dict[str, list[list[Any]]] = {s.sheet.name: [] for s in LAYOUT.sheets}
    relocation = relocate(LAYOUT, grids, lambda *_: None)
    assert relocation.layout is LAYOUT
    assert relocation.notes == ()


def test_relocate_formulas_read_as_excel_shows_them_after_an_insertion(
    make_workbook: FillWorkbook,
) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    sheet_edits.insert_rows(book, "数据表", 8, 2)
    relocation = relocate(LAYOUT, {"数据表": _grid(book, "数据表")}, lambda *_: None)
    formulas = template_formulas(relocation.layout)
    placed = relocation.layout.by_key["budget_total"]
    assert placed.row_number == LAYOUT.by_key["budget_total"].row_number + 2
    assert formulas["budget_total"] == book["数据表"][placed.cell_ref].value
    assert formulas["budget_total"] == '=IF(COUNT(B5:B16)=0,"",SUM(B5:B16))'
    # The 自查 sheet's check of that total follows the rows too, as Excel moved its references.
    check = relocation.layout.by_key["check.formula.budget_total"]
    assert formulas[check.key] == book["自查"][check.cell_ref].value


def test_relocate_grows_the_project_table_to_the_rows_present(
    make_workbook: FillWorkbook,
) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    sheet_edits.insert_rows(book, "项目支出", 10, 3)
    relocation = relocate(LAYOUT, {"项目支出": _grid(book, "项目支出")}, lambda *_: None)
    by_key = relocation.layout.by_key
    assert by_key["projects[23].name"].cell_ref == "B26"
    assert by_key["projects.total.actual"].cell_ref == "E27"
    total = template_formulas(relocation.layout)["projects.total.actual"]
    assert total == '=IF(COUNT(E4:E26)=0,"",SUM(E4:E26))'


def test_verify_sheet_renamed_reads_and_marks_the_renamed_sheet(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = _edited(
        make_workbook(overrides={"budget_basic": -1}),
        lambda b: sheet_edits.rename_sheet(b, "数据表", "数据"),
    )
    out = tmp_path / "out.xlsx"
    result = verify_workbook(path, options=VerifyOptions(output=out))
    assert [(f.code, str(f.location)) for f in result.findings] == [
        ("sheet-renamed", "数据!A1"),
        ("out-of-range", "数据!B5"),
    ]
    assert openpyxl.load_workbook(out)["数据"]["B5"].comment is not None


def test_verify_two_renamed_copies_checks_the_first_and_warns_about_the_second(
    make_workbook: FillWorkbook,
) -> None:
    def copy_and_rename(book: Any) -> None:
        book.copy_worksheet(book["数据表"]).title = "数据表 (3)"
        sheet_edits.rename_sheet(book, "数据表", "数据表 (2)")

    path = _edited(make_workbook(), copy_and_rename)
    result = verify_workbook(path, options=VerifyOptions(annotate=False))
    # Both sit at A1 of the template's 数据表 position, so they sort by code.
    assert [(f.code, f.location.sheet if f.location else None) for f in result.findings] == [
        ("sheet-copied", "数据表 (3)"),
        ("sheet-renamed", "数据表 (2)"),
    ]


def test_verify_rows_inserted_above_the_project_header_just_move_the_table(
    make_workbook: FillWorkbook,
) -> None:
    path = _edited(make_workbook(), lambda b: sheet_edits.insert_rows(b, "项目支出", 2, 2))
    assert _codes(path) == []


def test_verify_rows_deleted_from_the_project_table_shrink_it(
    make_workbook: FillWorkbook,
) -> None:
    # The seed fills 7 projects; the unit deleted ten spare rows.
    path = _edited(make_workbook(), lambda b: sheet_edits.delete_rows(b, "项目支出", 12, 10))
    assert _codes(path) == []


def test_verify_project_row_above_the_sum_range_is_outside_the_total(
    make_workbook: FillWorkbook,
) -> None:
    def insert_first(book: Any) -> None:
        sheet_edits.insert_rows(book, "项目支出", 4, 1)
        for cell, value in {"B4": "置顶项目", "C4": 0, "D4": 2, "E4": 2}.items():
            book["项目支出"][cell].value = value
        book["项目支出"]["F4"].value = '=IF(N(D4)=0,"",E4/D4)'

    result = verify_workbook(
        _edited(make_workbook(), insert_first), options=VerifyOptions(annotate=False)
    )
    assert [(f.code, str(f.location)) for f in result.findings] == [
        ("row-outside-total", "项目支出!B4"),
    ]


def test_verify_hidden_column_just_works(make_workbook: FillWorkbook) -> None:
    def hide(book: Any) -> None:
        book["数据表"].column_dimensions["B"].hidden = True
        book["评分表"].column_dimensions["E"].hidden = True

    assert _codes(_edited(make_workbook(), hide)) == []


def test_verify_hidden_sheet_is_checked_with_a_warning(make_workbook: FillWorkbook) -> None:
    path = _edited(
        make_workbook(overrides={"budget_basic": -1}),
        lambda b: setattr(b["数据表"], "sheet_state", "hidden"),
    )
    assert _codes(path) == ["sheet-hidden", "out-of-range"]


def test_verify_number_in_a_text_formatted_cell_is_number_as_text(
    make_workbook: FillWorkbook,
) -> None:
    def as_text(book: Any) -> None:
        cell = book["数据表"]["B5"]
        cell.number_format = "@"
        cell.value = "489.82"

    path = _edited(make_workbook(), as_text)
    result = verify_workbook(path, options=VerifyOptions(annotate=False))
    assert [(f.code, f.field, f.expected) for f in result.findings] == [
        ("number-as-text", "budget_basic", 489.82)
    ]


def test_verify_merged_input_is_read_from_the_top_left_and_annotated(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    # 基本支出 (B5) merged over its unit and help columns, holding a value out of range.
    path = _edited(
        make_workbook(overrides={"budget_basic": -1}),
        lambda b: b["数据表"].merge_cells("B5:D5"),
    )
    out = tmp_path / "merged.xlsx"
    result = verify_workbook(path, options=VerifyOptions(output=out))
    assert [(f.code, str(f.location), f.actual) for f in result.findings] == [
        ("out-of-range", "数据表!B5", -1)
    ]
    assert openpyxl.load_workbook(out)["数据表"]["B5"].comment is not None


def test_verify_merged_cells_over_a_section_heading_just_work(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = _edited(make_workbook(), lambda b: b["数据表"].merge_cells("A4:D4"))
    result = verify_workbook(path, options=VerifyOptions(output=tmp_path / "m.xlsx"))
    assert result.findings == ()
