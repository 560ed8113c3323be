"""The reader's cell values are pandas.read_excel(engine="calamine", dtype=object)'s, minus its
habit of reading "NA"-like text as blank: the reader takes an .xlsx's values from its sheets'
scans (xlsx_values) and calls calamine directly for the rest, to skip pandas' start-up cost (see
reader.WorkbookSource.sheet_values). tests/test_xlsx_values.py compares the scan with calamine."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from tests.conftest import EXAMPLES, SHARED_ABSENT, SHARED_SAMPLES, shared_sample_params
from xlcheck import reader
from xlcheck.reader import open_workbook


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _same(ours: Any, theirs: Any) -> bool:
    if _blank(ours) or _blank(theirs):
        return _blank(ours) and _blank(theirs)
    if isinstance(theirs, pd.Timestamp):
        theirs = theirs.to_pydatetime()
    return bool(ours == theirs)


def _compare(path: Path) -> int:
    source = open_workbook(path)
    names = list(source.sheet_names)
    ours = source.sheet_values(names)
    # keep_default_na=False: pandas would otherwise read text such as "NA" as blank.
    theirs = pd.read_excel(
        path, sheet_name=names, header=None, dtype=object, engine="calamine", keep_default_na=False
    )
    compared = 0
    for name in names:
        frame = theirs[name]
        rows = ours[name]
        for row_index in range(max(len(rows), len(frame.index))):
            for column_index in range(max(len(rows[0]) if rows else 0, len(frame.columns))):
                mine = (
                    rows[row_index][column_index]
                    if row_index < len(rows) and column_index < len(rows[row_index])
                    else None
                )
                other = (
                    frame.iat[row_index, column_index]
                    if row_index < len(frame.index) and column_index < len(frame.columns)
                    else None
                )
                assert _same(mine, other), (
                    f"{path.name} {name} R{row_index + 1}C{column_index + 1}: {mine!r} != {other!r}"
                )
                compared += 1
    return compared


def test_reader_values_equal_pandas_on_the_example() -> None:
    assert _compare(EXAMPLES / "zhanjiang-xinfang-2023.xlsx") > 300


def test_reader_values_of_an_xlsx_come_from_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The values compared above are the scan's (xlsx_values), not calamine's: calamine is not
    opened for the example."""

    def calamine(path: Path, data: bytes, names: list[str]) -> dict[str, Any]:
        assert not names, f"calamine read {names}"
        return {}

    monkeypatch.setattr(reader, "read_sheets", calamine)
    source = open_workbook(EXAMPLES / "zhanjiang-xinfang-2023.xlsx")
    values = source.sheet_values(list(source.sheet_names))
    assert all(values.values())


@pytest.mark.parametrize("sample", shared_sample_params())
def test_reader_values_equal_pandas_on_client_samples(sample: Path) -> None:
    try:
        source = open_workbook(sample)
    except Exception as exc:
        pytest.skip(f"xlcheck refuses this sample: {exc}")
    del source
    _compare(sample)


def test_reader_keeps_text_that_pandas_would_blank(tmp_path: Path) -> None:
    path = tmp_path / "na.xlsx"
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet["A1"] = "N/A"
    sheet["A2"] = "001"
    sheet["A3"] = 3.0
    book.save(path)
    source = open_workbook(path)
    values = source.sheet_values(source.sheet_names)[source.sheet_names[0]]
    assert [row[0] for row in values] == ["N/A", "001", 3]


@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason=SHARED_ABSENT)
@pytest.mark.parametrize(
    ("sample", "text"),
    [("excel-x000d-escape.xlsx", "ABC\r\nDEF"), ("excel-mac-x005f-escape.xlsx", "SH_x000D_Z002")],
    ids=["x000D-is-a-carriage-return", "x005F-escapes-the-escape"],
)
def test_reader_decodes_excels_character_escapes(sample: str, text: str) -> None:
    source = open_workbook(SHARED_SAMPLES / sample)
    values = source.sheet_values(source.sheet_names)
    assert text in {v for rows in values.values() for row in rows for v in row}
