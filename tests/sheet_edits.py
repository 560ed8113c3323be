"""Edits units make to a template, done with openpyxl the way Excel does them.

openpyxl's ``insert_rows``/``delete_rows`` move cells but leave formula text and merged ranges
alone; Excel moves every reference to the rows that moved, a range grows or shrinks when rows are
inserted or deleted strictly inside it, and so does a merged range (a 二级指标 label merged over
its rows grows with a row inserted among them). ``insert_rows`` and ``delete_rows`` here do all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_STRING = re.compile(r'"[^"]*"')
_REFERENCE = re.compile(
    r"(?:'(?P<sheet>(?:[^']|'')+)'!|(?P<bare>[^\W\d][\w.]*)!)?"
    r"(?P<col>\$?[A-Z]{1,3})(?P<row>\$?\d+)"
    r"(?::(?P<col2>\$?[A-Z]{1,3})(?P<row2>\$?\d+))?"
)


#: New row_number of a reference's row, by its kind: "single", "start" or "end" of a range;
#: 0 when the row is gone.
Move = Callable[[int, str], int]


def _shift_formula(formula: str, home: str, sheet: str, move: Move) -> str:
    def shift(match: re.Match[str]) -> str:
        target = match.group("sheet") or match.group("bare") or home
        if target.replace("''", "'") != sheet:
            return match.group(0)
        prefix = match.group(0)[: match.start("col") - match.start(0)]
        if match.group("col2") is None:
            single = move(int(match.group("row").lstrip("$")), "single")
            return f"{prefix}{match.group('col')}{single}" if single > 0 else "#REF!"
        start = move(int(match.group("row").lstrip("$")), "start")
        end = move(int(match.group("row2").lstrip("$")), "end")
        if start > end or end <= 0:
            return "#REF!"
        return f"{prefix}{match.group('col')}{start}:{match.group('col2')}{end}"

    pieces: list[str] = []
    position = 0
    for literal in _STRING.finditer(formula):
        pieces.append(_REFERENCE.sub(shift, formula[position : literal.start()]))
        pieces.append(literal.group(0))
        position = literal.end()
    pieces.append(_REFERENCE.sub(shift, formula[position:]))
    return "".join(pieces)


def _rewrite_formulas(book: Any, sheet: str, move: Move) -> None:
    for worksheet in book.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                # Text that only begins with "=" (a target typed as =8个) is not a formula.
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.value = _shift_formula(cell.value, worksheet.title, sheet, move)


def _move_merged(worksheet: Any, move: Move, edit: Callable[[], None]) -> None:
    """Do ``edit`` (a row insertion or deletion) and move the sheet's merged ranges with it."""
    ranges = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in worksheet.merged_cells.ranges]
    for first_row, first_col, last_row, last_col in ranges:
        worksheet.unmerge_cells(
            start_row=first_row, start_column=first_col, end_row=last_row, end_column=last_col
        )
    edit()
    for first_row, first_col, last_row, last_col in ranges:
        start, end = move(first_row, "start"), move(last_row, "end")
        if start and end >= start and (end > start or last_col > first_col):
            worksheet.merge_cells(
                start_row=start, start_column=first_col, end_row=end, end_column=last_col
            )


def insert_rows(book: Any, sheet: str, row_number: int, count: int = 1) -> None:
    """Insert ``count`` rows before ``row_number`` as Excel does (references and merged
    ranges follow; a range with the row strictly inside it grows)."""

    def move(r: int, _kind: str) -> int:
        return r + count if r >= row_number else r

    _move_merged(book[sheet], move, lambda: book[sheet].insert_rows(row_number, count))
    _rewrite_formulas(book, sheet, move)


def delete_rows(book: Any, sheet: str, row_number: int, count: int = 1) -> None:
    """Delete ``count`` rows from ``row_number`` as Excel does (ranges shrink, lone refs break)."""
    last = row_number + count - 1

    def move(r: int, kind: str) -> int:
        if r > last:
            return r - count
        if r < row_number:
            return r
        return {"single": 0, "start": row_number, "end": row_number - 1}[kind]

    _move_merged(book[sheet], move, lambda: book[sheet].delete_rows(row_number, count))
    _rewrite_formulas(book, sheet, move)


def rename_sheet(book: Any, old: str, new: str) -> None:
    """Rename a sheet as Excel does: every formula that refers to it follows the new name
    (openpyxl only changes the tab)."""
    quoted_new = "'" + new.replace("'", "''") + "'!"
    names = re.compile(
        r"'" + re.escape(old.replace("'", "''")) + r"'!|(?<![\w'])" + re.escape(old) + "!"
    )
    book[old].title = new
    for worksheet in book.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                if cell.data_type != "f" or not isinstance(cell.value, str):
                    continue
                pieces: list[str] = []
                position = 0
                for literal in _STRING.finditer(cell.value):
                    pieces.append(names.sub(quoted_new, cell.value[position : literal.start()]))
                    pieces.append(literal.group(0))
                    position = literal.end()
                pieces.append(names.sub(quoted_new, cell.value[position:]))
                cell.value = "".join(pieces)
