"""The conditional formats that mark, on the cells themselves, what the 自查 rows check: a score
above its weight, a total or ratio that disagrees with its parts, a figure that disagrees with
another sheet's, a grade that does not match the score.

The formulas are those of ``live_checks``, written for the cell's own sheet; Excel (2010 on), WPS
and LibreOffice evaluate them while a unit types. verify does not read them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from xlcheck.findings import column_letters
from xlcheck.layout import Layout, PlacedField, SheetLayout
from xlcheck.layout.self_check import SELF_CHECK_ROLE
from xlcheck.live_checks import (
    NOT_FILLED,
    PASSED,
    CheckWriter,
    number_text,
    score_pairs,
    weighed_runs,
)
from xlcheck.records import record

_CELL = re.compile(r"(?<![A-Z$])([A-Z]{1,3})(\d+)")


@record
class MarkedCells:
    """A conditional format: the cells (``F4:F7``) marked where ``formula`` (no ``=``) is true,
    written for the first cell of the range (relative references follow each cell)."""

    cells: str
    formula: str


def _absolute(reference: str) -> str:
    """``A1`` → ``$A$1`` (sheet names untouched), for formulas shared by a range of cells."""
    sheet, _, cell = reference.rpartition("!")
    fixed = _CELL.sub(r"$\1$\2", cell)
    return f"{sheet}!{fixed}" if sheet else fixed


def _range(cells: list[PlacedField]) -> str:
    first, last = cells[0], cells[-1]
    start = f"{column_letters(first.column_number)}{first.row_number}"
    end = f"{column_letters(last.column_number)}{last.row_number}"
    return start if start == end else f"{start}:{end}"


def _derived_marks(w: CheckWriter, placed: PlacedField, cells: str) -> MarkedCells:
    cell, computed = w.ref(placed.key), w.computed(placed.key)
    if placed.spec.value_type in ("text", "choice", "date"):
        return MarkedCells(cells, f"{cell}<>{computed}")
    d = w.decimals(placed.key)
    return MarkedCells(cells, f"ROUND(N({cell}),{d})<>ROUND(N({computed}),{d})")


def _check_marks(w: CheckWriter, check: PlacedField) -> Iterator[MarkedCells]:
    """The cells of ``w.home`` one 自查 row is about, and when they are wrong."""
    derive = check.spec.derive
    assert derive is not None
    kind = str(derive.constant)
    operands = tuple(o for o in derive.operands if isinstance(o, str | float))
    by_key = w.layout.by_key

    def here(key: str) -> bool:
        return by_key[key].sheet == w.home

    keys = [o for o in operands if isinstance(o, str)]
    if kind == "formula" and here(keys[0]):
        yield _derived_marks(w, by_key[keys[0]], by_key[keys[0]].cell_ref)
    elif kind in ("equal", "at_most"):
        a, b = w.ref(keys[0]), w.ref(keys[1])
        d = w.decimals(*keys)
        sign = "<>" if kind == "equal" else ">"
        test = f'AND(OR({a}<>"",{b}<>""),ROUND(N({a}),{d}){sign}ROUND(N({b}),{d}))'
        yield from (MarkedCells(by_key[k].cell_ref, test) for k in keys if here(k))
    elif kind == "scores":
        # One range per run of rows, its formula written for the first row: rows a unit inserts
        # inside the range (more indicators) are marked too.
        runs, fixed = weighed_runs(w, score_pairs(operands))
        for score, limit in fixed:
            if here(score):
                cell = w.ref(score)
                test = f"AND(ISNUMBER({cell}),{cell}>{number_text(limit)})"
                yield MarkedCells(by_key[score].cell_ref, test)
        for run in runs:
            if here(run[0][0]):
                score, weight = (w.ref(k) for k in run[0])
                cells = _range([by_key[run[0][0]], by_key[run[-1][0]]])
                yield MarkedCells(cells, f"AND(ISNUMBER({score}),{score}>{weight})")
    elif kind == "maximum" and here(keys[0]):
        most = number_text(float(operands[1]))
        yield MarkedCells(by_key[keys[0]].cell_ref, f"ROUND(N({w.ref(keys[0])}),2)>{most}")
    elif kind == "grade" and here(keys[0]):
        typed, score = w.ref(keys[0]), w.ref(keys[1])
        test = f'AND(OR({typed}<>"",N({score})<>0),NOT({w.grade_accepted(typed, score)}))'
        yield MarkedCells(by_key[keys[0]].cell_ref, test)
    elif kind == "weights":
        inputs = [by_key[k] for k in keys if by_key[k].is_input and here(k)]
        if inputs:
            wanted = number_text(float(operands[-1]))

            def anchored(cells: tuple[str, ...]) -> str:
                return ",".join(_absolute(t) for t in w.terms(cells).split(","))

            total, typed = anchored(tuple(keys)), anchored(tuple(f.key for f in inputs))
            test = f"AND(COUNT({typed})>0,ROUND(SUM({total}),2)<>{wanted})"
            yield from (
                MarkedCells(r, test) for r in w.terms(tuple(f.key for f in inputs)).split(",")
            )


def _table_marks(w: CheckWriter, sheet: SheetLayout) -> Iterator[MarkedCells]:
    """A table's computed columns (执行率 per project), each as one range from its first row."""
    columns: dict[tuple[str | None, int], list[PlacedField]] = {}
    for block in sheet.blocks:
        for placed in block.fields:
            derive = placed.spec.derive
            if (placed.table_row or 0) > 0 and derive is not None and derive.verb != "constant":
                columns.setdefault((placed.table, placed.column_number), []).append(placed)
    for cells in columns.values():
        cells.sort(key=lambda f: f.row_number)
        yield _derived_marks(w, cells[0], _range(cells))


def conditional_formats(layout: Layout, sheet: SheetLayout) -> list[MarkedCells]:
    """The conditional formats of one sheet: each cell a 自查 row is about, marked while that
    check fails (a score above its weight, a total that disagrees with its parts, a figure that
    disagrees with another sheet's, a grade that does not match the score)."""
    if sheet.generated:
        # The 自查 sheet itself: a result other than 通过 or 未填写 is marked too.
        results = [f for b in sheet.blocks for f in b.fields if f.role == SELF_CHECK_ROLE]
        if not results:
            return []
        first = results[0].cell_ref
        test = f'AND({first}<>"",{first}<>{PASSED},{first}<>{NOT_FILLED})'
        return [MarkedCells(_range(results), test)]
    w = CheckWriter(layout, sheet.name, layout.spec.grading.grades)
    checks = [f for f in layout.fields if f.role == SELF_CHECK_ROLE]
    marks = [m for check in checks for m in _check_marks(w, check)]
    return [*marks, *_table_marks(w, sheet)]
