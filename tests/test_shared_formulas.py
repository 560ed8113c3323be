"""Shared formulas moved from their master cell as Excel moves them: checked against openpyxl's
Translator where it is right, and against Excel's own behaviour where it is not."""

from __future__ import annotations

import pytest
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import coordinate_to_tuple

from xlcheck.shared_formulas import column_letters, column_number, shift_formula

FORMULAS = [
    "=A1*2",
    "=SUM(A1:B3)",
    "=$A$1+A$1+$A1",
    "=SUM(A:A)",
    "=SUM($A:B)",
    "=SUM(1:1)",
    "=SUM($2:3)",
    "='My Sheet'!A1+Sheet2!B2",
    "='It''s'!A1",
    '="A1"&A1',
    '=IF(N(D10)=0,"",E10/D10)',
    "=LOG10(A1)+ATAN2(B1,C1)",
    "=数据表!B5+'项目 支出'!C3",
    "=SUM(Sheet1:Sheet3!A1)",
    "=A1%",
    "=-A1",
    "=A1 B1",
    "=1E+10*A1",
    "=Table1[[#This Row],[A1]]",
    "=TRUE",
    "=#REF!+A1",
    "=[1]Sheet1!A1",
    "=_xlfn.XLOOKUP(A1,B:B,C:C)",
    "={1,2;3,4}",
    "=SUM(A1:A10)/COUNT(A1:A10)",
    "=Sheet1!$A:C",
]
DESTINATIONS = ["A1", "B1", "C5", "AA100"]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("destination", DESTINATIONS)
def test_shift_formula_agrees_with_openpyxl(formula: str, destination: str) -> None:
    row, column = coordinate_to_tuple(destination)
    expected = Translator(formula, "A1").translate_formula(destination)
    assert shift_formula(formula, row - 1, column - 1) == expected


@pytest.mark.parametrize(
    ("formula", "rows", "columns", "expected"),
    [
        # openpyxl keeps A1 here; Excel moves every reference, a function name after a colon
        # included (and never moves LOG10 or ATAN2, which read like cells).
        ("=A1:INDEX(B:B,3)", 2, 1, "=B3:INDEX(C:C,3)"),
        # Moved off the sheet: Excel shows #REF!, keeping the sheet name.
        ("=A1*2", -1, 0, "=#REF!*2"),
        ("=Sheet2!A1:B2+1", 0, -1, "=Sheet2!#REF!+1"),
        ("=XFD1", 0, 1, "=#REF!"),
        # Text in quotes is text, however much it looks like a reference.
        ('="B2:C3 and $D$4"&B2', 1, 1, '="B2:C3 and $D$4"&C3'),
        # A spilled range reference moves with its anchor.
        ("=SUM(A1#)", 1, 0, "=SUM(A2#)"),
        # Lower-case references stay lower case.
        ("=a1+b$2", 1, 1, "=b2+c$2"),
        # Without the leading "=".
        ("B5*2", 3, 0, "B8*2"),
    ],
    ids=[
        "range-ending-in-function",
        "row-off-sheet",
        "range-off-sheet",
        "column-off-sheet",
        "strings-untouched",
        "spill",
        "lower-case",
        "no-equals",
    ],
)
def test_shift_formula_moves_as_excel_does(
    formula: str, rows: int, columns: int, expected: str
) -> None:
    assert shift_formula(formula, rows, columns) == expected


@pytest.mark.parametrize(("letters", "number"), [("A", 1), ("Z", 26), ("AA", 27), ("XFD", 16384)])
def test_column_letters_and_numbers_round_trip(letters: str, number: int) -> None:
    assert column_number(letters) == number
    assert column_letters(number) == letters
