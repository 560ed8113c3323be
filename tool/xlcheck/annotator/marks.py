"""What a mark looks like, on screen and on a black-and-white printout.

An error is a light red fill, a thick solid border and a ✗ before the value; a warning an amber
fill (clearly apart from the template's input yellow, #FFF2CC), a dashed medium border and a !
before the value. The marker is part of the cell's number format (``"✗ "#,##0.00``), so the
cell's value and formula stay exactly as the unit left them.
"""

from __future__ import annotations

import enum
import re

from xlcheck.records import record


class MarkKind(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    #: A finding about a whole sheet (renamed, hidden, copied), anchored at its title cell: a
    #: marker and a comment only, so the title band is not painted.
    SHEET_ERROR = "sheet-error"
    SHEET_WARNING = "sheet-warning"


@record
class MarkStyle:
    #: ARGB fill colour, or None for no fill.
    fill: str | None
    #: Border line style on all four sides (SpreadsheetML names), or None for no border.
    border: str | None
    border_color: str
    #: Printed before the value by the number format.
    marker: str


ERROR_FILL = "FFFFC7CE"
WARNING_FILL = "FFFFC000"
ERROR_MARKER = "✗"
WARNING_MARKER = "!"

MARK_STYLES = {
    MarkKind.ERROR: MarkStyle(ERROR_FILL, "thick", "FFC00000", ERROR_MARKER),
    MarkKind.WARNING: MarkStyle(WARNING_FILL, "mediumDashed", "FF7F6000", WARNING_MARKER),
    MarkKind.SHEET_ERROR: MarkStyle(None, None, "FFC00000", ERROR_MARKER),
    MarkKind.SHEET_WARNING: MarkStyle(None, None, "FF7F6000", WARNING_MARKER),
}

#: Built-in number formats (ECMA-376 §18.8.30 and the zh-CN defaults for the East Asian ids), so
#: a marker can be put in front of a format the file names only by its id.
BUILTIN_FORMATS = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "yyyy/m/d",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "yyyy/m/d h:mm",
    27: 'yyyy"年"m"月"',
    28: 'm"月"d"日"',
    29: 'm"月"d"日"',
    30: "m-d-yy",
    31: 'yyyy"年"m"月"d"日"',
    32: 'h"时"mm"分"',
    33: 'h"时"mm"分"ss"秒"',
    34: '上午/下午h"时"mm"分"',
    35: '上午/下午h"时"mm"分"ss"秒"',
    36: 'yyyy"年"m"月"',
    37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)",
    39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)",
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
    50: 'yyyy"年"m"月"',
    51: 'm"月"d"日"',
    52: 'yyyy"年"m"月"',
    53: 'm"月"d"日"',
    54: 'm"月"d"日"',
    55: '上午/下午h"时"mm"分"',
    56: '上午/下午h"时"mm"分"ss"秒"',
    57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
}

# One piece of a format code: a quoted literal, an escaped character, a [bracket] code, or any
# other character. Sections are split on ';' outside the first three.
_TOKEN = re.compile(r'"[^"]*"?|\\.|\[[^\]]*\]?|.', re.DOTALL)
# Bracket codes that must stay at the very start of a section: colours, conditions, locales and
# numeral systems ([h], [mm] and [ss] are elapsed-time digits and come after the marker).
_LEADING_CODE = re.compile(
    r"\[(?:\$[^\]]*|[<>=][^\]]*|(?i:black|blue|cyan|green|magenta|red|white|yellow)|"
    r"(?i:color\s*\d+)|(?i:dbnum\d+)|(?i:natnum\d+))\]"
)


def _sections(code: str) -> list[str]:
    sections = [""]
    for token in _TOKEN.findall(code):
        if token == ";":
            sections.append("")
        else:
            sections[-1] += token
    return sections


def _prefixed(section: str, literal: str) -> str:
    """``section`` showing ``literal`` first, after any colour, condition or locale codes."""
    position = 0
    while match := _LEADING_CODE.match(section, position):
        position = match.end()
    return f'{section[:position]}"{literal}"{section[position:]}'


def _is_text_format(section: str) -> bool:
    return "@" in "".join(t for t in _TOKEN.findall(section) if not t.startswith(('"', "\\")))


def marked_format(code: str, marker: str) -> str:
    """The number format ``code`` with ``marker`` in front of every kind of value it shows.

    One section (``#,##0.00``) applies to every number and shows the minus sign itself; with the
    marker it becomes positive; ``"✗ -"`` negative; zero; and an explicit text section, since a
    format without one shows text unchanged.
    """
    sections = _sections(code)
    if len(sections) == 1 and (_is_text_format(sections[0]) or sections[0].lower() == "general"):
        sections = ["General"]
    conditional = any(_LEADING_CODE.match(s) and s.startswith(("[<", "[>", "[=")) for s in sections)
    marked = [_prefixed(section, f"{marker} ") for section in sections[:4]]
    if conditional:
        return ";".join(marked)
    if len(sections) == 1:
        negative = _prefixed(sections[0], f"{marker} -")
        return ";".join((marked[0], negative, marked[0], f'"{marker} "@'))
    if len(sections) == 2:
        return ";".join((marked[0], marked[1], marked[0], f'"{marker} "@'))
    if len(sections) == 3:
        return ";".join((*marked, f'"{marker} "@'))
    return ";".join(marked)
