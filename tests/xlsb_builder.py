"""A minimal Excel binary workbook (.xlsb) writer, for tests of reading .xlsb values.

No app on the test machine writes .xlsb (LibreOffice 7.4 reads it but has no export filter), so
the tests build one here from the values of a workbook LibreOffice recalculated and saved: the
BIFF12 records Excel writes for a sheet's cell values (MS-XLSB 2.4: BrtRowHdr, BrtCellReal,
BrtCellSt, BrtCellBool), the workbook's sheet list (BrtBundleSh), and a styles part whose second
cell format is a date, so dates read back as dates as they do from Excel's files.
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Override PartName="/xl/styles.bin" ContentType="application/vnd.ms-excel.styles"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = '<Override PartName="/xl/worksheets/sheet{n}.bin" ContentType="application/vnd.ms-excel.worksheet"/>'
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.bin"/>'
    "{sheets}</Relationships>"
)
_SHEET_REL = (
    '<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet{n}.bin"/>'
)
_EPOCH = dt.datetime(1899, 12, 30)
#: Cell format 1 in styles.bin: built-in number format 14 (a date).
_DATE_STYLE = 1


def _varint(value: int, most: int) -> bytes:
    out = bytearray()
    for _ in range(most):
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            break
    return bytes(out)


def record(kind: int, payload: bytes = b"") -> bytes:
    """One BIFF12 record: its type and size as variable-length integers, then its payload."""
    return _varint(kind, 2) + _varint(len(payload), 4) + payload


def _wide(text: str) -> bytes:
    encoded = text.encode("utf-16-le")
    return struct.pack("<I", len(encoded) // 2) + encoded


def _cell(column_index: int, value: Any) -> bytes:
    if isinstance(value, bool):
        return record(0x0004, struct.pack("<II?", column_index, 0, value))
    if isinstance(value, dt.datetime | dt.date):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        serial = (moment - _EPOCH) / dt.timedelta(days=1)
        return record(0x0005, struct.pack("<IId", column_index, _DATE_STYLE, serial))
    if isinstance(value, int | float):
        return record(0x0005, struct.pack("<IId", column_index, 0, float(value)))
    return record(0x0006, struct.pack("<II", column_index, 0) + _wide(str(value)))


def _sheet(rows: Sequence[Sequence[Any]]) -> bytes:
    height = max(len(rows), 1)
    width = max((len(row) for row in rows), default=1)
    parts = [
        record(0x0081),  # BrtBeginSheet
        record(0x0094, struct.pack("<IIII", 0, height - 1, 0, width - 1)),  # BrtWsDim
        record(0x0091),  # BrtBeginSheetData
    ]
    for row_index, row in enumerate(rows):
        cells = [(c, v) for c, v in enumerate(row) if v is not None and v != ""]
        if not cells:
            continue
        parts.append(record(0x0000, struct.pack("<IIHHBBB", row_index, 0, 300, 0, 0, 0, 0)))
        parts.extend(_cell(column_index, value) for column_index, value in cells)
    parts += [record(0x0092), record(0x0082)]  # BrtEndSheetData, BrtEndSheet
    return b"".join(parts)


def _workbook(names: Sequence[str]) -> bytes:
    sheets = b"".join(
        record(0x009C, struct.pack("<II", 0, number) + _wide(f"rId{number}") + _wide(name))
        for number, name in enumerate(names, start=1)
    )
    # BrtBeginBook, BrtBeginBundleShs, the sheets, BrtEndBundleShs, BrtEndBook
    return record(0x0083) + record(0x008F) + sheets + record(0x0090) + record(0x0084)


def _styles() -> bytes:
    formats = struct.pack("<HH", 0, 0) + b"\0" * 12, struct.pack("<HH", 0, 14) + b"\0" * 12
    # BrtBeginCellXFs (count), one BrtXF per format, BrtEndCellXFs
    return (
        record(0x0269, struct.pack("<I", len(formats)))
        + b"".join(record(0x002F, xf) for xf in formats)
        + record(0x026A)
    )


def write_xlsb(target: Path, sheets: Mapping[str, Sequence[Sequence[Any]]]) -> Path:
    """Write ``sheets`` (name → rows of values; None or "" is an empty cell) as an .xlsb."""
    names = list(sheets)
    numbers = range(1, len(names) + 1)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=n) for n in numbers)),
        )
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr(
            "xl/_rels/workbook.bin.rels",
            _WORKBOOK_RELS.format(sheets="".join(_SHEET_REL.format(n=n) for n in numbers)),
        )
        archive.writestr("xl/workbook.bin", _workbook(names))
        archive.writestr("xl/styles.bin", _styles())
        for number, name in zip(numbers, names, strict=True):
            archive.writestr(f"xl/worksheets/sheet{number}.bin", _sheet(sheets[name]))
    return target
