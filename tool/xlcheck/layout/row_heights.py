"""How tall each printed row of a template must be for the text wrapped in it.

Excel and LibreOffice keep the height a file gives a row and do not grow it for wrapped text a
program wrote (LibreOffice does not even fit rows given no height), so the template computes the
lines each text needs from its width, as the apps lay it out:

* The column unit is the width of a digit in the workbook's default font, which the template sets
  to Arial 11 (8 px in Excel; LibreOffice uses the metric-compatible Liberation Sans): both apps
  then measure columns alike, where Calibri, absent on most Linux systems, would make LibreOffice
  columns 30 % wider than Excel's.
* A CJK character of 宋体 11 pt is 15 px in Excel (1.875 units); LibreOffice's CJK fallback font
  measured 1.75 units. The larger is used, so text never runs over the row below in Excel.
* Latin characters are narrower (0.9–1.15 units by app), spaces about half that.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from xlcheck.layout.model import SheetLayout
from xlcheck.records import record

#: Width of one character of 11 pt text, in column units.
CJK_WIDTH = 1.9
LATIN_WIDTH = 1.1
SPACE_WIDTH = 0.55
#: Cell padding (both sides), in column units.
PADDING = 0.4
#: Height of one line of 11 pt 宋体 (Excel: 14.25 pt; LibreOffice's CJK fallback: about 16 pt),
#: and the row's own margin, in points.
LINE_HEIGHT = 16.0
ROW_MARGIN = 2.0
#: What a row is without a height of its own.
DEFAULT_HEIGHT = 15.0
#: Cell styles whose text wraps (see template_writer).
WRAPPED_STYLES = frozenset({"header", "label", "text", "signoff"})

_TOKEN = re.compile(r"[ \t]+|[!-~]+|.", re.DOTALL)


def char_width(character: str, size: float = 11.0) -> float:
    """One character's width in column units at ``size`` points."""
    if character in " \t":
        width = SPACE_WIDTH
    elif unicodedata.east_asian_width(character) in ("W", "F"):
        width = CJK_WIDTH
    else:
        width = LATIN_WIDTH
    return width * size / 11.0


class _Widths(dict[str, float]):
    """Each character's width at one size, worked out once: a summary of hundreds of rows
    measures the same few hundred characters over and over (``char_width`` asks unicodedata)."""

    def __init__(self, size: float) -> None:
        super().__init__()
        self.size = size

    def __missing__(self, character: str) -> float:
        width = char_width(character, self.size)
        if len(self) < _KEPT_WIDTHS:
            self[character] = width
        return width


#: Characters whose widths are kept, per size (a few MB at most).
_KEPT_WIDTHS = 1 << 15
_WIDTHS: dict[float, _Widths] = {}


def _widths(size: float) -> _Widths:
    widths = _WIDTHS.get(size)
    if widths is None:
        widths = _Widths(size)
        if len(_WIDTHS) < 16:  # a size or two in practice
            _WIDTHS[size] = widths
    return widths


@functools.lru_cache(maxsize=1 << 14)
def text_width(text: str, size: float = 11.0) -> float:
    # Cached, as ``wrapped_lines``: the words and figures of a summary of hundreds of rows repeat.
    # Summed in order, one character after another, as ``sum(char_width(c) for c in text)``.
    return sum(map(_widths(size).__getitem__, text))


#: Texts up to this long have their line counts kept (a summary's words, figures and messages
#: recur over hundreds of rows; so do a results sheet's): at most ``_KEPT_COUNTS`` of them, a
#: few MB at most. A longer text is rare and unlikely to recur: it is counted each time.
_KEPT_TEXT = 200
_KEPT_COUNTS = 4096


def wrapped_lines(text: str, width: float, size: float = 11.0) -> int:
    """Lines ``text`` takes in a cell ``width`` units wide: CJK breaks between any two
    characters, Latin words and numbers (1,131.12) only at spaces; explicit line breaks kept."""
    if isinstance(text, str) and len(text) <= _KEPT_TEXT:
        return _kept_wrapped_lines(text, width, size)
    return _wrapped_lines(text, width, size)


def _wrapped_lines(text: str, width: float, size: float) -> int:
    usable = max(width - PADDING, 1.0)
    widths = _widths(size)
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0.0
        for token in _TOKEN.findall(paragraph):
            size_of = text_width(token, size)
            if token.isspace():
                used += size_of
                continue
            if used + size_of <= usable:
                used += size_of
                continue
            if size_of <= usable:
                lines += 1 if used > 0 else 0
                used = size_of
                continue
            for character in token:  # a word longer than the line breaks anywhere
                step = widths[character]
                if used + step > usable and used > 0:
                    lines += 1
                    used = 0.0
                used += step
    return max(lines, 1)


_kept_wrapped_lines = functools.lru_cache(maxsize=_KEPT_COUNTS)(_wrapped_lines)


@record
class TextSpot:
    """Wrapped text in a (possibly merged) range of cells."""

    row_number: int
    column_number: int
    text: str
    columns: int = 1
    rows: int = 1


def text_spots(sheet: SheetLayout, values: Mapping[str, Any]) -> list[TextSpot]:
    """The wrapped texts of a sheet: fixed labels, headers and explanations, and the text
    (or pre-filled text) of its fields."""
    spots = [
        TextSpot(c.row_number, c.column_number, c.text, c.columns, c.rows)
        for c in sheet.cells
        if c.style in WRAPPED_STYLES and c.text
    ]
    for block in sheet.blocks:
        for placed in block.fields:
            value = values.get(placed.key)
            if isinstance(value, str) and value:
                spots.append(
                    TextSpot(placed.row_number, placed.column_number, value, placed.columns)
                )
    return spots


def row_heights(
    sheet: SheetLayout, spots: Iterable[TextSpot], *, fixed: Mapping[int, float] | None = None
) -> dict[int, float]:
    """Row number → height in points, for every row that needs more than one line.

    ``fixed`` rows (a text area's room) keep at least their own height. Text merged over several
    rows (一级指标 beside its rows) adds what it lacks to the last of them.
    """
    widths = sheet.widths

    def width_of(spot: TextSpot) -> float:
        first = spot.column_number - 1
        covered = widths[first : first + spot.columns]
        return sum(covered) if covered else 10.0

    heights: dict[int, float] = dict(fixed or {})
    tall = []
    for spot in spots:
        lines = wrapped_lines(spot.text, width_of(spot))
        needed = lines * LINE_HEIGHT + ROW_MARGIN
        if spot.rows > 1:
            tall.append((spot, needed))
        elif lines > 1:  # one line keeps the default height
            heights[spot.row_number] = max(heights.get(spot.row_number, 0.0), needed)
    for spot, needed in tall:
        rows = range(spot.row_number, spot.row_number + spot.rows)
        have = sum(heights.get(r, DEFAULT_HEIGHT) for r in rows)
        if needed > have + ROW_MARGIN:
            last = rows[-1]
            heights[last] = heights.get(last, DEFAULT_HEIGHT) + needed - have
    return heights


def note_lines(note: str, sheet_width: float) -> int:
    """Lines the note under a title takes across the sheet (10 pt italic)."""
    return wrapped_lines(note, sheet_width, size=10.0) if note else 1
