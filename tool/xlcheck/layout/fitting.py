"""What a sheet kind needs to find its block in a workbook a unit edited, and what it reports.

Each kind's ``fit`` reads a sheet's values (``SheetView``) from a starting row and says where its
block now stands (``BlockFit``); ``xlcheck.relocation`` runs the kinds sheet by sheet.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from xlcheck.layout.model import BlockLayout, BlockPlacement
from xlcheck.records import record

#: A sheet's cell values as rows (the first list is row 1), as the reader reads them.
Grid = Sequence[Sequence[Any]]
#: The formula text of (sheet, row_number, column_number), or None.
FormulaAt = Callable[[str, int, int], str | None]


def cell_text(value: Any) -> str:
    """A cell's text as labels are compared: without any white space."""
    if value is None:
        return ""
    text = str(value)
    # Most labels hold no white space at all: no list of pieces to join then.
    return text if text.isprintable() and " " not in text else "".join(text.split())


@record
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


@record
class SheetView:
    """One workbook sheet as relocation sees it: its name, its values and its formulas."""

    name: str
    grid: Grid
    formula_at: FormulaAt
    #: The index of the template sheet being looked for (findings about it sort by it).
    sheet_index: int = 0
    #: Rows the blocks above the one being fitted grew (or shrank) by, as their kind lets a unit
    #: grow them (indicator rows): the block is expected that much lower, which moves nothing.
    shift: int = 0
    #: Row number → the row's texts, made once: each kind's search reads the same rows again
    #: (shared by the copies ``dataclasses.replace`` makes; never changed by a reader).
    texts: dict[int, list[str]] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    #: Column number → the column's texts, made once, as ``texts`` (a scoring block reads the
    #: same columns for each of its rows).
    columns: dict[int, list[str]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    def column(self, column_number: int) -> list[str]:
        """The texts of one column, top to bottom (row 1 first)."""
        texts = self.columns.get(column_number)
        if texts is None:
            # Straight from the grid: the other cells of each row are not made texts for it.
            index = column_number - 1
            texts = self.columns[column_number] = [
                cell_text(row[index]) if len(row) > index else "" for row in self.grid
            ]
        return texts

    def find_in_column(
        self, column_number: int, wanted: str, start_row: int, stop_row: int | None = None
    ) -> int | None:
        """The first row number in [start_row, stop_row) whose text in the column is ``wanted``
        (a text already without white space)."""
        texts = self.column(column_number)
        stop = len(texts) if stop_row is None else min(stop_row - 1, len(texts))
        try:
            # list.index scans in C: a Python loop over the rows was most of a form's fit.
            return texts.index(wanted, max(start_row, 1) - 1, stop) + 1
        except ValueError:
            return None

    def row(self, row_number: int) -> list[str]:
        texts = self.texts.get(row_number)
        if texts is None:
            if not 1 <= row_number <= len(self.grid):
                return []
            texts = self.texts[row_number] = [cell_text(v) for v in self.grid[row_number - 1]]
        return texts

    def text_at(self, row_number: int, column_number: int) -> str:
        row = self.row(row_number)
        return row[column_number - 1] if len(row) >= column_number else ""

    def find_row(self, wanted: Sequence[str], start_row: int, column_number: int = 1) -> int | None:
        """The first row at or after ``start_row`` whose cells from ``column_number`` on begin
        with ``wanted`` (texts compared without white space)."""
        target = [cell_text(w) for w in wanted]
        last = column_number - 1 + len(target)
        for row_number in range(max(start_row, 1), len(self.grid) + 1):
            if self.row(row_number)[column_number - 1 : last] == target:
                return row_number
        return None

    def find_cells(
        self,
        wanted: Sequence[tuple[int, str]],
        start_row: int,
        *,
        prefix: bool = False,
    ) -> int | None:
        """The first row at or after ``start_row`` where each (column number, text) of ``wanted``
        holds that text (or, with ``prefix``, begins with it), compared without white space."""
        target = [(column, cell_text(text)) for column, text in wanted]
        for row_number in range(max(start_row, 1), len(self.grid) + 1):
            row = self.row(row_number)
            found = (row[column - 1] if len(row) >= column else "" for column, _ in target)
            if all(
                (have.startswith(text) if prefix else have == text)
                for have, (_, text) in zip(found, target, strict=True)
            ):
                return row_number
        return None

    def is_blank(self) -> bool:
        return not any(cell_text(v) for row in self.grid for v in row)


@record
class BlockFit:
    """Where a block was found: its placement, what placing it noted, the row after it."""

    placement: BlockPlacement
    notes: tuple[PlacementNote, ...]
    #: Every row is where the template put it.
    in_place: bool
    #: The workbook row where the next block's search starts.
    next_row: int


@record
class Misfit:
    """A block that could not be placed: the first item of it that was not found."""

    row_number: int
    column_number: int
    text: str


def fit_from_rows(
    laid: BlockLayout, view: SheetView, rows: dict[int, int], expected: set[int]
) -> BlockFit:
    """A fit from a row map (template row → workbook row) of the ``expected`` rows found:
    which rows were inserted or deleted, and the note saying so."""
    images = sorted(rows.values())
    inserted = frozenset(
        r for a, b in itertools.pairwise(images) if b > a + 1 for r in range(a + 1, b)
    )
    deleted = len(expected) - len(rows)
    in_place = all(r == image for r, image in rows.items()) and not inserted and not deleted
    shifted = all(r + view.shift == image for r, image in rows.items())
    notes: tuple[PlacementNote, ...] = ()
    if not (shifted and not inserted and not deleted):
        above = images[0] - min(rows) - view.shift if images else 0
        first_moved = next(
            (image for r, image in sorted(rows.items()) if r + view.shift != image), images[0]
        )
        notes = (
            PlacementNote(
                "rows-moved",
                view.name,
                view.sheet_index,
                row_number=first_moved,
                params={
                    "sheet": view.name,
                    "inserted": len(inserted) + max(above, 0),
                    "deleted": deleted + max(-above, 0),
                },
            ),
        )
    placement = BlockPlacement(rows=dict(rows), inserted_rows=inserted)
    return BlockFit(placement, notes, in_place, max(images, default=laid.last_row) + 1)


def move_rows(laid: BlockLayout, placement: BlockPlacement) -> BlockLayout:
    """The block with its fields and cells at the workbook rows their template rows went to."""
    rows = placement.rows or {}

    def row_of(row_number: int) -> int:
        return rows.get(row_number, row_number)

    cells = tuple(
        replace(c, row_number=row_of(c.row_number))
        for c in laid.cells
        if c.style not in ("section", "header") or c.row_number in rows
    )
    return replace(
        laid,
        fields=tuple(replace(f, row_number=row_of(f.row_number)) for f in laid.fields),
        cells=cells,
        first_row=row_of(laid.first_row),
        last_row=max((row_of(r) for r in range(laid.first_row, laid.last_row + 1)), default=0),
        inserted_rows=placement.inserted_rows,
    )
