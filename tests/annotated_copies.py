"""Helpers for the annotator's tests: findings placed by hand, zip entries read raw, colours compared.

The raw zip reader here is independent of ``xlcheck.annotator.zip_package``: it slices each
entry's compressed bytes from the file through its local header, as any zip tool does.
"""

from __future__ import annotations

import colorsys
import math
import struct
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from xlcheck import VerifyOptions, verify_workbook
from xlcheck.annotator import annotate_workbook
from xlcheck.findings import CellRef, Finding, Severity, VerificationResult

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def raw_entries(path: Path) -> dict[str, tuple[bytes, int]]:
    """Entry name ('/'-separated) → (compressed bytes as stored, CRC-32)."""
    data = path.read_bytes()
    entries = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            header = _LOCAL_HEADER.unpack_from(data, info.header_offset)
            start = info.header_offset + _LOCAL_HEADER.size + header[9] + header[10]
            entries[info.filename.replace("\\", "/")] = (
                data[start : start + info.compress_size],
                info.CRC,
            )
    return entries


def changed_entries(source: Path, copy: Path) -> tuple[set[str], set[str], set[str]]:
    """(entries whose raw bytes or CRC differ, entries only in the copy, entries left out)."""
    before, after = raw_entries(source), raw_entries(copy)
    changed = {n for n in before.keys() & after.keys() if before[n] != after[n]}
    return changed, after.keys() - before.keys(), before.keys() - after.keys()


def finding(
    sheet: str,
    cell: str,
    severity: Severity = Severity.ERROR,
    *,
    sheet_index: int = 0,
    code: str = "test-finding",
    field: str | None = "test.field",
    message: str = "测试问题",
) -> Finding:
    """A finding at ``sheet!cell`` (row and column parsed from ``cell``)."""
    letters = "".join(ch for ch in cell if ch.isalpha())
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - 64
    row = int(cell[len(letters) :])
    return Finding(
        code=code,
        severity=severity,
        message=message,
        message_en=f"test problem ({message})",
        location=CellRef(sheet_index, row, column, sheet),
        field=field,
        expected=1,
        actual=2,
        label=f"{sheet}/测试项目",
        expected_text="1.00 万元",
        actual_text="2.00 万元",
    )


def annotate(
    source: Path,
    findings: Iterable[Finding],
    out: Path,
    *,
    lang: str = "zh",
    frozen: Mapping[str, tuple[int, int]] | None = None,
    values: Mapping[str, object] | None = None,
) -> Path:
    """The annotated copy of ``source`` with ``findings``, written at ``out``."""
    result = VerificationResult(
        path=source, template=None, findings=tuple(findings), values=dict(values or {})
    )
    written = annotate_workbook(
        result, out, source=source.read_bytes(), lang=lang, frozen=frozen, force=True
    )
    assert written is not None
    return written


def verified_copy(path: Path, out: Path) -> VerificationResult:
    """``xlcheck verify`` of ``path`` with its annotated copy at ``out``."""
    return verify_workbook(path, options=VerifyOptions(output=out, force=True))


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def lab(argb: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an ARGB hex colour."""
    red, green, blue = (_linear(int(argb[-6:][i : i + 2], 16) / 255) for i in (0, 2, 4))
    x = (0.4124 * red + 0.3576 * green + 0.1805 * blue) / 0.95047
    y = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    z = (0.0193 * red + 0.1192 * green + 0.9505 * blue) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def colour_distance(first: str, second: str) -> float:
    """CIE76 ΔE: about 2.3 is just noticeable; above 30 two colours are clearly different."""
    return math.dist(lab(first), lab(second))


def hue(argb: str) -> float:
    """Hue in degrees (0 red, 60 yellow, 120 green)."""
    red, green, blue = (int(argb[-6:][i : i + 2], 16) / 255 for i in (0, 2, 4))
    return colorsys.rgb_to_hls(red, green, blue)[0] * 360
