"""A sheet's comments part and the legacy VML drawing Excel needs to show its comments.

The unit's own comments stay: new comments are appended to the sheet's comments part, and a
finding on a cell that already has a comment is added below the unit's text. Each new comment
gets a hidden note shape in the sheet's VML drawing (appended when the sheet has one), which is
what Excel, WPS and LibreOffice use to place and show it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from xlcheck.annotator.sheet_xml import Cell
from xlcheck.annotator.xml_parts import (
    XmlPartError,
    as_utf8,
    escape_text,
    parse,
    prefix_of,
    splice,
)
from xlcheck.findings import column_letters
from xlcheck.records import record

AUTHOR = "xlcheck"
#: Shapes per VML id block: shape _x0000_sN belongs to block N // 1024.
_BLOCK = 1024
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NOTE = re.compile(
    rb"<(?:\w+:)?ClientData\b[^>]*ObjectType=[\"']Note[\"'][^>]*>(.*?)</(?:\w+:)?ClientData>",
    re.DOTALL,
)
_NOTE_ROW = re.compile(rb"<(?:\w+:)?Row>\s*(\d+)\s*<")
_NOTE_COLUMN = re.compile(rb"<(?:\w+:)?Column>\s*(\d+)\s*<")
_IDMAP = re.compile(rb"(<o:idmap\b[^>]*\bdata=[\"'])([^\"']*)([\"'])")
_VML_CLOSE = re.compile(rb"</xml\s*>\s*$", re.IGNORECASE)
_VML_NAMESPACES = (
    (b"v", b"urn:schemas-microsoft-com:vml"),
    (b"o", b"urn:schemas-microsoft-com:office:office"),
    (b"x", b"urn:schemas-microsoft-com:office:excel"),
)
_VML_ROOT = re.compile(rb"\s*(?:<\?xml[^>]*>\s*)?(<xml\b)[^>]*>")
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_SHAPE_TYPE = (
    b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
    b'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
    b'<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


@record
class Run:
    """A piece of comment text; bold for the severity and rule code."""

    text: str
    bold: bool = False


def lines_of(runs: Sequence[Run]) -> int:
    """About how many lines a note's text takes in its box (some 40 characters a line)."""
    return sum(len(r.text) for r in runs) // 40 + sum(r.text.count("\n") for r in runs) + 1


def _run(run: Run, prefix: str = "") -> str:
    p = prefix
    bold = f"<{p}b/>" if run.bold else ""
    return (
        f'<{p}r><{p}rPr>{bold}<{p}sz val="9"/><{p}rFont val="宋体"/><{p}charset val="134"/></{p}rPr>'
        f'<{p}t xml:space="preserve">{escape_text(run.text)}</{p}t></{p}r>'
    )


def _comment(ref: str, author: int, runs: Sequence[Run], prefix: str = "") -> str:
    p = prefix
    body = "".join(_run(run, p) for run in runs)
    return f'<{p}comment ref="{ref}" authorId="{author}"><{p}text>{body}</{p}text></{p}comment>'


def _text_of(data: bytes, start: int, end: int) -> str:
    """The text inside an element with no children (an author's name), unescaped."""
    raw = data[start:end].decode("utf-8")
    return (
        raw.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def comments_part(existing: bytes | None, notes: dict[Cell, list[Run]]) -> bytes:
    """The sheet's comments part with ``notes`` added (below the unit's text on the same cell)."""
    refs = {cell: f"{column_letters(cell[1])}{cell[0]}" for cell in notes}
    if existing is None:
        comments = "".join(_comment(refs[cell], 0, notes[cell]) for cell in sorted(notes))
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<comments xmlns="{_MAIN}"><authors><author>{AUTHOR}</author></authors>'
            f"<commentList>{comments}</commentList></comments>"
        ).encode()
    data = as_utf8(existing)
    root = parse(data, depth=3, keep=("t", "r", "rPh", "phoneticPr"))
    p = prefix_of(data, root)
    authors = root.child("authors")
    comment_list = root.child("commentList")
    if authors is None or comment_list is None or authors.is_empty or comment_list.is_empty:
        raise XmlPartError("comments part without authors or comment list")
    edits: list[tuple[int, int, bytes]] = []
    names = [
        _text_of(data, a.tag_end, data.rfind(b"</", a.start, a.end)) if not a.is_empty else ""
        for a in authors.all("author")
    ]
    if AUTHOR in names:
        author = names.index(AUTHOR)
    else:
        author = len(names)
        close = data.rfind(b"</", authors.start, authors.end)
        edits.append((close, close, f"<{p}author>{AUTHOR}</{p}author>".encode()))
    by_ref = {c.attributes.get("ref", "").upper(): c for c in comment_list.all("comment")}
    added = []
    for cell in sorted(notes):
        comment = by_ref.get(refs[cell])
        if comment is None:
            added.append(_comment(refs[cell], author, notes[cell], p))
            continue
        text = comment.child("text")
        # A cell holds one comment: an empty one, or one an earlier annotation wrote, is replaced.
        if text is None or text.is_empty or comment.attributes.get("authorId") == str(author):
            ours = _comment(refs[cell], author, notes[cell], p).encode()
            edits.append((comment.start, comment.end, ours))
            continue
        # The unit's text stays first; ours follows, before any phonetic runs (schema order).
        at = next(
            (c.start for c in text.children if c.name in ("rPh", "phoneticPr")),
            data.rfind(b"</", text.start, text.end),
        )
        plain = text.child("t")
        if plain is not None:  # text without runs: its <t> becomes the first run
            edits.append((plain.start, plain.start, f"<{p}r>".encode()))
            edits.append((plain.end, plain.end, f"</{p}r>".encode()))
        runs = [Run("\n\n"), *notes[cell]]
        edits.append((at, at, "".join(_run(run, p) for run in runs).encode()))
    if added:
        close = data.rfind(b"</", comment_list.start, comment_list.end)
        edits.append((close, close, "".join(added).encode("utf-8")))
    return splice(data, edits)


def note_cells(vml: bytes) -> set[Cell]:
    """Cells that already have a note shape in a VML drawing (1-based, as Excel shows them)."""
    cells: set[Cell] = set()
    for note in _NOTE.finditer(vml):
        row, column = _NOTE_ROW.search(note.group(1)), _NOTE_COLUMN.search(note.group(1))
        if row and column:
            cells.add((int(row.group(1)) + 1, int(column.group(1)) + 1))
    return cells


def id_blocks(vml: bytes) -> set[int]:
    """The shape id blocks a VML drawing claims (``<o:idmap data="1,3">``)."""
    blocks: set[int] = set()
    for match in _IDMAP.finditer(vml):
        blocks.update(int(n) for n in re.findall(rb"\d+", match.group(2)))
    return blocks


def blocks_needed(shapes: int) -> int:
    return max(1, math.ceil(shapes / (_BLOCK - 1)))


def _shape(number: int, cell: Cell, lines: int) -> bytes:
    row, column = cell[0] - 1, cell[1] - 1
    height = min(max(lines, 4), 20)
    anchor = (
        f"{column + 1}, 15, {max(row - 1, 0)}, 10, {column + 5}, 15, {max(row - 1, 0) + height}, 4"
    )
    return (
        f'<v:shape id="_x0000_s{number}" type="#_x0000_t202" '
        'style="position:absolute;margin-left:80pt;margin-top:2pt;width:260pt;'
        f'height:{height * 14}pt;z-index:{number % _BLOCK};visibility:hidden" '
        'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
        '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
        '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
        '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
        f"<x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill>"
        f"<x:Row>{row}</x:Row><x:Column>{column}</x:Column></x:ClientData></v:shape>"
    ).encode()


def vml_part(existing: bytes | None, cells: Iterable[tuple[Cell, int]], blocks: list[int]) -> bytes:
    """The VML drawing with a hidden note shape for each (cell, lines of text) added.

    ``blocks`` are shape id blocks no other drawing in the package uses; the new shapes take
    their ids from them, and the drawing's ``o:idmap`` claims them.
    """
    numbers = (b * _BLOCK + i for b in blocks for i in range(1, _BLOCK))
    shapes = b"".join(_shape(next(numbers), cell, lines) for cell, lines in cells)
    claimed = ",".join(str(b) for b in blocks)
    if existing is None:
        return (
            b'<xml xmlns:v="urn:schemas-microsoft-com:vml" '
            b'xmlns:o="urn:schemas-microsoft-com:office:office" '
            b'xmlns:x="urn:schemas-microsoft-com:office:excel">'
            + f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{claimed}"/></o:shapelayout>'.encode()
            + _SHAPE_TYPE
            + shapes
            + b"</xml>"
        )
    # VML written by Excel is often not well-formed XML (unclosed <br>), so it is edited as text:
    # namespaces and the id map at the root, shapes before the closing </xml>. A DTD is refused.
    if _DTD.search(existing):
        raise XmlPartError("VML drawing declares a DTD or entities")
    data = existing.rstrip()
    head = _VML_ROOT.match(data)
    if head is None or _VML_CLOSE.search(data) is None:
        raise XmlPartError("VML drawing without an <xml> root")
    root_tag = head.group(0)[head.start(1) - head.start() :]
    declared = b"".join(
        b' xmlns:%s="%s"' % (prefix, namespace)
        for prefix, namespace in _VML_NAMESPACES
        if b"xmlns:" + prefix + b"=" not in root_tag
    )
    after_root = b""
    if _IDMAP.search(data):
        data = _IDMAP.sub(
            lambda m: m.group(1) + m.group(2) + b"," + claimed.encode() + m.group(3), data, count=1
        )
    else:
        after_root = f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{claimed}"/></o:shapelayout>'.encode()
    if b'id="_x0000_t202"' not in data and b"id='_x0000_t202'" not in data:
        after_root += _SHAPE_TYPE
    close = _VML_CLOSE.search(data)
    assert close is not None
    root_end = head.end()
    return (
        data[: root_end - 1]
        + declared
        + data[root_end - 1 : root_end]
        + after_root
        + data[root_end : close.start()]
        + shapes
        + data[close.start() :]
    )
