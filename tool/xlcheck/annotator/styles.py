"""The styles part of the copy: new cell formats appended, existing ones never changed.

A marked cell gets a new cell format (xf) cloned from its own, with the mark's fill, border and
marker number format; everything else about its look (font, alignment, protection) stays. Cells
that share a format and a mark share the clone. The results sheet's formats are added the same way.
"""

from __future__ import annotations

import re

from xlcheck.annotator.marks import BUILTIN_FORMATS, MARK_STYLES, MarkKind, marked_format
from xlcheck.annotator.xml_parts import (
    Element,
    as_utf8,
    escape_attribute,
    opened,
    parse,
    prefix_of,
    splice,
    start_tag,
    with_attributes,
)
from xlcheck.cell_styles import styles_memo
from xlcheck.part_memo import PartMemo
from xlcheck.records import record

#: Custom number formats start here (lower ids are built in).
_FIRST_CUSTOM_FORMAT = 164
#: The styles part of a package that has none, as small as Excel accepts.
MINIMAL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
    b'<fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b"</styleSheet>"
)
# Children of styleSheet in schema order: a missing list is created before the first that follows.
_ORDER = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)
_MARKER_LITERAL = re.compile(r'"(?:✗|!) -?"')


@record
class CellFormat:
    """A new cell format for the results sheet (ids into the part's lists)."""

    font: int
    fill: int = 0
    border: int = 0
    number_format: int = 0
    #: Alignment attributes, e.g. {"vertical": "top", "wrapText": "1"}.
    alignment: tuple[tuple[str, str], ...] = ()


def _unmarked(code: str) -> str:
    """A format code without the markers an earlier annotation put in (re-annotating a copy)."""
    for marker in ("✗", "!"):
        first = code.split(";", 1)[0]
        candidate = _MARKER_LITERAL.sub("", first, count=1)
        if candidate != first and marked_format(candidate, marker) == code:
            return candidate
    return code


def _children(element: Element | None) -> list[Element]:
    return element.children if element is not None else []


@record(eq=False)
class _ReadStyles:
    """A styles part as parsed, shared by the copies of every workbook that has the same part:
    never changed (``StylesPart`` copies what it adds to)."""

    data: bytes
    root: Element
    prefix: str
    #: Number format id → format code, built-in ones included.
    formats: dict[int, str]
    #: Format code → its id (the last of the ids that have it).
    codes: dict[str, int]
    #: How many elements each list of ``_ORDER`` holds (0 for a list the part lacks).
    existing: dict[str, int]
    #: The cell formats (cellXfs), in order.
    xfs: list[Element]


def _read_styles(data: bytes) -> _ReadStyles:
    """Raises: XmlPartError: malformed XML, a DTD, or an entity declaration or reference."""
    utf8 = as_utf8(data)
    root = parse(utf8, depth=2)
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    numbers = root.child("numFmts")
    for element in numbers.all("numFmt") if numbers else ():
        number = element.attributes.get("numFmtId", "")
        if number.isdigit():
            formats[int(number)] = element.attributes.get("formatCode", "General")
    xfs = root.child("cellXfs")
    return _ReadStyles(
        utf8,
        root,
        prefix_of(utf8, root),
        formats,
        codes={code: number for number, code in formats.items()},
        existing={name: len(_children(root.child(name))) for name in _ORDER},
        xfs=xfs.all("xf") if xfs else [],
    )


@record
class StylesState:
    """What a ``StylesPart`` holds: the part it was read from and everything added to it since.
    Two parts in equal states write the same bytes and add the same formats alike."""

    data: bytes
    #: The elements appended to each list of ``_ORDER``, in that order.
    added: tuple[tuple[bytes, ...], ...]
    #: The number formats added (id, code), in order.
    new_formats: tuple[tuple[int, str], ...]
    clones: tuple[tuple[tuple[int, MarkKind], int], ...]
    mark_parts: tuple[tuple[MarkKind, tuple[int, int]], ...]


#: The workbooks of one template saved by one app share their styles part: parsed once per
#: worker (a millisecond a workbook, about 5 % of a batch worker's time).
_READ_STYLES: PartMemo[bytes, _ReadStyles] = styles_memo()
#: A styles part's new bytes, by its state: a clean workbook's copy adds only the results sheet's
#: formats to its template's styles part, the same for every workbook of the template (with
#: ``results_sheet``'s memory of those formats, 0.86 M instructions a copy become 0.11 M, callgrind).
_WRITTEN: PartMemo[StylesState, bytes] = PartMemo(limit=8, largest=1 << 18)


class StylesPart:
    """The workbook's styles part, with formats appended as the marks ask for them."""

    def __init__(self, data: bytes | None) -> None:
        raw = data if data is not None else MINIMAL_STYLES
        read = _READ_STYLES.get(raw)
        if read is None:
            read = _read_styles(raw)
            _READ_STYLES.keep(raw, read, len(raw))
        self._read = read
        self.data, self.root, self.prefix = read.data, read.root, read.prefix
        self.formats = dict(read.formats)
        self._codes = dict(read.codes)
        self._new_formats: list[tuple[int, str]] = []
        self._added: dict[str, list[bytes]] = {name: [] for name in _ORDER}
        self._existing = read.existing
        self._xfs = read.xfs
        self._has_style_xfs = self._existing["cellStyleXfs"] > 0
        self._clones: dict[tuple[int, MarkKind], int] = {}
        self._mark_parts: dict[MarkKind, tuple[int, int]] = {}
        if self._existing["fonts"] == 0:
            self._append("fonts", b'<font><sz val="11"/><name val="Calibri"/></font>')
        # Excel reserves the first two fills (none, gray125) whatever they say.
        for pattern in ("none", "gray125")[self._existing["fills"] :]:
            self._append("fills", f'<fill><patternFill patternType="{pattern}"/></fill>'.encode())
        if self._existing["borders"] == 0:
            self._append("borders", b"<border><left/><right/><top/><bottom/><diagonal/></border>")
        if not self._xfs:
            self._append("cellXfs", b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>')

    def _count(self, name: str) -> int:
        return self._existing[name] + len(self._added[name])

    def _append(self, name: str, element: bytes) -> int:
        """Append an element (written with no prefix) to a list; its index there."""
        if self.prefix:
            element = re.sub(rb"<(/?)(?=[a-zA-Z])", rb"<\1" + self.prefix.encode(), element)
        self._added[name].append(element)
        return self._count(name) - 1

    def number_format(self, code: str) -> int:
        """The id of the number format ``code``, added if the part has no such format yet."""
        if code in self._codes:
            return self._codes[code]
        number = max([_FIRST_CUSTOM_FORMAT - 1, *self.formats]) + 1
        self.formats[number] = code
        self._codes[code] = number
        self._new_formats.append((number, code))
        self._append(
            "numFmts",
            f'<numFmt numFmtId="{number}" formatCode="{escape_attribute(code)}"/>'.encode(),
        )
        return number

    def add_font(
        self, *, size: float, bold: bool = False, color: str | None = None, underline: bool = False
    ) -> int:
        """A font in 宋体 (SimSun): charset 134 (GB2312) lets an app without it pick a CJK fallback."""
        parts = ["<font>", "<b/>" if bold else "", '<u val="single"/>' if underline else ""]
        parts.append(f'<sz val="{size:g}"/>')
        parts.append(f'<color rgb="{color}"/>' if color else "")
        parts.append('<name val="宋体"/><family val="3"/><charset val="134"/></font>')
        return self._append("fonts", "".join(parts).encode())

    def add_fill(self, argb: str) -> int:
        return self._append(
            "fills",
            f'<fill><patternFill patternType="solid"><fgColor rgb="{argb}"/>'
            f'<bgColor indexed="64"/></patternFill></fill>'.encode(),
        )

    def add_border(self, style: str, argb: str) -> int:
        sides = "".join(
            f'<{side} style="{style}"><color rgb="{argb}"/></{side}>'
            for side in ("left", "right", "top", "bottom")
        )
        return self._append("borders", f"<border>{sides}<diagonal/></border>".encode())

    def add_cell_format(self, cell_format: CellFormat) -> int:
        """A new cell format for cells xlcheck writes (the results sheet)."""
        attributes = (
            f'numFmtId="{cell_format.number_format}" fontId="{cell_format.font}" '
            f'fillId="{cell_format.fill}" borderId="{cell_format.border}"'
            + (' xfId="0"' if self._has_style_xfs else "")
            + ' applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1"'
        )
        if not cell_format.alignment:
            return self._append("cellXfs", f"<xf {attributes}/>".encode())
        alignment = " ".join(f'{name}="{value}"' for name, value in cell_format.alignment)
        return self._append(
            "cellXfs", f'<xf {attributes} applyAlignment="1"><alignment {alignment}/></xf>'.encode()
        )

    def _mark_fill_and_border(self, kind: MarkKind) -> tuple[int, int]:
        if kind not in self._mark_parts:
            style = MARK_STYLES[kind]
            fill = self.add_fill(style.fill) if style.fill else -1
            border = self.add_border(style.border, style.border_color) if style.border else -1
            self._mark_parts[kind] = (fill, border)
        return self._mark_parts[kind]

    def mark_format(
        self, kind: MarkKind, *, font: int, alignment: tuple[tuple[str, str], ...] = ()
    ) -> int:
        """A new cell format that looks like the mark ``kind`` (the results sheet's severities)."""
        fill, border = self._mark_fill_and_border(kind)
        marker = MARK_STYLES[kind].marker
        return self.add_cell_format(
            CellFormat(
                font,
                fill=max(fill, 0),
                border=max(border, 0),
                number_format=self.number_format(marked_format("General", marker)),
                alignment=alignment,
            )
        )

    def marked(self, base: int, kind: MarkKind) -> int:
        """The cell format of a cell whose format was ``base``, marked as ``kind``."""
        key = (base if 0 <= base < len(self._xfs) else 0, kind)
        if key in self._clones:
            return self._clones[key]
        base_index = key[0]
        if self._xfs:
            element = self._xfs[base_index]
            tag = start_tag(self.data, element)
            rest = self.data[element.tag_end : element.end]
            number = element.attributes.get("numFmtId", "0")
        else:
            tag, rest, number = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>', b"", "0"
        code = _unmarked(self.formats.get(int(number) if number.isdigit() else 0, "General"))
        style = MARK_STYLES[kind]
        changes: dict[str, str | None] = {
            "numFmtId": str(self.number_format(marked_format(code, style.marker))),
            "applyNumberFormat": "1",
        }
        fill, border = self._mark_fill_and_border(kind)
        if fill >= 0:
            changes.update(fillId=str(fill), applyFill="1")
        if border >= 0:
            changes.update(borderId=str(border), applyBorder="1")
        clone = with_attributes(tag, changes) + rest
        index = self._count("cellXfs")
        self._added["cellXfs"].append(clone)
        self._clones[key] = index
        return index

    def state(self) -> StylesState:
        """Everything this part holds now, to remember what an addition or ``to_bytes`` makes of it."""
        return StylesState(
            self.data,
            tuple(tuple(self._added[name]) for name in _ORDER),
            tuple(self._new_formats),
            tuple(self._clones.items()),
            tuple(self._mark_parts.items()),
        )

    def restore(self, state: StylesState) -> None:
        """Take the state of a part read from the same bytes (as ``state`` returned it)."""
        if state.data != self.data:
            raise ValueError("a state of another styles part")
        self._added = {name: list(added) for name, added in zip(_ORDER, state.added, strict=True)}
        self._new_formats = list(state.new_formats)
        self.formats = dict(self._read.formats)
        self.formats.update(state.new_formats)
        self._codes = dict(self._read.codes)
        self._codes.update((code, number) for number, code in state.new_formats)
        self._clones = dict(state.clones)
        self._mark_parts = dict(state.mark_parts)

    def to_bytes(self) -> bytes:
        """The part with every appended element in place and the lists' counts updated."""
        return _WRITTEN.recall(self.state(), self._written, lambda _: len(self.data))

    def _written(self) -> bytes:
        edits: list[tuple[int, int, bytes]] = []
        missing = b""  # lists the part lacks, inserted before the next list it has
        for name in _ORDER:
            added = self._added[name]
            element = self.root.child(name)
            if element is None:
                if added:
                    missing += self._list(name, added)
                continue
            if missing:
                edits.append((element.start, element.start, missing))
                missing = b""
            if not added:
                continue
            tag = with_attributes(start_tag(self.data, element), {"count": str(self._count(name))})
            if element.is_empty:
                closing = f"</{self.prefix}{name}>".encode()
                edits.append((element.start, element.end, opened(tag) + b"".join(added) + closing))
            else:
                edits.append((element.start, element.tag_end, tag))
                close = self.data.rfind(b"</", element.start, element.end)
                edits.append((close, close, b"".join(added)))
        if missing:
            close = self.data.rfind(b"</", self.root.start, self.root.end)
            edits.append((close, close, missing))
        return splice(self.data, edits)

    def _list(self, name: str, added: list[bytes]) -> bytes:
        return (
            f'<{self.prefix}{name} count="{len(added)}">'.encode()
            + b"".join(added)
            + f"</{self.prefix}{name}>".encode()
        )
