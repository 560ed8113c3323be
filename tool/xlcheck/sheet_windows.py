"""A window of a sheet (its top-left rows and columns) made into a package calamine can read.

calamine allocates a sheet's whole rectangle, so a stray value at XFD1048576 would ask for 17
billion cells, and it parses a sheet to its end, so a sheet of 200,000 unrelated cells costs as
much as the rest of the workbook many times over. Such a sheet is read through a copy of the
package in which its part holds only the window's cells (``sheet_xml.SheetScan.cells``, written
back as minimal SpreadsheetML with their types, styles and values unchanged): calamine then reads
the window exactly as it would read the same cells in the whole sheet, dates and shared strings
included, and nothing else.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection, Iterable, Mapping
from typing import IO

from xlcheck.records import record
from xlcheck.shared_formulas import column_letters, column_number
from xlcheck.sheet_xml import RawCell, TextRun

_CHUNK = 1 << 16
_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="([0-9]{1,8})"')
#: A cell's column letters, or b"" for a cell without a reference.
_CELL_COLUMN = re.compile(rb'<(?:[\w.-]+:)?c(?=[\s/>])[^>]*?(?:\br="([A-Za-z]{1,3})[0-9]|>)')
_SHEET_DATA = re.compile(rb"<((?:[\w.-]+:)?)sheetData\b")
_WORKSHEET = re.compile(rb"<((?:[\w.-]+:)?)worksheet\b")
_HEADER = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_FOOTER = b"</sheetData></worksheet>"
#: Folders of parts calamine never reads for values: left out of the copy to keep it small.
_NOT_FOR_VALUES = (
    "xl/media/",
    "xl/drawings/",
    "xl/charts/",
    "xl/embeddings/",
    "xl/printerSettings/",
    "xl/pivotCache/",
    "xl/pivotTables/",
    "xl/externalLinks/",
    "xl/activeX/",
    "customXml/",
)


#: What XML text and attribute values cannot hold as is. A carriage return must stay a
#: character reference: a raw one is read back as a line feed. (xml.sax.saxutils would do, but
#: it imports urllib.request and with it the mail and network modules.)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _run_xml(run: TextRun) -> str:
    """A text run written as it was: calamine trims a ``<t>`` without ``xml:space``."""
    space = ' xml:space="preserve"' if run.preserve else ""
    text = f"<t{space}>{_escape(run.text)}</t>"
    return f"<r>{text}</r>" if run.rich else text


def _cell_xml(cell: RawCell) -> str:
    attributes = f' r="{column_letters(cell.column_number)}{cell.row_number}"'
    if cell.cell_type is not None:
        attributes += f' t="{_escape(cell.cell_type)}"'
    if cell.style is not None:
        attributes += f' s="{_escape(cell.style)}"'
    body = ""
    if cell.value is not None:
        body += f"<v>{_escape(cell.value)}</v>"
    if cell.inline is not None:
        body += f"<is>{''.join(_run_xml(run) for run in cell.inline)}</is>"
    return f"<c{attributes}>{body}</c>"


def window_part(cells: Iterable[RawCell]) -> bytes:
    """A worksheet part holding only ``cells`` (rows and cells in order, as Excel writes them)."""
    parts: list[str] = []
    row_number = 0
    for cell in sorted(cells, key=lambda c: (c.row_number, c.column_number)):
        if cell.row_number != row_number:
            if row_number:
                parts.append("</row>")
            row_number = cell.row_number
            parts.append(f'<row r="{row_number}">')
        parts.append(_cell_xml(cell))
    if row_number:
        parts.append("</row>")
    return _HEADER + "".join(parts).encode("utf-8") + _FOOTER


def package_with_windows(
    archive: zipfile.ZipFile, windows: Mapping[str, bytes], unread_sheets: Collection[str]
) -> bytes:
    """A copy of ``archive`` (stored, not compressed) where each entry named in ``windows``
    holds its window part instead, and the sheets in ``unread_sheets`` are left out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as copy:
        for info in archive.infolist():
            name = info.filename
            if name in unread_sheets or name.replace("\\", "/").startswith(_NOT_FOR_VALUES):
                continue
            data = windows[name] if name in windows else archive.read(info)
            copy.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


@record
class RowsPrefix:
    """A worksheet part's first rows, found without parsing its cells.

    Attributes:
        part: the part cut before its first row past the window and closed again, or None when
            no row lies past it (the part can be read as it is).
        max_column: how far right the cells of the rows kept reach (an over-estimate when cells
            carry no reference).
    """

    part: bytes | None
    max_column: int


def rows_prefix(stream: IO[bytes], rows: int) -> RowsPrefix:
    """Read a worksheet part from ``stream`` only as far as its first ``rows`` rows.

    For a sheet looked at only to tell whether it is a template sheet renamed or copied: the
    row tags are found with a regular expression (C speed) and the part is inflated no further
    than the first row past the window, so a sheet of 200,000 unrelated cells costs a few
    hundred rows. A part this cut cannot make well-formed (markup hidden in a comment) fails
    in calamine, and the workbook is then refused, not misread.
    """
    buffer = bytearray()
    scanned = row_number = 0
    cut: int | None = None
    while cut is None and (chunk := stream.read(_CHUNK)):
        buffer += chunk
        for match in _ROW_TAG.finditer(buffer, scanned):
            number = _ROW_NUMBER.search(match.group(1))
            row_number = int(number.group(1)) if number else row_number + 1
            if row_number > rows:
                cut = match.start()
                break
            scanned = match.end()
    kept = bytes(buffer if cut is None else buffer[:cut])
    columns = _CELL_COLUMN.findall(kept)
    # Each distinct column once (a sheet has a few dozen), not each cell.
    max_column = max((column_number(c.decode("ascii")) for c in set(columns) if c), default=0)
    if b"" in columns:
        max_column = max(max_column, len(columns))  # a cell without a reference: as far as any

    if cut is None:
        return RowsPrefix(None, max_column)
    sheet_data, worksheet = _SHEET_DATA.search(kept), _WORKSHEET.search(kept)
    if sheet_data is None or worksheet is None:
        raise ValueError("rows outside a worksheet's sheetData")
    closing = b"</%ssheetData></%sworksheet>" % (sheet_data.group(1), worksheet.group(1))
    return RowsPrefix(kept + closing, max_column)
