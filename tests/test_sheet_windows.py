"""A sheet read in a window gives exactly the values calamine reads in the whole sheet there:
dates, shared and inline strings, booleans, errors, numbers, on real apps' files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from tests.conftest import EXAMPLES, shared_sample_params
from xlcheck.package import inspect_package
from xlcheck.sheet_windows import RowsPrefix, package_with_windows, rows_prefix, window_part
from xlcheck.sheet_xml import scan_sheet

#: The shipped example and every client sample; without ../shared, a case that skips saying so.
WORKBOOKS = [
    pytest.param(EXAMPLES / "zhanjiang-xinfang-2023.xlsx", id="zhanjiang-xinfang-2023"),
    *shared_sample_params(),
]


def _values(data: bytes, sheets: list[str]) -> dict[str, list[list[Any]]]:
    with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
        return {
            name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in sheets
        }


def _cell(rows: list[list[Any]], row_index: int, column_index: int) -> Any:
    if row_index < len(rows) and column_index < len(rows[row_index]):
        return rows[row_index][column_index]
    return ""


@pytest.mark.parametrize("workbook", WORKBOOKS)
def test_window_values_equal_the_whole_sheets(workbook: Path) -> None:
    package = inspect_package(workbook)
    whole = _values(package.data, list(package.sheet_parts))
    windows: dict[str, bytes] = {}
    sizes: dict[str, tuple[int, int]] = {}
    with package.open_zip() as archive:
        for name, entry in package.sheet_parts.items():
            rows = whole[name]
            # Cut every sheet: about two thirds of its rows and columns.
            size = (max(len(rows) * 2 // 3, 1), max(max(map(len, rows), default=0) * 2 // 3, 1))
            with archive.open(entry) as stream:
                scan = scan_sheet(stream, window=size)
            windows[entry] = window_part(scan.cells)
            sizes[name] = size
        copy = package_with_windows(archive, windows, ())
    read = _values(copy, list(package.sheet_parts))
    compared = 0
    for name, (height, width) in sizes.items():
        assert len(read[name]) <= height
        for row_index in range(height):
            for column_index in range(width):
                expected = _cell(whole[name], row_index, column_index)
                assert _cell(read[name], row_index, column_index) == expected, (
                    name,
                    row_index + 1,
                    column_index + 1,
                )
                compared += 1
    assert compared


def _part(rows: str, prefix: str = "") -> io.BytesIO:
    colon, xmlns = (f"{prefix}:", f"xmlns:{prefix}") if prefix else ("", "xmlns")
    return io.BytesIO(
        f'<?xml version="1.0"?><{colon}worksheet {xmlns}="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><{colon}dimension ref="A1:XFD1048576"/><{colon}sheetData>'
        f"{rows}</{colon}sheetData><{colon}mergeCells/></{colon}worksheet>".encode()
    )


@pytest.mark.parametrize("prefix", ["", "x"], ids=["plain", "wps-prefixed"])
def test_rows_prefix_cuts_before_the_first_row_past_the_window(prefix: str) -> None:
    p = f"{prefix}:" if prefix else ""
    rows = "".join(
        f'<{p}row r="{r}"><{p}c r="A{r}"><{p}v>{r}</{p}v></{p}c><{p}c r="C{r}" s="1"/></{p}row>'
        for r in range(1, 11)
    )
    cut = rows_prefix(_part(rows, prefix), 4)
    assert cut.part is not None and cut.max_column == 3
    values = _values_of_part(cut.part)
    assert [row[0] for row in values] == [1.0, 2.0, 3.0, 4.0]


def test_rows_prefix_keeps_a_sheet_within_the_window_whole() -> None:
    assert rows_prefix(_part('<row r="2"><c r="B2"><v>1</v></c></row>'), 300) == RowsPrefix(None, 2)


def test_rows_prefix_cuts_libreoffices_empty_last_row() -> None:
    """LibreOffice's empty row 1048576 is cut away with the rest; the cells are all kept."""
    cut = rows_prefix(_part('<row r="2"><c r="B2"><v>1</v></c></row><row r="1048576"/>'), 300)
    assert cut.part is not None and cut.max_column == 2
    assert _values_of_part(cut.part) == [["", ""], ["", 1.0]]


def test_rows_prefix_counts_cells_without_references_conservatively() -> None:
    cut = rows_prefix(_part("<row><c><v>1</v></c><c><v>2</v></c><c><v>3</v></c></row>"), 10)
    assert cut.max_column == 3


def _values_of_part(part: bytes) -> list[list[Any]]:
    """calamine's values of a worksheet part, in the shipped example's package."""
    package = inspect_package(EXAMPLES / "zhanjiang-xinfang-2023.xlsx")
    entry = package.sheet_parts["数据表"]
    with package.open_zip() as archive:
        copy = package_with_windows(archive, {entry: part}, ())
    return _values(copy, ["数据表"])["数据表"]


def test_reader_identifies_other_sheets_from_their_first_rows(tmp_path: Path) -> None:
    """A sheet of 2,000 unrelated rows is read no further than telling it is not the template's;
    a copy of a template sheet beside it is still recognised."""
    import openpyxl

    from xlcheck.layout import lay_out
    from xlcheck.reader import open_workbook
    from xlcheck.relocation import relocate
    from xlcheck.spec_loading import load_spec

    layout = lay_out(load_spec("zhanjiang-overall"))
    book = openpyxl.load_workbook(EXAMPLES / "zhanjiang-xinfang-2023.xlsx")
    sheet = book.create_sheet("外部数据")
    for row in range(2000):
        sheet.append([f"文本{row}-{column}" for column in range(30)])
    book.copy_worksheet(book["数据表"]).title = "数据表 (2)"
    sheet["AD2000"] = "最后一格"
    path = tmp_path / "big.xlsx"
    book.save(path)
    source = open_workbook(path)
    grids = source.grids(layout)
    rows = max(s.last_row for s in layout.sheets) + 200
    assert len(grids["外部数据"]) == rows
    assert grids["外部数据"][rows - 1][29] == f"文本{rows - 1}-29"
    notes = relocate(layout, grids, source.formula_at).notes
    assert [(n.code, n.sheet) for n in notes] == [("sheet-copied", "数据表 (2)")]
