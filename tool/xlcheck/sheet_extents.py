"""How far the sheets of an .ods or .xlsb reach, read as a stream before calamine sees them.

calamine reads these formats whole and allocates each sheet's full rectangle, so one value in
row 1,000,000 (or a value repeated down a million rows, which .ods writes in one element) would
cost gigabytes. These scans find where cells holding something lie, without building anything.
"""

from __future__ import annotations

import struct
from typing import IO
from xml.parsers import expat

from xlcheck.sheet_xml import hardened_parser

_CHUNK = 1 << 16
#: BIFF12 record types (MS-XLSB 2.4): a row header, and the cell records holding a value
#: (BrtCellRk .. BrtFmlaError; 1 is BrtCellBlank, a styled empty cell).
_ROW_HEADER = 0x0000
_VALUE_CELLS = range(0x0002, 0x000C)


class ExtentError(ValueError):
    """The part cannot be read as a sheet of its format."""


def _attribute(attributes: dict[str, str], local: str) -> str | None:
    """An attribute by its local name (expat gives ``namespace}local``)."""
    return next((v for k, v in attributes.items() if k.rsplit("}", 1)[-1] == local), None)


def _repeats(attributes: dict[str, str], local: str) -> int:
    text = _attribute(attributes, local)
    if text is None:
        return 1
    try:
        number = int(text)
    except ValueError:
        raise ExtentError(f"impossible repeat count {text[:20]!r}") from None
    if number < 1:
        raise ExtentError(f"impossible repeat count {number}")
    return number


class _OdsHandler:
    """expat callbacks following tables, rows and cells of ``content.xml`` (nested tables in
    cells, which calamine does not read as sheets, are skipped)."""

    def __init__(self) -> None:
        self.extents: dict[str, tuple[int, int]] = {}
        self.name = ""
        self.depth = 0
        self.row = 0
        self.rows = 1
        self.column = 0
        self.columns = 1
        self.in_cell = False
        self.held = False

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        local = tag.rsplit("}", 1)[-1]
        if local == "table":
            self.depth += 1
            if self.depth == 1:
                self.name = _attribute(attributes, "name") or f"#{len(self.extents) + 1}"
                self.extents[self.name] = (0, 0)
                self.row = 0
        elif self.depth != 1:
            return
        elif self.in_cell:
            self.held = True  # any element inside a cell (text:p...) is content
        elif local == "table-row":
            self.rows = _repeats(attributes, "number-rows-repeated")
            self.column = 0
        elif local in ("table-cell", "covered-table-cell"):
            self.in_cell = True
            self.columns = _repeats(attributes, "number-columns-repeated")
            self.held = (
                _attribute(attributes, "value-type") is not None
                or _attribute(attributes, "formula") is not None
            )

    def end(self, tag: str) -> None:
        local = tag.rsplit("}", 1)[-1]
        if local == "table":
            self.depth -= 1
        elif self.depth != 1:
            return
        elif local == "table-row":
            self.row += self.rows
        elif local in ("table-cell", "covered-table-cell"):
            self.in_cell = False
            self.column += self.columns
            if self.held:
                rows, columns = self.extents[self.name]
                self.extents[self.name] = (
                    max(rows, self.row + self.rows),
                    max(columns, self.column),
                )


def ods_extents(stream: IO[bytes]) -> dict[str, tuple[int, int]]:
    """Each table of an OpenDocument ``content.xml``: (rows, columns) from A1 to its last cell
    holding something, repeats (``number-rows-repeated``, ``number-columns-repeated``) counted.

    Raises:
        sheet_xml.UnsafeXmlError: a DTD or entity declaration.
        ExtentError: malformed XML or repeat counts.
    """
    handler = _OdsHandler()
    parser = hardened_parser()
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise ExtentError(f"malformed XML: {exc}") from exc
    return handler.extents


def _varint(data: bytes, offset: int, most: int) -> tuple[int, int]:
    value = shift = 0
    for index in range(most):
        if offset >= len(data):
            raise ExtentError("a record is cut off")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, offset
        if index == most - 1:
            break
    return value, offset


def xlsb_extent(data: bytes) -> tuple[int, int]:
    """(rows, columns) from A1 to the last cell holding a value of an .xlsb worksheet part.

    Raises:
        ExtentError: the part is not a sequence of BIFF12 records.
    """
    offset = row = 0
    rows = columns = 0
    while offset < len(data):
        record, offset = _varint(data, offset, 2)
        size, offset = _varint(data, offset, 4)
        payload = data[offset : offset + size]
        if len(payload) < size:
            raise ExtentError("a record is cut off")
        offset += size
        if record == _ROW_HEADER and size >= 4:
            (row,) = struct.unpack_from("<I", payload)
        elif record in _VALUE_CELLS and size >= 4:
            (column,) = struct.unpack_from("<I", payload)
            rows, columns = max(rows, row + 1), max(columns, column + 1)
    return rows, columns
