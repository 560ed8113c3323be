"""The sheet kinds: one module each (form, table, scoring, …) behind this small registry.

A kind parses its part of a spec, places its fields and fixed text on the sheet (geometry,
headers, widths) and finds its block again in a workbook a unit edited. Adding a kind means
adding a module that calls ``register`` and naming it in ``KIND_MODULES``; nothing else changes.
"""

from __future__ import annotations

import importlib
from dataclasses import field
from typing import Protocol

from xlcheck.layout.fitting import BlockFit, Misfit, SheetView
from xlcheck.layout.model import BlockLayout, BlockPlacement, PlacedField
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, Derivation, Grading
from xlcheck.spec.nodes import SpecNode


@record
class Frame:
    """Where a block is placed: its sheet, its first row, and how its keys and labels begin."""

    sheet: str
    sheet_index: int
    first_row: int
    #: Put before every field key of the block (``project[2].`` on a repeated sheet).
    key_prefix: str = ""
    #: Keys defined elsewhere on a repeated sheet, renamed the same way when a derivation reads them.
    sheet_keys: frozenset[str] = frozenset()
    #: The spec's grading (maximum, bonus, grade bands), for kinds that total a score.
    grading: Grading = field(default_factory=Grading)
    #: The fields of the blocks above on the same sheet, for kinds that total them (总分).
    earlier: tuple[PlacedField, ...] = ()

    def key(self, key: str) -> str:
        return self.key_prefix + key

    def derivation(self, derive: Derivation | None) -> Derivation | None:
        """A derivation of this block reading the same sheet instance's fields."""
        if derive is None or not self.key_prefix:
            return derive
        return derive.with_keys(
            {k: self.key(k) for k in derive.field_keys() if k in self.sheet_keys}
        )


class BlockKind(Protocol):
    """What every sheet kind provides."""

    #: The name used in specs (``layout: form`` or ``kind: form``).
    name: str
    #: The keys a block of this kind may carry in the spec, besides ``kind`` and ``title``.
    spec_keys: frozenset[str]

    def parse(self, node: SpecNode) -> BlockSpec:
        """The block's spec from its YAML mapping (key paths in every message)."""

    def lay_out(
        self, block: BlockSpec, frame: Frame, placement: BlockPlacement | None
    ) -> BlockLayout:
        """Place the block's fields and fixed text from ``frame.first_row`` down; with a
        placement, where a workbook has them."""

    def fit(self, laid: BlockLayout, view: SheetView, start_row: int) -> BlockFit | Misfit:
        """Find the block in a workbook sheet, searching from ``start_row`` down."""


#: Every built-in kind and the module defining it, imported when a spec first names the kind (a
#: verification loads only the kinds its template uses: start-up time is a feature).
KIND_MODULES = {
    "form": "xlcheck.layout.form",
    "table": "xlcheck.layout.table",
    "scoring": "xlcheck.layout.scoring",
    "pairs": "xlcheck.layout.pairs",
    "signoff": "xlcheck.layout.pairs",
    "grid": "xlcheck.layout.grid",
    "text": "xlcheck.layout.text",
    "indicators": "xlcheck.layout.indicators",
    "totals": "xlcheck.layout.totals",
}

_KINDS: dict[str, BlockKind] = {}


def register(kind: BlockKind) -> BlockKind:
    """Add a kind to the registry (called once by its module)."""
    if kind.name in _KINDS:
        raise AssertionError(f"sheet kind {kind.name} registered twice")
    _KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> BlockKind | None:
    """The kind a spec names, its module imported on first use; None for an unknown name."""
    if name not in _KINDS and name in KIND_MODULES:
        importlib.import_module(KIND_MODULES[name])
    return _KINDS.get(name)


def kind_names() -> tuple[str, ...]:
    return tuple(KIND_MODULES)
