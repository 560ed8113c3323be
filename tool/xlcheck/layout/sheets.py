"""Sheets from blocks: every sheet's title, note and blocks stacked top to bottom, as the template
writes them (``lay_out``) or as a workbook holds them after a unit's edits (``build_layout``).

The template writer and the reader both place fields through here, so a generated workbook and
its verification can never disagree on geometry.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from xlcheck.layout.model import (
    BlockLayout,
    FixedCell,
    Layout,
    PlacedField,
    SheetLayout,
    SheetPlacement,
)
from xlcheck.layout.registry import Frame, kind_named
from xlcheck.layout.self_check import lay_out_self_check
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, SheetSpec, Spec

B = TypeVar("B", bound=BlockSpec)

TITLE_ROW = 1
NOTE_ROW = 2
#: The first block starts here: rows 1 and 2 hold the title and the note.
FIRST_BLOCK_ROW = 3
#: Width (Excel character units) of a column no block asks a width for.
DEFAULT_WIDTH = 10.0


@record
class SheetPlan:
    """One sheet of a layout: which spec sheet, under which name, which instance, placed where."""

    sheet: SheetSpec
    name: str
    #: For a sheet written once per item: 1, 2, …
    instance: int | None = None
    #: Where a workbook has its blocks; None: where the template puts them.
    placement: SheetPlacement | None = None

    @property
    def key_prefix(self) -> str:
        repeat = self.sheet.repeat
        return f"{repeat.key}[{self.instance}]." if repeat and self.instance else ""


def _lay_out_blocks(
    plan: SheetPlan, index: int, spec: Spec, sheet_keys: frozenset[str]
) -> list[BlockLayout]:
    blocks: list[BlockLayout] = []
    earlier: list[PlacedField] = []
    row = FIRST_BLOCK_ROW
    for position, block in enumerate(plan.sheet.blocks):
        kind = kind_named(block.kind)
        assert kind is not None, block.kind  # the loader accepts registered kinds only
        if block.title:
            row += 1  # the block's heading row
        frame = Frame(
            plan.name, index, row, plan.key_prefix, sheet_keys, spec.grading, tuple(earlier)
        )
        placement = plan.placement.blocks[position] if plan.placement else None
        # Frames are in the template's rows: a placement maps the template's rows to the
        # workbook's, so the next block starts below this one as the template has it.
        as_template = kind.lay_out(block, frame, None)
        laid = as_template if placement is None else kind.lay_out(block, frame, placement)
        laid = replace(laid, position=position)
        blocks.append(laid)
        earlier.extend(laid.fields)
        row = as_template.last_row + 1
    return blocks


def lay_out_sheet(plan: SheetPlan, index: int, spec: Spec) -> SheetLayout:
    """One sheet: its blocks, its title and note across them, its widths and print rows."""
    sheet_keys: frozenset[str] = frozenset()
    if plan.key_prefix:
        # Derivations on a repeated sheet read their own instance: learn the sheet's own keys.
        bare = _lay_out_blocks(
            replace(plan, instance=None, placement=None), index, spec, frozenset()
        )
        sheet_keys = frozenset(f.key for b in bare for f in b.fields)
    blocks = _lay_out_blocks(plan, index, spec, sheet_keys)
    last_column = max((b.last_column for b in blocks), default=1)
    widths: list[float] = []
    for block in blocks:
        for column, width in enumerate(block.widths):
            if column < len(widths):
                widths[column] = max(widths[column], width)
            else:
                widths.append(width)
    # A column no block claims a width for (one only merged cells cover) gets the default.
    widths = [w or DEFAULT_WIDTH for w in widths]
    widths += [DEFAULT_WIDTH] * (last_column - len(widths))
    title = plan.sheet.title or spec.title
    cells = [FixedCell(TITLE_ROW, 1, title, "title", columns=last_column)]
    if plan.sheet.note:
        cells.append(FixedCell(NOTE_ROW, 1, plan.sheet.note, "note", columns=last_column))
    for block in blocks:
        if block.spec.title:
            cells.append(
                FixedCell(block.first_row - 1, 1, block.spec.title, "heading", columns=last_column)
            )
        cells.extend(block.cells)
    first = blocks[0] if blocks else None
    header_end = first.header_rows[1] if first and first.header_rows else NOTE_ROW
    # Frozen under the headers when the sheet is one table (sign-off lines below it aside).
    with_headers = [b for b in blocks if b.header_rows is not None]
    frozen = (
        (header_end, first.frozen_columns)
        if first and (len(blocks) == 1 or with_headers == [first])
        else (0, 0)
    )
    return SheetLayout(
        replace(plan.sheet, name=plan.name),
        index,
        tuple(blocks),
        tuple(cells),
        tuple(widths),
        max((b.last_row for b in blocks), default=NOTE_ROW),
        last_column,
        print_title_rows=(TITLE_ROW, header_end),
        frozen=frozen,
        landscape=(
            plan.sheet.landscape
            if plan.sheet.landscape is not None
            else any(b.landscape for b in blocks)
        ),
        instance=plan.instance,
        key_prefix=plan.key_prefix,
    )


def build_layout(spec: Spec, plans: Sequence[SheetPlan]) -> Layout:
    """The layout of ``spec`` with its sheets as ``plans`` name and place them, and the 自查
    sheet generated after them from where their fields stand."""
    sheets = tuple(lay_out_sheet(plan, index, spec) for index, plan in enumerate(plans))
    self_check = lay_out_self_check(spec, sheets)
    sheets += (self_check,) if self_check is not None else ()
    fields: tuple[PlacedField, ...] = tuple(f for s in sheets for b in s.blocks for f in b.fields)
    return Layout(spec, fields, sheets)


def template_plans(
    spec: Spec, instances: Mapping[str, Sequence[str]] | None = None
) -> list[SheetPlan]:
    """Every sheet as the template writes it; a repeated sheet once per name in ``instances``
    (by repeat key), or once under its own name."""
    plans: list[SheetPlan] = []
    for sheet in spec.sheets:
        if sheet.repeat is None:
            plans.append(SheetPlan(sheet, sheet.name))
            continue
        names = (instances or {}).get(sheet.repeat.key) or (sheet.name,)
        plans.extend(SheetPlan(sheet, name, n) for n, name in enumerate(names, 1))
    return plans


@functools.lru_cache(maxsize=64)
def lay_out(spec: Spec, instances: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> Layout:
    """Place every field of ``spec`` as the template writes it.

    Args:
        instances: for sheets written once per item, (repeat key, the sheet names) pairs.
    """
    return build_layout(spec, template_plans(spec, dict(instances)))


def spec_blocks(spec: Spec, block_type: type[B]) -> list[B]:
    """Every block of one kind in the spec, in sheet order (the 评分表's scoring block …)."""
    return [b for sheet in spec.sheets for b in sheet.blocks if isinstance(b, block_type)]
