"""Where each row and cell of a worksheet's sheetData sits, found at C speed.

A sheet's cells are most of its XML; building a Python object per element through parser
callbacks costs milliseconds per sheet. The part is checked well-formed (and free of DTDs and
entities) by expat first; in well-formed XML without comments or CDATA, a '<' in sheetData always
starts a tag, so one regular expression finds every row and cell tag exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from xlcheck.annotator.xml_parts import Element, XmlPartError

# No app writes '>' inside a row's or cell's attribute values, so the fast pattern reads up to the
# first '>'; a tag whose quotes do not pair up is read again with the exact (slower) pattern.
_ROW_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row)(?=[\s/>])([^>]*)>")
_CELL_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(c)(?=[\s/>])([^>]*)>")
_EXACT_ROW_TAG = re.compile(
    rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
)
_EXACT_CELL_TAG = re.compile(
    rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
)
#: The only attributes the marks read: a row's or cell's reference and style, a row's customFormat.
_ATTRIBUTE = re.compile(rb"\s(r|s|customFormat)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_COLUMNS: dict[str, int] = {}


class Row:
    """A row's element; its cells are found the first time they are asked for (most rows of a
    sheet hold no marked cell, so their cells are never looked at)."""

    def __init__(
        self, data: bytes, element: Element, number: int, cells: dict[int, Element] | None = None
    ) -> None:
        self.data = data
        self.element = element
        self.number = number
        self._cells = cells

    @property
    def cells(self) -> dict[int, Element]:
        """column_number → the cell's element, in document order."""
        if self._cells is None:
            self._cells = {}
            if not self.element.is_empty:
                close = self.data.rfind(b"</", self.element.tag_end, self.element.end)
                self._cells = _cells(self.data, self.element.tag_end, close)
        return self._cells


def cell_position(ref: str) -> tuple[int, int] | None:
    """(row_number, column_number) of ``B7``, or None."""
    match = _CELL_REF.fullmatch(ref.strip())
    if match is None:
        return None
    letters = match.group(1)
    column = _COLUMNS.get(letters)
    if column is None:
        column = 0
        for letter in letters.upper():
            column = column * 26 + ord(letter) - 64
        _COLUMNS[letters] = column
    return int(match.group(2)), column


def _attributes(raw: bytes) -> dict[str, str]:
    return {
        m.group(1).decode("utf-8"): (
            m.group(2) if m.group(2) is not None else m.group(3) or b""
        ).decode("utf-8")
        for m in _ATTRIBUTE.finditer(raw)
    }


def _tags(
    data: bytes, start: int, end: int, pattern: re.Pattern[bytes], exact: re.Pattern[bytes]
) -> Iterator[re.Match[bytes]]:
    position = start
    while (match := pattern.search(data, position, end)) is not None:
        raw = match.group(3)
        if raw.count(b'"') % 2 or raw.count(b"'") % 2:
            match = exact.match(data, match.start(), end)
            if match is None:
                raise XmlPartError("an unterminated row or cell tag")
        position = match.end()
        yield match


def _element(match: re.Match[bytes]) -> Element:
    raw = match.group(3)
    element = Element(match.group(2).decode(), "", _attributes(raw), match.start(), match.end())
    if raw.rstrip().endswith(b"/"):
        element.end = match.end()
    return element


def _cells(data: bytes, start: int, end: int) -> dict[int, Element]:
    cells: dict[int, Element] = {}
    column = 0
    for match in _tags(data, start, end, _CELL_TAG, _EXACT_CELL_TAG):
        if match.group(1):
            continue
        element = _element(match)
        place = cell_position(element.attributes.get("r", ""))
        column = place[1] if place else column + 1
        cells[column] = element
    return cells


def index_rows(data: bytes, start: int, end: int) -> dict[int, Row]:
    """Rows by number between ``start`` and ``end`` (sheetData's content); implicit numbers
    (a row or cell without ``r``) follow the previous one, as Excel reads them."""
    rows: dict[int, Row] = {}
    current: Row | None = None
    number = 0
    for match in _tags(data, start, end, _ROW_TAG, _EXACT_ROW_TAG):
        if match.group(1):
            if current is None:
                raise XmlPartError(f"a row end tag without its row at {match.start()}")
            current.element.end = match.end()
            current = None
            continue
        if current is not None:
            raise XmlPartError(f"a row inside a row at {match.start()}")
        element = _element(match)
        declared = element.attributes.get("r", "")
        number = int(declared) if declared.isdigit() else number + 1
        row = Row(data, element, number)
        rows.setdefault(number, row)
        current = None if element.is_empty else row
    if current is not None:
        raise XmlPartError("a row without its end tag")
    return rows
