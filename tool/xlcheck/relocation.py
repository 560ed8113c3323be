"""Where a template's sheets and rows stand in a workbook a unit edited; no I/O.

Units rename, reorder and copy sheets, and insert or delete rows. Before any cell is read, each
template sheet is found by its content (form sheets by the labels in column A, the table by its
header row and its 合计 row, the scoring sheet by the indicator names in column C) and the
template layout is placed where that content now stands (``layout.place_layout``). A sheet whose
content cannot be matched with confidence is read at the template's positions, as it was laid out.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xlcheck.formulas import normalise_formula
from xlcheck.layout import (
    LEVEL1_COL,
    LEVEL3_COL,
    Layout,
    SheetLayout,
    SheetPlacement,
    place_layout,
)
from xlcheck.spec import FormSheetSpec, TableSheetSpec

#: A sheet's cell values as rows (the first list is row 1), as the reader reads them.
Grid = Sequence[Sequence[Any]]
#: The formula text of (sheet, row_number, column_number), or None.
FormulaAt = Callable[[str, int, int], str | None]

_SUM_RANGE = re.compile(r"^SUM\([A-Z]{1,3}(\d+):[A-Z]{1,3}(\d+)\)$")
_SPACE = re.compile(r"\s+")
TOTAL_LABEL = "合计"


@dataclass(frozen=True)
class PlacementNote:
    """Something found while placing the template, which ``rules.placement`` turns into a finding.

    The finding sits at ``field``'s cell in the placed layout, else at ``row_number`` in column A.
    """

    code: str
    #: The workbook sheet it concerns, and the template sheet's index (findings sort by it).
    sheet: str
    sheet_index: int
    row_number: int = 1
    field: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Relocation:
    """The template layout placed in one workbook, and what placing it found."""

    layout: Layout
    notes: tuple[PlacementNote, ...] = ()


@dataclass(frozen=True)
class _Fit:
    placement: SheetPlacement
    notes: tuple[PlacementNote, ...]
    #: Every row is where the template put it (only a rename may remain).
    in_place: bool


def _text(value: Any) -> str:
    return "" if value is None else _SPACE.sub("", str(value))


def _column(grid: Grid, column_number: int) -> list[str]:
    return [_text(row[column_number - 1]) if len(row) >= column_number else "" for row in grid]


def _find(texts: list[str], wanted: str, start: int, stop: int | None = None) -> int | None:
    """The 0-based index of the first ``wanted`` in ``texts[start:stop]``."""
    end = len(texts) if stop is None else min(stop, len(texts))
    return next((i for i in range(max(start, 0), end) if texts[i] == wanted), None)


def _row_items(sheet_layout: SheetLayout) -> list[tuple[int, int, str]]:
    """(template row_number, column_number, text) identifying each body row, top to bottom.

    Form sheets: the field labels in column A. Scoring sheets: the indicator name (or 小计) in
    column C, else the text in column A (总分, 等级).
    """
    labels = sheet_layout.labels
    rows = sorted({r for r, _ in labels})
    if isinstance(sheet_layout.sheet, FormSheetSpec):
        return [(r, 1, labels[(r, 1)]) for r in rows if (r, 1) in labels]
    items = []
    for r in rows:
        column = LEVEL3_COL if (r, LEVEL3_COL) in labels else LEVEL1_COL
        if (r, column) in labels:
            items.append((r, column, labels[(r, column)]))
    return items


def _fit_rows(
    sheet_layout: SheetLayout, name: str, grid: Grid
) -> tuple[_Fit | None, tuple[int, int, str] | None]:
    """Match a form or scoring sheet row by row; or None and the first item not found."""
    columns: dict[int, list[str]] = {}
    rows: dict[int, int] = {}
    cursor = 0
    for row_number, column_number, text in _row_items(sheet_layout):
        texts = columns.setdefault(column_number, _column(grid, column_number))
        found = _find(texts, _text(text), cursor)
        if found is None:
            return None, (row_number, column_number, text)
        rows[row_number] = found + 1
        cursor = found + 1
    # Section headings sit between the fields around them; a deleted one is simply absent.
    ordered = sorted(rows.items())
    column_a = columns.setdefault(1, _column(grid, 1))
    for row_number, title in sheet_layout.sections:
        before = [image for r, image in ordered if r < row_number]
        after = [image for r, image in ordered if r > row_number]
        found = _find(
            column_a, _text(title), before[-1] if before else 0, after[0] - 1 if after else None
        )
        if found is not None:
            rows[row_number] = found + 1
    images = sorted(rows.values())
    inserted = frozenset(r for a, b in itertools.pairwise(images) for r in range(a + 1, b))
    template_rows = sorted(rows)
    deleted = len(sheet_layout.sections) + len(ordered) - len(rows)
    above = images[0] - template_rows[0] if images else 0
    in_place = all(r == image for r, image in rows.items()) and not inserted and not deleted
    notes: tuple[PlacementNote, ...] = ()
    if not in_place:
        first_moved = next((image for r, image in sorted(rows.items()) if r != image), images[0])
        notes = (
            PlacementNote(
                "rows-moved",
                name,
                sheet_layout.index,
                row_number=first_moved,
                params={
                    "sheet": name,
                    "inserted": len(inserted) + max(above, 0),
                    "deleted": deleted + max(-above, 0),
                },
            ),
        )
    placement = SheetPlacement(name, rows=rows, inserted_rows=inserted)
    return _Fit(placement, notes, in_place), None


def _fit_table(
    sheet_layout: SheetLayout, name: str, grid: Grid, formula_at: FormulaAt
) -> _Fit | None:
    """Find a table by its header row and its 合计 row; or None."""
    sheet = sheet_layout.sheet
    assert isinstance(sheet, TableSheetSpec)
    headers = [_text(h) for h in sheet_layout.headers]
    header_index = next(
        (i for i, row in enumerate(grid) if [_text(v) for v in row[: len(headers)]] == headers),
        None,
    )
    if header_index is None:
        return None
    total_index = _find(_column(grid, 1), TOTAL_LABEL, header_index + 1)
    if total_index is None or total_index == header_index + 1:
        return None
    first_row, total_row = header_index + 2, total_index + 1
    capacity = total_row - first_row
    summed = _summed_rows(sheet, name, first_row, total_row, formula_at)
    placement = SheetPlacement(name, first_row=first_row, capacity=capacity, summed=summed)
    notes: list[PlacementNote] = []
    if summed is not None:
        first_summed, last_summed = summed
        for table_row in range(1, capacity + 1):
            row = grid[first_row + table_row - 2]
            if first_summed <= table_row <= last_summed or not any(_text(v) for v in row[1:]):
                continue
            notes.append(
                PlacementNote(
                    "row-outside-total",
                    name,
                    sheet_layout.index,
                    field=f"{sheet.key}[{table_row}].{sheet.columns[0].key}",
                    params={
                        "row_number": first_row + table_row - 1,
                        "first": first_row + first_summed - 1,
                        "last": first_row + last_summed - 1,
                    },
                )
            )
    in_place = (
        first_row == sheet_layout.last_row - sheet.capacity
        and capacity == sheet.capacity
        and summed is None
    )
    return _Fit(placement, tuple(notes), in_place)


def _summed_rows(
    sheet: TableSheetSpec, name: str, first_row: int, total_row: int, formula_at: FormulaAt
) -> tuple[int, int] | None:
    """The table rows (first, last) the 合计 row's first SUM adds up, when not all of them.

    Excel grows a SUM's range for rows inserted inside it, not for rows inserted just above the
    合计 row or just below the header: those projects are left out of the total.
    """
    if not sheet.totals:
        return None
    column_number = 2 + [c.key for c in sheet.columns].index(sheet.totals[0])
    formula = formula_at(name, total_row, column_number)
    match = _SUM_RANGE.match(normalise_formula(formula)) if formula else None
    if match is None:
        return None
    first = max(int(match.group(1)), first_row) - first_row + 1
    last = min(int(match.group(2)), total_row - 1) - first_row + 1
    capacity = total_row - first_row
    if first > last or (first, last) == (1, capacity):
        return None
    return first, last


def _fit(
    sheet_layout: SheetLayout, name: str, grid: Grid, formula_at: FormulaAt
) -> tuple[_Fit | None, tuple[int, int, str] | None]:
    if isinstance(sheet_layout.sheet, TableSheetSpec):
        return _fit_table(sheet_layout, name, grid, formula_at), None
    return _fit_rows(sheet_layout, name, grid)


def _unrecognised(
    sheet_layout: SheetLayout, name: str, grid: Grid, missing: tuple[int, int, str]
) -> PlacementNote | None:
    """A note when a label is neither found nor at its template place: rows were edited there."""
    row_number, column_number, text = missing
    row = grid[row_number - 1] if row_number <= len(grid) else []
    at_place = _text(row[column_number - 1]) if len(row) >= column_number else ""
    if at_place == _text(text) or not any(_text(v) for r in grid for v in r):
        return None
    return PlacementNote(
        "rows-unrecognised",
        name,
        sheet_layout.index,
        row_number=row_number,
        params={"sheet": name, "label": text},
    )


def relocate(layout: Layout, grids: Mapping[str, Grid], formula_at: FormulaAt) -> Relocation:
    """Place ``layout`` in a workbook whose sheets hold ``grids`` (sheet name → values).

    A template sheet is looked up by its name first, then by its content among sheets whose names
    are not the template's (renamed). Further sheets matching a template sheet are copies: noted,
    not verified. Returns ``layout`` itself when every sheet is where the template put it.
    """
    placements: dict[str, SheetPlacement] = {}
    notes: list[PlacementNote] = []
    template_names = {s.sheet.name for s in layout.sheets}
    spare = [name for name in grids if name not in template_names]
    for sheet_layout in layout.sheets:
        name = sheet_layout.sheet.name
        if name in grids:
            fit, missing = _fit(sheet_layout, name, grids[name], formula_at)
            if fit is None:
                note = missing and _unrecognised(sheet_layout, name, grids[name], missing)
                notes.extend([note] if note else [])
                continue
        else:
            for candidate in spare:
                fit, _ = _fit(sheet_layout, candidate, grids[candidate], formula_at)
                if fit is not None:
                    spare.remove(candidate)
                    notes.append(
                        PlacementNote(
                            "sheet-renamed",
                            candidate,
                            sheet_layout.index,
                            params={"sheet": candidate, "template_sheet": name},
                        )
                    )
                    break
            else:
                continue
        if not fit.in_place or fit.placement.name != name:
            placements[name] = fit.placement
        notes.extend(fit.notes)
    for candidate in spare:
        for sheet_layout in layout.sheets:
            if _fit(sheet_layout, candidate, grids[candidate], formula_at)[0] is not None:
                verified = placements.get(sheet_layout.sheet.name)
                notes.append(
                    PlacementNote(
                        "sheet-copied",
                        candidate,
                        sheet_layout.index,
                        params={
                            "sheet": candidate,
                            "template_sheet": verified.name
                            if verified
                            else sheet_layout.sheet.name,
                        },
                    )
                )
                break
    placed = place_layout(layout, placements) if placements else layout
    return Relocation(placed, tuple(notes))
