"""What a laid-out template is made of: placed fields, fixed text cells, blocks, sheets, the layout.

These are plain data shared by every sheet kind, the template writer (which draws them), the
reader (which reads the fields' cells) and relocation (which places them in an edited workbook).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from xlcheck.errors import SpecError
from xlcheck.findings import CellRef, column_letters
from xlcheck.records import record
from xlcheck.spec.model import BlockSpec, FieldSpec, SheetSpec, Spec

#: How the template writer draws a fixed cell (one format each; see template_writer).
CELL_STYLES = (
    "title",  # the sheet's title, bold and large, across the sheet
    "note",  # one line under the title
    "heading",  # a block's own heading row (项目资金（万元）)
    "header",  # column headers
    "label",  # a row's or pair's label text
    "section",  # a heading row inside a block (基本情况), shaded across the block
    "total",  # 合计 / 小计 / 总分 labels, bold
    "text",  # explanatory text: units, help, scoring criteria
    "not_applicable",  # a cell of a grid that does not apply, greyed
    "signoff",  # sign-off labels (单位负责人：…), no border
)


@record
class FixedCell:
    """Text the template itself writes into a cell (not a field): a label, a header, a title."""

    row_number: int
    column_number: int
    text: str
    style: str
    #: Columns the cell covers (merged when more than one).
    columns: int = 1
    #: Rows the cell covers (merged when more than one), e.g. a 一级指标 beside its rows.
    rows: int = 1


@record
class PlacedField:
    """A field with its cell. ``spec.derive`` operands are full field keys here."""

    key: str
    spec: FieldSpec
    sheet: str
    sheet_index: int
    row_number: int
    column_number: int
    label_path: str
    #: For table cells: the table key and 1-based row within the table (0 for the totals row).
    table: str | None = None
    table_row: int | None = None
    #: The row group this field belongs to (an indicator's key): fields of one scored row share it.
    group: str | None = None
    #: What the field is to the rules of its kind: ``score``, ``weight``, ``reason``,
    #: ``subtotal``, ``total_score``, ``grade``, ``target``, ``actual``, ``direction`` …
    role: str | None = None
    #: For scored fields: the weight (分值) they are scored out of; for a total, its maximum.
    weight: float | None = None
    #: Columns the cell covers (merged when more than one).
    columns: int = 1
    #: Drawn bold: totals, subtotals, the total score.
    emphasis: bool = False

    @property
    def cell_ref(self) -> str:
        return f"{column_letters(self.column_number)}{self.row_number}"

    @property
    def location(self) -> CellRef:
        return CellRef(self.sheet_index, self.row_number, self.column_number, self.sheet)

    @property
    def short_label(self) -> str:
        """The label a message uses: the field's own, or with its indicator for scored cells."""
        parts = self.label_path.split("/")
        if (
            self.group is not None
            or parts[-1] in ("小计", "合计")
            or parts[-2:-1] in (["小计"], ["合计"])
        ):
            return "".join(parts[-2:]) if len(parts) > 2 else parts[-1]
        if self.table_row:
            return f"第{self.table_row}行{parts[-1]}"
        return parts[-1]

    @property
    def indicator_name(self) -> str:
        """For scored cells: the third-level indicator's name (e.g. 预算执行率)."""
        return self.label_path.split("/")[-2]

    @property
    def is_input(self) -> bool:
        return self.spec.derive is None


@record
class BlockLayout:
    """One block placed on its sheet: its fields, its fixed text, the widths it asks for.

    Kinds may subclass it to keep what their relocation needs (a table's 合计 row, say).
    """

    kind: str
    spec: BlockSpec
    #: Position of the block among its sheet's blocks.
    position: int
    first_row: int
    last_row: int
    fields: tuple[PlacedField, ...]
    cells: tuple[FixedCell, ...]
    #: Column widths (Excel character units) this block wants for columns 1, 2, …
    widths: tuple[float, ...]
    #: The block's column-header rows (first, last), repeated on printed pages for the first block.
    header_rows: tuple[int, int] | None = None
    #: Columns to keep in view when scrolling right (the row labels).
    frozen_columns: int = 0
    #: Rows a unit inserted among the block's rows (only in a layout placed in a workbook).
    inserted_rows: frozenset[int] = frozenset()
    #: Wide enough to print on A4 landscape rather than portrait.
    landscape: bool = False
    #: Rows drawn taller than one line (row number, height in points): free-text areas.
    row_heights: tuple[tuple[int, float], ...] = ()

    @functools.cached_property
    def cells_by_style(self) -> dict[str, tuple[FixedCell, ...]]:
        """The fixed cells of each style, in order. Relocation looks for a template block's
        headers, labels and sections in every workbook of a batch; the block is made once."""
        found: dict[str, list[FixedCell]] = {}
        for cell in self.cells:
            found.setdefault(cell.style, []).append(cell)
        return {style: tuple(cells) for style, cells in found.items()}

    @property
    def last_column(self) -> int:
        ends = [c.column_number + c.columns - 1 for c in self.cells]
        ends += [f.column_number + f.columns - 1 for f in self.fields]
        return max([len(self.widths), *ends], default=1)


@record
class SheetLayout:
    """A sheet of the template: title, note and blocks, and how it prints."""

    sheet: SheetSpec
    index: int
    blocks: tuple[BlockLayout, ...]
    #: Every fixed cell: the title, the note and each block's cells.
    cells: tuple[FixedCell, ...]
    widths: tuple[float, ...]
    last_row: int
    last_column: int
    #: Rows repeated at the top of every printed page (first, last).
    print_title_rows: tuple[int, int]
    #: (rows, columns) kept in view when scrolling.
    frozen: tuple[int, int]
    landscape: bool = False
    #: For a sheet written once per item: the instance number (1, 2, …) and its key prefix.
    instance: int | None = None
    key_prefix: str = ""
    #: Made by xlcheck, not declared by the spec (the 自查 sheet): never relocated, regenerated.
    generated: bool = False

    @property
    def name(self) -> str:
        return self.sheet.name

    @property
    def inserted_rows(self) -> frozenset[int]:
        return frozenset().union(*(b.inserted_rows for b in self.blocks))


# Identity equality: a layout is built once per spec (``lay_out`` caches it), and hashing by
# identity keeps the caches keyed on it cheap.
@record(eq=False)
class Layout:
    spec: Spec
    fields: tuple[PlacedField, ...]
    sheets: tuple[SheetLayout, ...]

    @functools.cached_property
    def by_key(self) -> dict[str, PlacedField]:
        return {f.key: f for f in self.fields}

    @functools.cached_property
    def by_sheet(self) -> dict[str, SheetLayout]:
        return {s.sheet.name: s for s in self.sheets}

    # The fields split by what they are, in layout order, worked out once per layout: reading
    # the cells and most rule families want only one side, for every workbook of a batch
    # (asking each field ``is_input`` was about 1,200 calls a workbook).
    @functools.cached_property
    def input_fields(self) -> tuple[PlacedField, ...]:
        return tuple(f for f in self.fields if f.is_input)

    @functools.cached_property
    def derived_fields(self) -> tuple[PlacedField, ...]:
        return tuple(f for f in self.fields if not f.is_input)

    @functools.cached_property
    def input_keys(self) -> frozenset[str]:
        return frozenset(f.key for f in self.input_fields)

    def instances_of(self, key: str) -> list[str]:
        """The keys ``key`` names in this layout: itself, or on a sheet written once per item,
        that field of every instance (``project[1].name``, ``project[2].name`` …)."""
        if key in self.by_key:
            return [key]
        prefixed = (s.key_prefix + key for s in self.sheets if s.key_prefix)
        return [k for k in prefixed if k in self.by_key]

    def role(self, role: str) -> str | None:
        """The key of the field playing ``role`` in this layout (on a sheet written once per
        item: the first instance's field)."""
        key = self.spec.role(role)
        found = self.instances_of(key) if key is not None else []
        return found[0] if found else None

    def dependencies_first(self) -> tuple[PlacedField, ...]:
        """Derived fields ordered so that every operand comes before its user (worked out once
        per layout: recomputing and two rules walk it for every workbook)."""
        return self._dependency_order

    @functools.cached_property
    def _dependency_order(self) -> tuple[PlacedField, ...]:
        ordered: list[PlacedField] = []
        state: dict[str, int] = {}

        def visit(placed: PlacedField, trail: tuple[str, ...]) -> None:
            if state.get(placed.key) == 2:
                return
            if state.get(placed.key) == 1:
                raise SpecError(
                    self.spec.source or "",
                    placed.key,
                    f"计算关系成环：{' → '.join((*trail, placed.key))}",
                )
            state[placed.key] = 1
            derive = placed.spec.derive
            for operand in derive.field_keys() if derive else ():
                operand_field = self.by_key[operand]
                if not operand_field.is_input:
                    visit(operand_field, (*trail, placed.key))
            state[placed.key] = 2
            ordered.append(placed)

        for placed in self.derived_fields:
            visit(placed, ())
        return tuple(ordered)


@record
class BlockPlacement:
    """Where one block stands in a workbook a unit edited, as its kind's ``fit`` found it.

    ``rows`` maps template row numbers to workbook rows for the rows found (a row missing was
    deleted, e.g. a section heading); kinds that move as a whole (tables) use ``first_row`` and
    ``extent`` (the rows found between header and 合计) instead.
    """

    rows: Mapping[int, int] | None = None
    inserted_rows: frozenset[int] = frozenset()
    first_row: int | None = None
    extent: int | None = None
    #: Tables: the rows (first, last) the 合计 row adds up when that is not all of them.
    summed: tuple[int, int] | None = None
    #: Kinds whose groups grow (indicator rows): group key → rows found.
    group_rows: Mapping[str, tuple[int, ...]] | None = None


@record
class SheetPlacement:
    """Where one template sheet (or one instance of a repeated sheet) stands in a workbook."""

    #: The sheet's name in the workbook.
    name: str
    #: One placement per block, in block order (None: the block is where the template put it).
    blocks: tuple[BlockPlacement | None, ...]
