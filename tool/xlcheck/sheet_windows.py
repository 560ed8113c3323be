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
import zipfile
from collections.abc import Collection, Iterable, Mapping
from xml.sax.saxutils import escape, quoteattr

from xlcheck.shared_formulas import column_letters
from xlcheck.sheet_xml import RawCell, TextRun

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


#: A carriage return must stay a character reference: a raw one is read back as a line feed.
_ENTITIES = {"\r": "&#13;"}


def _run_xml(run: TextRun) -> str:
    """A text run written as it was: calamine trims a ``<t>`` without ``xml:space``."""
    space = ' xml:space="preserve"' if run.preserve else ""
    text = f"<t{space}>{escape(run.text, _ENTITIES)}</t>"
    return f"<r>{text}</r>" if run.rich else text


def _cell_xml(cell: RawCell) -> str:
    attributes = f' r="{column_letters(cell.column_number)}{cell.row_number}"'
    if cell.cell_type is not None:
        attributes += f" t={quoteattr(cell.cell_type)}"
    if cell.style is not None:
        attributes += f" s={quoteattr(cell.style)}"
    body = ""
    if cell.value is not None:
        body += f"<v>{escape(cell.value, _ENTITIES)}</v>"
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
