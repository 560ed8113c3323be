"""A sheet read in a window gives exactly the values calamine reads in the whole sheet there:
dates, shared and inline strings, booleans, errors, numbers, on real apps' files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import python_calamine

from tests.conftest import EXAMPLES, SHARED_SAMPLES
from xlcheck.package import inspect_package
from xlcheck.sheet_windows import package_with_windows, window_part
from xlcheck.sheet_xml import scan_sheet

SAMPLES = sorted(SHARED_SAMPLES.glob("*.xlsx")) if SHARED_SAMPLES.is_dir() else []
WORKBOOKS = [EXAMPLES / "zhanjiang-xinfang-2023.xlsx", *SAMPLES]


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


@pytest.mark.parametrize("workbook", WORKBOOKS, ids=[p.stem for p in WORKBOOKS])
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
