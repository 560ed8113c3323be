"""One worksheet part read once: its formulas (shared ones expanded), error cells, how far its
content reaches, and the cells of a window.

A part of at most ``WHOLE_PART_BYTES`` in plain XML (what every app writes) is parsed whole by
the C tree builder and its rows walked: no app writes a DTD, and one in the part sends it down
the other path, which refuses it. Any other part is streamed through expat with every DTD and
entity declaration refused (as defusedxml does), fed in chunks, so a large sheet costs memory
for what is kept, not for its size. Both paths give the same scan. A batch worker parses and
walks a row it has read before, byte for byte, only once (``_KNOWN_ROWS``): the workbooks filled
from one template share most of their rows. Only cells that hold something count towards the
extent: LibreOffice writes a styled, empty ``<row r="1048576">`` and
``<dimension ref="A1:G1048576">`` after a row is deleted, and neither says where data is.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple
from xml.etree import ElementTree
from xml.parsers import expat

from xlcheck.package_parts import plain_xml, utf8_xml
from xlcheck.part_memo import PartMemo
from xlcheck.records import record
from xlcheck.shared_formulas import MAX_COLUMN, MAX_ROW, column_number, shift_formula

_CHUNK = 1 << 16
_XML_SPACE = "http://www.w3.org/XML/1998/namespace}space"
_XML_SPACE_ATTRIBUTE = "{http://www.w3.org/XML/1998/namespace}space"
_NO_ATTRIBUTES: Mapping[str, str] = {}
#: Parts up to this size are parsed whole (a template sheet, filled, is a few dozen KB): the tree
#: of a part this size packed with cells takes about 8 MB while it is walked (17 MB measured for
#: 1 MiB).
WHOLE_PART_BYTES = 1 << 19
_TAG_WITH_REFERENCE = re.compile(rb"<(?:\w+:)?(c|row)\b([^>]*)>")
_REFERENCE = re.compile(rb"\br=\"([A-Za-z]*)([0-9]*)\"")


class UnsafeXmlError(ValueError):
    """The part declares a DTD or an entity: no spreadsheet app writes one."""


class SheetXmlError(ValueError):
    """The part is not a worksheet xlcheck can read (malformed XML, impossible cell positions)."""


class _Stop(Exception):
    """Content past the window was found and the caller asked to stop there."""


@record
class TextRun:
    """One ``<t>`` of an inline string: its text, whether it keeps its spaces
    (``xml:space="preserve"``; calamine trims the others) and whether it sat in a rich-text run."""

    text: str
    preserve: bool
    rich: bool


@record
class RawCell:
    """A cell as its XML gives it: ``t`` and ``s`` attributes, ``<v>`` text, inline string runs
    (phonetic runs left out)."""

    row_number: int
    column_number: int
    cell_type: str | None
    style: str | None
    value: str | None
    inline: tuple[TextRun, ...] | None

    @property
    def inline_text(self) -> str | None:
        """The inline string's text, runs joined as written."""
        return None if self.inline is None else "".join(run.text for run in self.inline)


#: A cell holding a value, as calamine reads it: (row_number, column_number, ``t``, ``s``, the
#: ``<v>`` text or None, the inline string's runs or None). Exactly one of the last two is set:
#: the one of the cell's last child, as calamine keeps only that one (a ``<v>`` after an ``<f>``
#: is the cached result; an ``<f>`` after a ``<v>`` leaves the cell empty, and it is not kept).
ValueCell = tuple[int, int, str | None, str | None, str | None, tuple[TextRun, ...] | None]


@dataclass
class SheetScan:
    """What one pass over a worksheet part found.

    Attributes:
        formulas: (row_number, column_number) → formula text as Excel shows it (``=A1*2``),
            shared formulas expanded to each cell's own text.
        errors: (row_number, column_number) → an error value typed into a cell (``t="e"``, no
            formula), such as ``#DIV/0!``.
        styles: (row_number, column_number) → the style index (``s``) of a cell holding
            something, when it is not the default style.
        max_row, max_column: how far cells holding something reach (0 for an empty sheet).
        cells: the cells holding something inside the window, in sheet order.
        complete: False when the scan stopped at content past the window.
        beyond_window: content lies outside the window (or past where the scan stopped).
        values: when asked for, every cell holding a value, as calamine would read it
            (``ValueCell``); None when not asked for, or when the part holds something calamine
            may read otherwise than this scan (``values_problem`` says what).
    """

    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    styles: dict[tuple[int, int], int] = field(default_factory=dict)
    max_row: int = 0
    max_column: int = 0
    cells: list[RawCell] = field(default_factory=list)
    complete: bool = True
    beyond_window: bool = False
    values: list[ValueCell] | None = None
    values_problem: str | None = None


def _refuse_declaration(*args: Any) -> None:
    raise UnsafeXmlError("the XML declares a DTD or an entity")


def _refuse_external_entity(*args: Any) -> int:
    raise UnsafeXmlError("the XML refers to an external entity")


def hardened_parser(namespaces: bool = True) -> Any:
    """An expat parser that refuses DTDs and entity declarations and never loads external ones."""
    parser = expat.ParserCreate(namespace_separator="}" if namespaces else None)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_declaration
    parser.EntityDeclHandler = _refuse_declaration
    parser.UnparsedEntityDeclHandler = _refuse_declaration
    parser.ExternalEntityRefHandler = _refuse_external_entity
    parser.buffer_text = True
    return parser


class _Cells:
    """Collects a ``SheetScan`` from cells as either reading path finds them: the extent, styles,
    formulas (shared ones expanded), error values and the window's cells."""

    def __init__(
        self, window: tuple[int, int] | None, stop_past_window: bool, keep_values: bool = False
    ) -> None:
        self.scan = SheetScan()
        self.window = window
        self.stop_past_window = stop_past_window
        self.shared: dict[str, tuple[str, int, int]] = {}
        #: The cells' values as calamine reads them, when asked for (``SheetScan.values``).
        self.values: list[ValueCell] | None = [] if keep_values else None
        #: What the part holds that calamine may read otherwise than this scan, if anything.
        self.values_problem: str | None = None

    def cell(
        self,
        row: int,
        column: int,
        cell_type: str | None,
        style: str | None,
        value: str | None,
        formula: str | None,
        formula_attributes: Mapping[str, str],
        inline: list[TextRun] | None,
        last: str | None = None,
    ) -> None:
        """One cell; ``last`` is the local name of its last child (``v``, ``f`` or ``is``), which
        alone gives calamine the cell's value."""
        if value is None and formula is None and inline is None:
            return  # a styled empty cell says nothing about where data is
        window = self.window
        inside = window is None or (row <= window[0] and column <= window[1])
        scan = self.scan
        if not inside:
            scan.beyond_window = True
            if self.stop_past_window and window is not None and row > window[0]:
                scan.complete = False
                raise _Stop
        if row > scan.max_row:
            scan.max_row = row
        if column > scan.max_column:
            scan.max_column = column
        if style and style != "0" and style.isdigit():
            scan.styles[(row, column)] = int(style)
        if formula is not None:
            scan.formulas[(row, column)] = self._formula_text(
                formula, formula_attributes, row, column
            )
        elif cell_type == "e" and value:
            scan.errors[(row, column)] = value
        if window is not None and inside:
            runs = tuple(inline) if inline is not None else None
            scan.cells.append(RawCell(row, column, cell_type, style, value, runs))
        values = self.values
        if values is not None:
            if last == "v":
                values.append((row, column, cell_type, style, value, None))
            elif last == "is" and inline is not None:
                values.append((row, column, cell_type, style, None, tuple(inline)))

    def add_gathered(self, gathered: _Gathered) -> None:
        """A row's cells at once, for a scan without a window: what ``cell`` would do with each."""
        scan = self.scan
        if gathered.max_row > scan.max_row:
            scan.max_row = gathered.max_row
        if gathered.max_column > scan.max_column:
            scan.max_column = gathered.max_column
        if gathered.styles:
            scan.styles.update(gathered.styles)
        if gathered.errors:
            scan.errors.update(gathered.errors)
        for row, column, formula, attributes in gathered.formulas:
            scan.formulas[(row, column)] = self._formula_text(formula, attributes, row, column)
        if self.values is not None:
            self.values.extend(gathered.values)

    def _formula_text(self, text: str, attributes: Mapping[str, str], row: int, column: int) -> str:
        """The cell's formula as openpyxl and Excel show it: ``=`` and the text; a shared formula's
        follower gets its master's text moved to it; a data table ``=TABLE(r1,r2)``."""
        kind = attributes.get("t")
        if kind == "shared":
            group = attributes.get("si", "")
            if group in self.shared:
                master, master_row, master_column = self.shared[group]
                return "=" + shift_formula(master, row - master_row, column - master_column)
            if text:
                self.shared[group] = (text, row, column)
        elif kind == "dataTable" and not text:
            inputs = ",".join(a for a in (attributes.get("r1"), attributes.get("r2")) if a)
            return f"=TABLE({inputs})"
        return "=" + text


#: Cell references read → (row, column): a template's thousand-odd references recur in every
#: workbook filled from it, so a batch worker reads each once. Bounded (about 3 MB at most):
#: filled up to the limit, then references past it are read each time.
_POSITIONS: dict[str, tuple[int, int]] = {}
_POSITIONS_LIMIT = 1 << 14
#: Row numbers read, written as calamine reads them too (ASCII digits), likewise.
_ROW_NUMBERS: dict[str, int] = {}


def _cell_position(reference: str | None, row_number: int, column_number_: int) -> tuple[int, int]:
    """A cell's (row, column): from its ``r`` attribute, else the next column of the row."""
    if reference is None:
        return _in_grid(row_number, column_number_ + 1)
    position = _POSITIONS.get(reference)
    if position is None:
        position = _reference_position(reference)
        if len(_POSITIONS) < _POSITIONS_LIMIT:
            _POSITIONS[reference] = position
    return position


def _reference_position(reference: str) -> tuple[int, int]:
    split = len(reference.rstrip("0123456789"))
    letters, digits = reference[:split], reference[split:]
    if not (0 < len(letters) <= 3 and letters.isascii() and letters.isalpha()) or not (
        0 < len(digits) <= 7
    ):
        raise SheetXmlError(f"impossible cell reference {reference[:20]!r}")
    return _in_grid(int(digits), column_number(letters))


def _in_grid(row: int, column: int) -> tuple[int, int]:
    if not (1 <= column <= MAX_COLUMN and 1 <= row <= MAX_ROW):
        raise SheetXmlError("a cell lies outside the sheet's grid")
    return row, column


class _SheetHandler:
    """expat callbacks feeding ``_Cells``; element names arrive as ``namespace}local``. The path
    for parts too large to hold as a tree, and for the odd ones (UTF-16, a DTD to refuse)."""

    def __init__(self, cells: _Cells) -> None:
        self.cells = cells
        self.row_number = 0
        self.column_number = 0
        self.in_cell = False
        self.text: list[str] | None = None
        self.phonetic = 0
        self._reset_cell({})

    def _reset_cell(self, attributes: dict[str, str]) -> None:
        self.cell_type = attributes.get("t")
        self.style = attributes.get("s")
        self.value: str | None = None
        self.formula: str | None = None
        self.formula_attributes: dict[str, str] = {}
        self.inline: list[TextRun] | None = None
        self.preserve = False
        self.rich = False

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rsplit("}", 1)[-1]
        if local == "row":
            self.row_number = _position(attributes.get("r"), self.row_number + 1, MAX_ROW)
            self.column_number = 0
        elif local == "c":
            self.in_cell = True
            self._reset_cell(attributes)
            self.row_number, self.column_number = _cell_position(
                attributes.get("r"), self.row_number, self.column_number
            )
        elif not self.in_cell:
            return
        elif local in ("v", "f"):
            self.text = []
            if local == "f":
                self.formula_attributes = attributes
        elif local == "is":
            self.inline = []
        elif local == "rPh":
            self.phonetic += 1
        elif local == "r" and self.inline is not None:
            self.rich = True
        elif local == "t" and self.inline is not None and not self.phonetic:
            self.text = []
            self.preserve = attributes.get(_XML_SPACE) == "preserve"

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def end(self, name: str) -> None:
        local = name.rsplit("}", 1)[-1]
        if not self.in_cell:
            return
        if local == "c":
            self.in_cell = False
            self.cells.cell(
                self.row_number,
                self.column_number,
                self.cell_type,
                self.style,
                self.value,
                self.formula,
                self.formula_attributes,
                self.inline,
            )
        elif local == "v" and self.text is not None:
            self.value = "".join(self.text)
            self.text = None
        elif local == "f" and self.text is not None:
            self.formula = "".join(self.text)
            self.text = None
        elif local == "t" and self.text is not None and self.inline is not None:
            self.inline.append(TextRun("".join(self.text), self.preserve, self.rich))
            self.text = None
        elif local == "r":
            self.rich = False
        elif local == "rPh":
            self.phonetic -= 1


def _position(text: str | None, default: int, highest: int) -> int:
    if text is None:
        return default
    try:
        number = int(text)
    except ValueError:
        raise SheetXmlError(f"impossible row number {text[:20]!r}") from None
    if not 1 <= number <= highest:
        raise SheetXmlError(f"row number {number} outside the sheet")
    return number


def _scan_stream(chunks: Iterable[bytes], cells: _Cells) -> None:
    handler = _SheetHandler(cells)
    parser = hardened_parser()
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.characters
    feed: Callable[[bytes, bool], int] = parser.Parse
    try:
        for chunk in chunks:
            feed(chunk, False)
        feed(b"", True)
    except expat.ExpatError as exc:
        raise SheetXmlError(f"malformed XML: {exc}") from exc


def _inline_runs(element: ElementTree.Element, rich: bool = False) -> list[TextRun]:
    """The ``<t>`` runs of an inline string (``<is>``) or of one of its rich runs (``<r>``),
    phonetic runs (``<rPh>``) left out."""
    runs: list[TextRun] = []
    for child in element:
        local = _local_name(child.tag)
        if local == "t":
            preserve = child.get(_XML_SPACE_ATTRIBUTE) == "preserve"
            runs.append(TextRun(_text(child), preserve, rich))
        elif local == "r" and not rich:
            runs.extend(_inline_runs(child, rich=True))
    return runs


def _text(element: ElementTree.Element) -> str:
    return "".join(element.itertext()) if len(element) else element.text or ""


@functools.lru_cache(maxsize=256)
def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


#: The root element's start tag: its qualified name, then its attributes.
_ROOT_START_TAG = re.compile(rb"<([^\s/>?!]+)(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
#: ``<sheetData>``'s start tag, not an empty element's.
_SHEET_DATA_START_TAG = re.compile(rb"<sheetData(?:[^>\"'/]|\"[^\"]*\"|'[^']*')*>")
_SHEET_DATA_END = b"</sheetData>"
_ROW_START = b"<row"
#: Tails of parts (the root's start tag and what follows ``</sheetData>``) found well-formed.
#: A template's tail (validations, conditional formats, merged cells, page set-up: a third of
#: a sheet's bytes) is the same in every workbook filled from it, so a batch worker parses it
#: once.
_WELL_FORMED_TAILS: PartMemo[bytes, bool] = PartMemo(limit=64, largest=1 << 16)

#: The arguments of one ``_Cells.cell`` call: row, column, ``t``, ``s``, the ``<v>`` text, the
#: ``<f>`` text and attributes, the inline string's runs, the local name of the last child.
_CellArguments = tuple[
    int,
    int,
    str | None,
    str | None,
    str | None,
    str | None,
    Mapping[str, str],
    list[TextRun] | None,
    str,
]


class _RowReading(NamedTuple):
    """What the walk reads from one child of ``<sheetData>``."""

    #: The walk's row number after it (a cell's reference may move it).
    row_number: int
    #: The cells holding something, in order.
    cells: list[_CellArguments]
    #: The first thing in it calamine would read otherwise than the walk
    #: (``SheetScan.values_problem``).
    odd: str | None
    #: A cell or row position off the grid, raised once the cells before it are added.
    error: SheetXmlError | None
    #: Whether the reading depends on nothing before it: the row numbers itself, each cell
    #: names itself, nothing is odd or wrong.
    context_free: bool
    #: What the cells give a scan without a window, gathered once (``_Cells.add_gathered``); None
    #: when the row must go cell by cell (a position off the grid, a style ``int`` may refuse).
    gathered: _Gathered | None


class _Gathered(NamedTuple):
    """What a row's cells give a scan without a window (``_Cells.cell``), but its formulas'
    text, which hangs on the shared formulas before them."""

    max_row: int
    max_column: int
    styles: dict[tuple[int, int], int]
    errors: dict[tuple[int, int], str]
    #: The cells holding a formula: row, column, the ``<f>`` text and attributes.
    formulas: list[tuple[int, int, str, Mapping[str, str]]]
    values: list[ValueCell]


def _gather(cells: list[_CellArguments]) -> _Gathered | None:
    """What ``cells`` give a scan without a window, as ``_Cells.cell`` one by one would."""
    max_row = max_column = 0
    styles: dict[tuple[int, int], int] = {}
    errors: dict[tuple[int, int], str] = {}
    formulas: list[tuple[int, int, str, Mapping[str, str]]] = []
    values: list[ValueCell] = []
    for row, column, cell_type, style, value, formula, attributes, inline, last in cells:
        if row > max_row:
            max_row = row
        if column > max_column:
            max_column = column
        if style and style != "0" and style.isdigit():
            if not style.isascii():
                return None  # int() refuses some digits ("²"): cell by cell, as it would
            styles[(row, column)] = int(style)
        if formula is not None:
            formulas.append((row, column, formula, attributes))
        elif cell_type == "e" and value:
            errors[(row, column)] = value
        if last == "v":
            values.append((row, column, cell_type, style, value, None))
        elif last == "is" and inline is not None:
            values.append((row, column, cell_type, style, None, tuple(inline)))
    return _Gathered(max_row, max_column, styles, errors, formulas, values)


#: Rows read before, by the root's and ``<sheetData>``'s start tags (the namespaces the row's
#: XML is read with) and the row's bytes after ``<row``: the rows of a template's sheets (its
#: labels, its formulas, inputs left as the template has them) are the same bytes in every
#: workbook filled from it (94 % of the rows of the rate set), so a batch worker parses and
#: walks each once. Bounded: 2048 rows of at most 1 KiB (the rate set's longest has 906 bytes),
#: about 4.5 MB once full of the rate set's rows, 22 MB of rows packed with cells (measured).
_KNOWN_ROWS: PartMemo[tuple[bytes, bytes], _RowReading] = PartMemo(limit=2048, largest=1024)


@dataclass
class _SplitRows:
    """The rows of a part's ``<sheetData>``, cut at each ``<row``, as a walk takes them: each
    one read before (its ``_RowReading``), or one of the fresh rows the parsed tree holds."""

    #: The root's and ``<sheetData>``'s start tags (``_KNOWN_ROWS``).
    context: bytes
    #: Each row's bytes after ``<row``, in order.
    pieces: list[bytes]
    #: Each row's reading if known, else None: the next of ``sheet_data``'s children.
    readings: list[_RowReading | None]
    #: The parsed ``<sheetData>``, holding only the rows not known.
    sheet_data: ElementTree.Element | None = None


def _tree(data: bytes) -> tuple[ElementTree.Element, _SplitRows | None]:
    """The part's root as the C tree builder reads it, without the root's children after
    ``</sheetData>``, which the scan does not look at: the part up to there is parsed, closed
    where ``</sheetData>`` ends, and the rest is checked well-formed (with the root's start tag,
    for its namespaces) by expat without a tree, or found among tails checked before. A part
    with a comment, CDATA or processing instruction, a prefixed or second ``<sheetData>``, or an
    encoding other than UTF-8 is parsed whole.

    Rows read before (``_KNOWN_ROWS``) are left out of what is parsed; the split rows say where
    they go.

    Raises:
        SheetXmlError: the part is not well-formed.
    """
    end = data.find(_SHEET_DATA_END)
    start_tag = _ROOT_START_TAG.search(data)
    if (
        end == -1
        or start_tag is None
        or b"<!" in data
        or _holds(data, b"<?", 6)
        or data.find(b"sheetData", end + len(_SHEET_DATA_END)) != -1
        or not utf8_xml(data)
    ):
        return _parsed(data), None
    cut = end + len(_SHEET_DATA_END)
    tail = start_tag.group(0) + data[cut:]
    if _WELL_FORMED_TAILS.get(tail) is None:
        try:
            hardened_parser().Parse(tail, True)
        except (expat.ExpatError, UnsafeXmlError):
            return _parsed(data), None  # for the parser's own account of what is wrong
        _WELL_FORMED_TAILS.keep(tail, True, len(tail))
    end_tag = b"</" + start_tag.group(1) + b">"
    rows = _split_rows(data, start_tag.group(0), end)
    if rows is not None:
        try:
            root = ElementTree.fromstring(
                data[: rows.content_start]
                + _ROW_START.join([rows.before_rows, *rows.fresh])
                + data[end:cut]
                + end_tag
            )
        except ElementTree.ParseError:
            pass  # parsed again below, for the parser's own account of what is wrong
        else:
            if _place_fresh_rows(root, rows.split):
                return root, rows.split
    return _parsed(data[:cut] + end_tag), None


class _Cut(NamedTuple):
    """A part's ``<sheetData>`` content cut at each ``<row``."""

    split: _SplitRows
    #: Where the content starts in the part.
    content_start: int
    #: What comes before the first ``<row`` (nothing, or spaces).
    before_rows: bytes
    #: The rows not known, each after its ``<row``.
    fresh: list[bytes]


def _split_rows(data: bytes, root_start_tag: bytes, end: int) -> _Cut | None:
    """The content of the part's one ``<sheetData>`` (which ends at ``end``) cut at each
    ``<row``, with what is known of each piece; None when the part has no such ``<sheetData>``.

    Every ``<row`` in a part without comments, CDATA or processing instructions begins a tag
    (neither text nor attribute values hold a ``<``). Whether each piece is one row and text,
    as a known piece was, is told once the fresh ones are parsed (``_place_fresh_rows``).
    """
    first = data.find(b"sheetData")
    start_tag = _SHEET_DATA_START_TAG.match(data, first - 1) if first > 0 else None
    if start_tag is None or data.find(b"sheetData", start_tag.end()) != end + 2:
        return None  # not the one <sheetData> element's start tag
    content_start = start_tag.end()
    before_rows, *pieces = data[content_start:end].split(_ROW_START)
    context = root_start_tag + start_tag.group(0)
    known = _KNOWN_ROWS
    readings = [known.get((context, piece)) for piece in pieces]
    fresh = [piece for piece, reading in zip(pieces, readings, strict=True) if reading is None]
    return _Cut(_SplitRows(context, pieces, readings), content_start, before_rows, fresh)


def _place_fresh_rows(root: ElementTree.Element, rows: _SplitRows) -> bool:
    """Whether the parsed fresh pieces are each one ``<row>`` (and text after it) that is a
    child of ``<sheetData>``, itself a child of the root; if so, ``rows`` takes that
    ``<sheetData>``. As many rows as pieces, each beginning where a piece does (no other
    ``<row`` is there to begin one), make every piece one row and text, a piece ending where
    the next begins."""
    for child in root:
        if _local_name(child.tag) == "sheetData":
            fresh = sum(reading is None for reading in rows.readings)
            if len(child) != fresh or any(_local_name(row.tag) != "row" for row in child):
                return False
            rows.sheet_data = child
            return True
    return False


def _parsed(data: bytes) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise SheetXmlError(f"malformed XML: {exc}") from exc


def _scan_tree(data: bytes, cells: _Cells) -> None:
    """The same scan over a part held whole: the C tree builder parses, Python walks the rows
    (about three times faster than expat's per-element callbacks). Elements are told by their
    local names, whatever their namespace, as on the streaming path."""
    root, split = _tree(data)
    # The root's namespace names the elements as nearly every part writes them: compared first,
    # the local name only when that differs.
    namespace = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    tags = (namespace + "row", namespace + "c", namespace + "v", namespace + "f")
    # What calamine would read otherwise than this walk (``SheetScan.values_problem``): noted
    # where the walk meets it, at no cost to the parts that hold none of it.
    odd: str | None = None
    sheet_data_seen = False
    row_number = 0
    for sheet_data in root:
        local = _local_name(sheet_data.tag)
        if local != "sheetData":
            if local == "dimension" and not sheet_data_seen:
                odd = odd or _odd_dimension(sheet_data.get("ref"))
            continue
        if sheet_data_seen:
            odd = odd or "a second <sheetData>"
        sheet_data_seen = True
        if split is not None and sheet_data is split.sheet_data:
            fresh = iter(sheet_data)
            for piece, known in zip(split.pieces, split.readings, strict=True):
                reading = known or _read_row(next(fresh), row_number, tags)
                if known is None and reading.context_free:
                    _KNOWN_ROWS.keep((split.context, piece), reading, len(piece))
                row_number = _add_row(reading, cells)
                odd = odd or reading.odd
            continue
        for row in sheet_data:
            reading = _read_row(row, row_number, tags)
            row_number = _add_row(reading, cells)
            odd = odd or reading.odd
    cells.values_problem = cells.values_problem or odd


def _add_row(reading: _RowReading, cells: _Cells) -> int:
    """Give a row's cells to the scan; the walk's row number after it.

    Raises:
        SheetXmlError: the row or one of its cells lies outside the grid.
    """
    if reading.gathered is not None and cells.window is None:
        cells.add_gathered(reading.gathered)
        return reading.row_number
    add_cell = cells.cell
    for arguments in reading.cells:
        add_cell(*arguments)
    if reading.error is not None:
        raise reading.error
    return reading.row_number


def _read_row(
    row: ElementTree.Element, row_number: int, tags: tuple[str, str, str, str]
) -> _RowReading:
    """One child of ``<sheetData>`` read, after the row numbered ``row_number``."""
    row_tag, cell_tag, value_tag, formula_tag = tags
    if row.tag != row_tag and _local_name(row.tag) != "row":
        return _RowReading(
            row_number, [], "an element other than <row> in <sheetData>", None, False, None
        )
    found: list[_CellArguments] = []
    odd: str | None = None
    row_reference = row.get("r")
    try:
        known = _ROW_NUMBERS.get(row_reference)  # type: ignore[arg-type]
        if known is not None:
            row_number = known
        else:
            row_number = _position(row_reference, row_number + 1, MAX_ROW)
            if row_reference is not None:
                if row_reference.isdigit() and row_reference.isascii():
                    if len(_ROW_NUMBERS) < _POSITIONS_LIMIT:
                        _ROW_NUMBERS[row_reference] = row_number
                else:
                    odd = odd or f"row number {row_reference[:20]!r}"
        column = 0
        for cell in row:
            if cell.tag != cell_tag and _local_name(cell.tag) != "c":
                odd = odd or "an element other than <c> in a <row>"
                continue
            reference = cell.get("r")
            if reference is None:
                # calamine places such a cell by the row's own count, not the cell before.
                odd = odd or "a cell without a reference"
            row_number, column = _cell_position(reference, row_number, column)
            if not len(cell):
                continue  # styled, empty
            value = formula = None
            formula_attributes: Mapping[str, str] = _NO_ATTRIBUTES
            inline = None
            last = ""
            for child in cell:
                tag = child.tag
                last = "v" if tag == value_tag else "f" if tag == formula_tag else _local_name(tag)
                if last == "v":
                    value = _text(child)
                elif last == "f":
                    formula = _text(child)
                    formula_attributes = child.attrib
                elif last == "is":
                    inline = _inline_runs(child)
                else:
                    odd = odd or f"a <{last[:20]}> in a cell"  # calamine refuses the sheet
            if value is None and formula is None and inline is None:
                continue  # a styled empty cell says nothing about where data is
            attributes = cell.attrib
            found.append(
                (
                    row_number,
                    column,
                    attributes.get("t"),
                    attributes.get("s"),
                    value,
                    formula,
                    formula_attributes,
                    inline,
                    last,
                )
            )
    except SheetXmlError as exc:
        return _RowReading(row_number, found, odd, exc, False, None)
    context_free = row_reference is not None and odd is None
    return _RowReading(row_number, found, odd, None, context_free, _gather(found))


#: A ``<dimension ref>`` calamine reads: one cell or a range, each with its column and row.
_DIMENSION = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}(?::[A-Z]{1,3}[1-9][0-9]{0,6})?")


def _odd_dimension(reference: str | None) -> str | None:
    """Why calamine would refuse the sheet for its ``<dimension>``, if it would."""
    if reference is None or not _DIMENSION.fullmatch(reference):
        return f"<dimension ref={(reference or '')[:20]!r}>"
    return None


#: A ``<v>`` holding a character reference: calamine reads a number, shared string index,
#: boolean or error from the text before it only.
_REFERENCE_IN_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>[^<]*&#")


def _odd_part(data: bytes) -> str | None:
    """What in a part's bytes calamine reads otherwise than the C tree builder, if anything:
    comments and CDATA sections (calamine takes a ``<v>``'s text only up to one), processing
    instructions, character references in a ``<v>``, an encoding other than UTF-8."""
    if _holds(data, b"<!-") or _holds(data, b"<!["):
        return "a comment or CDATA section"
    if _holds(data, b"<?", 6):
        return "a processing instruction"
    if _holds(data, b"&#") and _REFERENCE_IN_VALUE.search(data):
        return "a character reference in a <v>"
    if not utf8_xml(data):
        return "an encoding other than UTF-8"
    return None


def _holds(data: bytes, needle: bytes, start: int = 0) -> bool:
    """Whether ``needle`` occurs in ``data`` from ``start``, found from its last byte, which a
    sheet seldom holds (``-``, ``[``, ``?``, ``#``): memchr skips to each, where CPython's
    search for a short needle steps through every byte (20 times slower on a template sheet).
    Past a few dozen of them, that search is cheaper."""
    last, before = needle[-1:], len(needle) - 1
    at = data.find(last, start + before)
    for _ in range(32):
        if at == -1:
            return False
        if data.startswith(needle, at - before):
            return True
        at = data.find(last, at + 1)
    return at != -1 and data.find(needle, at - before) != -1


def scan_sheet(
    stream: IO[bytes],
    *,
    window: tuple[int, int] | None = None,
    stop_past_window: bool = False,
    whole_part_bytes: int = WHOLE_PART_BYTES,
    keep_values: bool = False,
) -> SheetScan:
    """Read a worksheet part from ``stream`` once.

    Args:
        window: (rows, columns) from A1 whose cells are kept in ``SheetScan.cells`` (None keeps
            none). Formulas and errors are kept wherever the scan goes.
        stop_past_window: stop at the first cell holding something below the window (sheets are
            written top to bottom), for a sheet looked at only to identify it.
        whole_part_bytes: a part up to this size is parsed whole as a tree (fast); a larger one
            is streamed through expat in chunks (memory for what is kept, not for its size).
        keep_values: keep every cell's value as calamine reads it (``SheetScan.values``), for
            a part parsed whole whose XML calamine reads as the tree builder does.

    Raises:
        UnsafeXmlError: a DTD or entity declaration.
        SheetXmlError: malformed XML or a cell outside the grid.
    """
    cells = _Cells(window, stop_past_window, keep_values)
    buffer = bytearray()
    while len(buffer) <= whole_part_bytes and (chunk := stream.read(_CHUNK)):
        buffer += chunk
    head = bytes(buffer)
    try:
        if len(head) <= whole_part_bytes and plain_xml(head):
            if keep_values:
                cells.values_problem = _odd_part(head)
            _scan_tree(head, cells)
        else:
            cells.values_problem = "a part read in chunks"
            _scan_stream(
                itertools.chain((head,), iter(functools.partial(stream.read, _CHUNK), b"")), cells
            )
    except _Stop:
        pass
    scan = cells.scan
    if keep_values:
        scan.values_problem = cells.values_problem or (
            None if scan.complete else "a scan stopped past its window"
        )
        scan.values = cells.values if scan.values_problem is None else None
    return scan


def rough_extent(stream: IO[bytes]) -> tuple[int, int]:
    """How far a sheet's cells may reach, from the ``r`` attributes of its ``<row>`` and ``<c>``
    tags, for a part too damaged to ``scan_sheet``: an over-estimate (empty cells count, and a
    cell without ``r`` may sit as far right as the part has cells), never an under-estimate."""
    max_row = max_column = cells = 0
    unnumbered = False
    carry = b""
    while True:
        chunk = stream.read(_CHUNK * 16)
        data = carry + chunk
        cut = data.rfind(b"<") if chunk else -1
        data, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        for match in _TAG_WITH_REFERENCE.finditer(data):
            is_cell = match.group(1) == b"c"
            cells += is_cell
            reference = _REFERENCE.search(match.group(2))
            if reference is None:
                unnumbered = unnumbered or is_cell
                continue
            letters, digits = reference.groups()
            if digits:
                max_row = max(max_row, int(digits[:8]))
            if is_cell and letters:
                max_column = max(max_column, column_number(letters[:4].decode("ascii")))
        if not chunk:
            break
    if unnumbered:
        max_row, max_column = max(max_row, cells), max(max_column, cells)
    return max_row, max_column
