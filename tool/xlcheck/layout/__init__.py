"""Where every field of a spec lives: sheet, row and column, label path, resolved operands.

One module per sheet kind (``form``, ``table``, ``scoring``, ``pairs``/``signoff``, ``grid``,
``text``, ``indicators``, ``totals``) behind ``registry``, each imported when a spec first names
it. ``sheets`` stacks a sheet's blocks and builds the ``Layout``, ending with the 自查 sheet
``self_check`` generates from the sheets placed; ``row_heights`` says how tall printed rows must be.
"""

from xlcheck.layout.fitting import BlockFit, FormulaAt, Grid, Misfit, PlacementNote, SheetView
from xlcheck.layout.model import (
    BlockLayout,
    BlockPlacement,
    FixedCell,
    Layout,
    PlacedField,
    SheetLayout,
    SheetPlacement,
)
from xlcheck.layout.registry import Frame, kind_named, kind_names
from xlcheck.layout.sheets import SheetPlan, build_layout, lay_out, spec_blocks, template_plans

__all__ = [
    "BlockFit",
    "BlockLayout",
    "BlockPlacement",
    "FixedCell",
    "FormulaAt",
    "Frame",
    "Grid",
    "Layout",
    "Misfit",
    "PlacedField",
    "PlacementNote",
    "SheetLayout",
    "SheetPlacement",
    "SheetPlan",
    "SheetView",
    "build_layout",
    "kind_named",
    "kind_names",
    "lay_out",
    "spec_blocks",
    "template_plans",
]
