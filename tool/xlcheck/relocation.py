"""Where a template's sheets and rows stand in a workbook a unit edited; no I/O.

Units rename, reorder and copy sheets, and insert or delete rows. Before any cell is read, each
template sheet is found by its content — each block by its own kind's ``fit`` (form rows by their
labels, a table by its header and 合计 rows, the 评分表 by its indicator names …) — and the layout
is built again where that content now stands (``layout.build_layout``). A sheet written once per
item (one per project) is every sheet whose content fits it. A sheet whose content cannot be
matched with confidence is read at the template's positions, as it was laid out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from xlcheck.layout import (
    BlockFit,
    FormulaAt,
    Grid,
    Layout,
    Misfit,
    PlacementNote,
    SheetLayout,
    SheetPlacement,
    SheetPlan,
    SheetView,
    build_layout,
    kind_named,
)
from xlcheck.records import record
from xlcheck.spec import SheetSpec

__all__ = ["PlacementNote", "Relocation", "relocate"]


@record
class Relocation:
    """The template layout placed in one workbook, and what placing it found."""

    layout: Layout
    notes: tuple[PlacementNote, ...] = ()


@record
class _SheetFit:
    placement: SheetPlacement
    notes: tuple[PlacementNote, ...]
    #: Every block is where the template put it (only a rename may remain).
    in_place: bool


def _fit_sheet(sheet_layout: SheetLayout, view: SheetView) -> _SheetFit | Misfit:
    """Each block of the sheet found in turn, top to bottom; the first block not found."""
    placements = []
    notes: list[PlacementNote] = []
    in_place = True
    start_row = 1
    shift = 0
    for block in sheet_layout.blocks:
        kind = kind_named(block.kind)
        assert kind is not None
        # The view as it is while no block above grew (most sheets): no copy made for each block.
        block_view = view if shift == view.shift else dataclasses.replace(view, shift=shift)
        fit = kind.fit(block, block_view, start_row)
        if isinstance(fit, Misfit):
            return fit
        assert isinstance(fit, BlockFit)
        placements.append(fit.placement)
        notes.extend(fit.notes)
        in_place = in_place and fit.in_place
        start_row = fit.next_row
        # The blocks below stand lower by what this one grew (noted by it, if at all).
        shift = fit.next_row - (block.last_row + 1)
    placement = SheetPlacement(view.name, tuple(placements))
    return _SheetFit(placement, tuple(notes), in_place)


def _unrecognised(
    sheet_layout: SheetLayout, view: SheetView, missing: Misfit
) -> PlacementNote | None:
    """A note when a label is neither found nor at its template place: rows were edited there."""
    if view.text_at(missing.row_number, missing.column_number) == _bare(missing.text):
        return None
    if view.is_blank():
        return None
    return PlacementNote(
        "rows-unrecognised",
        view.name,
        sheet_layout.index,
        row_number=missing.row_number,
        params={"sheet": view.name, "label": missing.text},
    )


def _bare(text: str) -> str:
    return "".join(text.split())


class _Placer:
    """Finds each template sheet in one workbook and collects the plans and notes."""

    def __init__(self, layout: Layout, grids: Mapping[str, Grid], formula_at: FormulaAt) -> None:
        self.layout = layout
        self.grids = grids
        self.formula_at = formula_at
        self.plans: list[SheetPlan] = []
        self.notes: list[PlacementNote] = []
        self.moved = False
        template_names = {s.sheet.name for s in layout.sheets}
        self.spare = [name for name in grids if name not in template_names]

    def view(self, name: str, sheet_layout: SheetLayout) -> SheetView:
        return SheetView(name, self.grids[name], self.formula_at, sheet_layout.index)

    def fit(self, sheet_layout: SheetLayout, name: str) -> _SheetFit | Misfit:
        return _fit_sheet(sheet_layout, self.view(name, sheet_layout))

    def place(self, sheet_layout: SheetLayout) -> None:
        spec_sheet = self.spec_sheet(sheet_layout)
        if spec_sheet.repeat is not None:
            self.place_instances(sheet_layout)
            return
        name = sheet_layout.sheet.name
        found: _SheetFit | Misfit | None
        if name in self.grids:
            found = self.fit(sheet_layout, name)
            if isinstance(found, Misfit):
                note = _unrecognised(sheet_layout, self.view(name, sheet_layout), found)
                self.notes.extend([note] if note else [])
                found = None
        else:
            found = self.find_renamed(sheet_layout)
        if found is None:
            # Read where the template put it; a missing sheet is reported as sheet-missing.
            self.plans.append(SheetPlan(spec_sheet, name))
            return
        self.accept(spec_sheet, sheet_layout, found)

    def find_renamed(self, sheet_layout: SheetLayout) -> _SheetFit | None:
        for candidate in self.spare:
            fit = self.fit(sheet_layout, candidate)
            if isinstance(fit, _SheetFit):
                self.spare.remove(candidate)
                self.notes.append(
                    PlacementNote(
                        "sheet-renamed",
                        candidate,
                        sheet_layout.index,
                        params={"sheet": candidate, "template_sheet": sheet_layout.sheet.name},
                    )
                )
                return fit
        return None

    def spec_sheet(self, sheet_layout: SheetLayout) -> SheetSpec:
        return next(s for s in self.layout.spec.sheets if s.name == sheet_layout.sheet.name)

    def accept(
        self,
        spec_sheet: SheetSpec,
        sheet_layout: SheetLayout,
        fit: _SheetFit,
        instance: int | None = None,
    ) -> None:
        name = fit.placement.name
        in_place = fit.in_place and name == sheet_layout.sheet.name and instance in (None, 1)
        self.moved = self.moved or not in_place
        placement = None if fit.in_place else fit.placement
        self.plans.append(SheetPlan(spec_sheet, name, instance, placement))
        self.notes.extend(fit.notes)

    def place_instances(self, sheet_layout: SheetLayout) -> None:
        """Every sheet whose content fits a sheet written once per item is one instance."""
        spec_sheet = self.spec_sheet(sheet_layout)
        candidates = [n for n in self.grids if n in self.spare or n == sheet_layout.sheet.name]
        found = 0
        for name in candidates:
            fit = self.fit(sheet_layout, name)
            if isinstance(fit, Misfit):
                continue
            found += 1
            if name in self.spare:
                self.spare.remove(name)
            self.accept(spec_sheet, sheet_layout, fit, instance=found)
        if not found:
            self.plans.append(SheetPlan(spec_sheet, spec_sheet.name, 1))

    def note_copies(self) -> None:
        """Spare sheets matching a template sheet are copies: noted, not verified."""
        placed = {plan.sheet.name: plan.name for plan in self.plans}
        for candidate in self.spare:
            for sheet_layout in self.layout.sheets:
                if sheet_layout.instance is not None or sheet_layout.generated:
                    continue
                if isinstance(self.fit(sheet_layout, candidate), _SheetFit):
                    template_sheet = sheet_layout.sheet.name
                    self.notes.append(
                        PlacementNote(
                            "sheet-copied",
                            candidate,
                            sheet_layout.index,
                            params={
                                "sheet": candidate,
                                "template_sheet": placed.get(template_sheet, template_sheet),
                            },
                        )
                    )
                    break


def relocate(layout: Layout, grids: Mapping[str, Grid], formula_at: FormulaAt) -> Relocation:
    """Place ``layout`` in a workbook whose sheets hold ``grids`` (sheet name → values).

    A template sheet is looked up by its name first, then by its content among sheets whose names
    are not the template's (renamed). Further sheets matching a template sheet are copies: noted,
    not verified. Returns ``layout`` itself when every sheet is where the template put it.
    """
    placer = _Placer(layout, grids, formula_at)
    for sheet_layout in layout.sheets:
        if not sheet_layout.generated:  # the 自查 sheet is made again from the sheets placed
            placer.place(sheet_layout)
    placer.note_copies()
    placed = build_layout(layout.spec, placer.plans) if placer.moved else layout
    return Relocation(placed, tuple(placer.notes))
