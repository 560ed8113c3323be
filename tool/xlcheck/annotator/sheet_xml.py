"""One worksheet part of the copy: marked cells' style references, frozen panes, selection.

Only start tags are rewritten (a cell's ``s``, a row's ``spans``, the sheet view) and a few
elements inserted (cells never written, in column order inside their row; rows in order; the
pane; the legacy drawing that shows comments); values, formulas and everything else stay as bytes.
"""

from __future__ import annotations

import re

from xlcheck.annotator.sheet_rows import Row, cell_position, index_rows
from xlcheck.annotator.xml_parts import (
    RELATIONSHIP_NAMESPACE,
    Element,
    XmlPartError,
    as_utf8,
    check_well_formed,
    opened,
    parse,
    parse_shared,
    prefix_of,
    shift,
    splice,
    start_tag,
    with_attributes,
)
from xlcheck.findings import column_letters

_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData(?=[\s/>])[^>]*>")
_SHEET_DATA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>")
_TRUE = ("1", "true")
#: Children of a worksheet that come after legacyDrawing, in schema order.
_AFTER_LEGACY_DRAWING = (
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)
#: Children of a worksheet that come before sheetViews.
_BEFORE_SHEET_VIEWS = ("sheetPr", "dimension")
#: Merged ranges larger than this are marked at their top-left cell only.
MAX_MARKED_RANGE = 1_000

Cell = tuple[int, int]


def parse_cell_ref(ref: str) -> Cell | None:
    """(row_number, column_number) of ``B7``, or None."""
    return cell_position(ref)


def _range(ref: str) -> tuple[Cell, Cell] | None:
    first, _, last = ref.partition(":")
    top_left, bottom_right = parse_cell_ref(first), parse_cell_ref(last or first)
    if top_left is None or bottom_right is None:
        return None
    return top_left, bottom_right


_PANE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?pane(?=[\s/>])[^>]*>")
_SHEET_VIEW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetView(?=[\s/>])")
_PANE_ATTRIBUTE = re.compile(rb"\s(xSplit|ySplit|state)\s*=\s*[\"']([^\"']*)[\"']")


def frozen_as(head: bytes, frozen: tuple[int, int]) -> bool:
    """Whether a sheet's part up to its cells (``head``) surely freezes ``frozen`` (rows,
    columns) already: one sheet view, one frozen pane split there. False when unsure (the part
    is then parsed, and ``SheetPart`` decides)."""
    if b"<!--" in head or b"<![CDATA[" in head or len(_SHEET_VIEW.findall(head)) != 1:
        return False
    panes = _PANE.findall(head)
    if len(panes) != 1:
        return False
    attributes = {k.decode(): v.decode() for k, v in _PANE_ATTRIBUTE.findall(panes[0])}
    try:
        split = (float(attributes.get("ySplit", "0")), float(attributes.get("xSplit", "0")))
    except ValueError:
        return False
    return attributes.get("state") in ("frozen", "frozenSplit") and split == frozen


class NotAWorksheet(Exception):
    """A sheet part that is a chart sheet or dialog sheet: it has no cells to mark."""


class SheetPart:
    """A worksheet part, parsed once, with the edits the marks ask for collected until ``to_bytes``.

    Args:
        cells: whether cells will be marked. Without, only the part before sheetData (the sheet
            view) is parsed: a sheet whose frozen panes or tab selection change is not read whole.
    """

    def __init__(self, data: bytes, *, cells: bool = True) -> None:
        self.data = as_utf8(data)
        opening = _SHEET_DATA.search(self.data)
        if opening is None or b"<!--" in self.data or b"<![CDATA[" in self.data:
            self._parse_whole()
        elif not cells:
            self._parse_head(opening.start())
        else:
            self._parse_with_rows(opening)
        if self.root.name != "worksheet":
            raise NotAWorksheet(self.root.name)
        self.prefix = prefix_of(self.data, self.root)
        self.merged: list[tuple[Cell, Cell]] = []
        merges = self.root.child("mergeCells")
        for element in merges.all("mergeCell") if merges else ():
            bounds = _range(element.attributes.get("ref", ""))
            if bounds is not None:
                self.merged.append(bounds)
        self._column_styles: list[tuple[int, int, int]] = []
        columns = self.root.child("cols")
        for element in columns.all("col") if columns else ():
            low, high, style = (element.attributes.get(k, "") for k in ("min", "max", "style"))
            if low.isdigit() and high.isdigit() and style.isdigit():
                self._column_styles.append((int(low), int(high), int(style)))
        self._styles: dict[Cell, int] = {}
        self._frozen: tuple[int, int] | None = None
        self._unselect = False
        self._legacy_drawing: str | None = None

    def _parse_whole(self) -> None:
        """Every element through the parser: for parts with comments or CDATA (rare)."""
        self.root = parse(self.data, depth=3)
        self.sheet_data = self.root.child("sheetData")
        self.rows: dict[int, Row] = {}
        number = 0
        for element in self.sheet_data.all("row") if self.sheet_data else ():
            declared = element.attributes.get("r", "")
            number = int(declared) if declared.isdigit() else number + 1
            cells: dict[int, Element] = {}
            column = 0
            for cell in element.all("c"):
                place = parse_cell_ref(cell.attributes.get("r", ""))
                column = place[1] if place else column + 1
                cells[column] = cell
            self.rows.setdefault(number, Row(self.data, element, number, cells))

    def _parse_head(self, sheet_data_start: int) -> None:
        """The part up to sheetData, closed where sheetData would begin."""
        head = self.data[:sheet_data_start]
        root = re.search(rb"<([^\s/>?!]+)", head)
        if root is None:
            raise XmlPartError("worksheet without a root element")
        self.root = parse_shared(head + b"</" + root.group(1) + b">", depth=3)
        self.sheet_data = None
        self.rows = {}

    def _parse_with_rows(self, opening: re.Match[bytes]) -> None:
        """Structure through the parser with sheetData's content cut out; rows and cells by
        ``sheet_rows`` (after the whole part is checked well-formed)."""
        check_well_formed(self.data)
        content_start = opening.end()
        if opening.group(0).endswith(b"/>"):
            content_end = content_start
        else:
            closing = _SHEET_DATA_END.search(self.data, content_start)
            if closing is None:
                raise XmlPartError("sheetData without its end tag")
            content_end = closing.start()
        self.root = parse(self.data[:content_start] + self.data[content_end:], depth=3)
        shift(self.root, content_start, content_end - content_start)
        self.sheet_data = self.root.child("sheetData")
        self.rows = index_rows(self.data, content_start, content_end)

    # Reading ---------------------------------------------------------------------------------

    @property
    def legacy_drawing_id(self) -> str | None:
        """The relationship id of the sheet's legacy (VML) drawing, where its comments are drawn."""
        element = self.root.child("legacyDrawing")
        if element is None:
            return None
        return element.attributes.get(f"{RELATIONSHIP_NAMESPACE} id")

    def merged_range(self, cell: Cell) -> tuple[Cell, Cell] | None:
        row, column = cell
        for (top, left), (bottom, right) in self.merged:
            if top <= row <= bottom and left <= column <= right:
                return (top, left), (bottom, right)
        return None

    def anchor(self, cell: Cell) -> Cell:
        """The cell that shows ``cell``: the top-left cell of its merged range, or itself."""
        merged = self.merged_range(cell)
        return merged[0] if merged else cell

    def cells_to_mark(self, anchor: Cell) -> list[Cell]:
        """Every cell of the anchor's merged range, so a heavy border is drawn round all of it."""
        merged = self.merged_range(anchor)
        if merged is None:
            return [anchor]
        (top, left), (bottom, right) = merged
        if (bottom - top + 1) * (right - left + 1) > MAX_MARKED_RANGE:
            return [anchor]
        return [(r, c) for r in range(top, bottom + 1) for c in range(left, right + 1)]

    def style_of(self, cell: Cell) -> int:
        """The cell format a cell shows: its own, else its row's, else its column's, else 0."""
        row_number, column = cell
        row = self.rows.get(row_number)
        element = row.cells.get(column) if row else None
        declared = element.attributes.get("s") if element is not None else None
        custom_row = (
            row is not None and row.element.attributes.get("customFormat", "0").lower() in _TRUE
        )
        if declared is None and row is not None and custom_row:
            declared = row.element.attributes.get("s")
        if declared is None:
            declared = next(
                (str(s) for low, high, s in self._column_styles if low <= column <= high), "0"
            )
        return int(declared) if declared.isdigit() else 0

    # Edits -----------------------------------------------------------------------------------

    def set_style(self, cell: Cell, xf: int) -> None:
        self._styles[cell] = xf

    def freeze(self, rows: int, columns: int) -> None:
        """Freeze ``rows`` rows and ``columns`` columns (unless the sheet already does exactly that)."""
        self._frozen = (rows, columns)

    def unselect(self) -> None:
        """Clear the sheet's tab selection, so only the results sheet is selected when the copy opens."""
        self._unselect = True

    def add_legacy_drawing(self, relationship_id: str) -> None:
        self._legacy_drawing = relationship_id

    def to_bytes(self) -> bytes:
        edits: list[tuple[int, int, bytes]] = []
        self._cell_edits(edits)
        self._view_edits(edits)
        if self._legacy_drawing is not None:
            drawing = (
                f'<{self.prefix}legacyDrawing xmlns:r="{RELATIONSHIP_NAMESPACE}" '
                f'r:id="{self._legacy_drawing}"/>'
            ).encode()
            existing = self.root.child("legacyDrawing")
            if existing is not None:  # one that pointed nowhere: a sheet has at most one
                edits.append((existing.start, existing.end, drawing))
            else:
                at = next(
                    (c.start for c in self.root.children if c.name in _AFTER_LEGACY_DRAWING),
                    self._root_close(),
                )
                edits.append((at, at, drawing))
        return splice(self.data, edits) if edits else self.data

    def _root_close(self) -> int:
        return self.data.rfind(b"</", self.root.start, self.root.end)

    def _new_cell(self, cell: Cell, xf: int) -> bytes:
        row, column = cell
        return f'<{self.prefix}c r="{column_letters(column)}{row}" s="{xf}"/>'.encode()

    def _cell_edits(self, edits: list[tuple[int, int, bytes]]) -> None:
        if not self._styles:
            return
        new_rows: dict[int, list[Cell]] = {}
        new_in_row: dict[int, list[Cell]] = {}
        for cell in sorted(self._styles):
            row = self.rows.get(cell[0])
            element = row.cells.get(cell[1]) if row else None
            if element is not None:
                tag = with_attributes(start_tag(self.data, element), {"s": str(self._styles[cell])})
                edits.append((element.start, element.tag_end, tag))
            elif row is not None:
                new_in_row.setdefault(cell[0], []).append(cell)
            else:
                new_rows.setdefault(cell[0], []).append(cell)
        for number, cells in new_in_row.items():
            row = self.rows[number]
            tag = with_attributes(start_tag(self.data, row.element), {"spans": None})
            if row.element.is_empty:
                content = b"".join(self._new_cell(c, self._styles[c]) for c in cells)
                closing = f"</{self.prefix}row>".encode()
                edits.append((row.element.start, row.element.end, opened(tag) + content + closing))
                continue
            edits.append((row.element.start, row.element.tag_end, tag))
            close = self.data.rfind(b"</", row.element.start, row.element.end)
            for cell in cells:  # in column order: inserted before the first cell to its right
                at = next((e.start for col, e in row.cells.items() if col > cell[1]), close)
                edits.append((at, at, self._new_cell(cell, self._styles[cell])))
        sheet_data = self.sheet_data
        if sheet_data is None:
            raise XmlPartError("worksheet without sheetData")
        created = b""
        for number in sorted(new_rows):
            content = b"".join(self._new_cell(c, self._styles[c]) for c in new_rows[number])
            new_row = f'<{self.prefix}row r="{number}">'.encode() + content
            new_row += f"</{self.prefix}row>".encode()
            following = next((r for n, r in sorted(self.rows.items()) if n > number), None)
            if following is not None:
                edits.append((following.element.start, following.element.start, new_row))
            else:
                created += new_row
        if created:
            if sheet_data.is_empty:
                tag = opened(start_tag(self.data, sheet_data))
                closing = f"</{self.prefix}sheetData>".encode()
                edits.append((sheet_data.start, sheet_data.end, tag + created + closing))
            else:
                close = self.data.rfind(b"</", sheet_data.start, sheet_data.end)
                edits.append((close, close, created))
        self._widen_dimension(edits)

    def _widen_dimension(self, edits: list[tuple[int, int, bytes]]) -> None:
        element = self.root.child("dimension")
        bounds = _range(element.attributes.get("ref", "")) if element else None
        if element is None or bounds is None:
            return
        (top, left), (bottom, right) = bounds
        for row, column in self._styles:
            top, bottom = min(top, row), max(bottom, row)
            left, right = min(left, column), max(right, column)
        ref = f"{column_letters(left)}{top}:{column_letters(right)}{bottom}"
        if ref != element.attributes.get("ref"):
            tag = with_attributes(start_tag(self.data, element), {"ref": ref})
            edits.append((element.start, element.tag_end, tag))

    def _pane(self) -> bytes:
        assert self._frozen is not None
        rows, columns = self._frozen
        top_left = f"{column_letters(columns + 1)}{rows + 1}"
        active = {
            (True, True): "bottomRight",
            (True, False): "bottomLeft",
            (False, True): "topRight",
        }[(rows > 0, columns > 0)]
        splits = (f' xSplit="{columns}"' if columns else "") + (f' ySplit="{rows}"' if rows else "")
        p = self.prefix
        return (
            f'<{p}pane{splits} topLeftCell="{top_left}" activePane="{active}" state="frozen"/>'
            f'<{p}selection pane="{active}" activeCell="{top_left}" sqref="{top_left}"/>'
        ).encode()

    def _already_frozen(self, view: Element) -> bool:
        pane = view.child("pane")
        if pane is None or self._frozen is None:
            return self._frozen is None or self._frozen == (0, 0)
        attributes = pane.attributes
        try:
            split = (float(attributes.get("ySplit", "0")), float(attributes.get("xSplit", "0")))
        except ValueError:
            return False
        return attributes.get("state") in ("frozen", "frozenSplit") and split == self._frozen

    def _view_edits(self, edits: list[tuple[int, int, bytes]]) -> None:
        views = self.root.child("sheetViews")
        view = views.child("sheetView") if views else None
        freeze = self._frozen is not None and (view is None or not self._already_frozen(view))
        if view is None:
            if freeze:
                p = self.prefix
                element = (
                    f'<{p}sheetViews><{p}sheetView workbookViewId="0">'.encode()
                    + self._pane()
                    + f"</{p}sheetView></{p}sheetViews>".encode()
                )
                at = max(
                    (c.end for c in self.root.children if c.name in _BEFORE_SHEET_VIEWS),
                    default=self.root.tag_end,
                )
                edits.append((at, at, element))
            return
        tag = start_tag(self.data, view)
        if self._unselect and view.attributes.get("tabSelected", "0").lower() in _TRUE:
            tag = with_attributes(tag, {"tabSelected": None})
        if not freeze:
            if tag != start_tag(self.data, view):
                edits.append((view.start, view.tag_end, tag))
            return
        if view.is_empty:
            closing = f"</{self.prefix}sheetView>".encode()
            edits.append((view.start, view.end, opened(tag) + self._pane() + closing))
            return
        edits.append((view.start, view.tag_end, tag))
        # The pane and its selections are replaced; pivot selections and extensions stay.
        old = [c for c in view.children if c.name in ("pane", "selection")]
        if old:
            edits.append((old[0].start, old[-1].end, self._pane()))
        else:
            edits.append((view.tag_end, view.tag_end, self._pane()))
