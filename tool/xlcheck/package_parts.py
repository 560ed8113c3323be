"""One streaming pass over a zip package's XML parts: DTD or entity declarations anywhere in a
part, and how many cells and shared strings the package holds, without building a tree.

Parts are inflated in chunks and searched with ``bytes.count``/``find`` (no regex, no parser), so
the pass costs about as much as decompressing the package once. Whether a part is XML is told
from its first bytes, not its name: a part renamed ``.bin`` is scanned all the same. A part read
whole in one chunk is left with ``InflatedParts`` for later readers, and a part already there is
not inflated again.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection, Iterator

from xlcheck.inflated_parts import InflatedParts
from xlcheck.part_memo import PartMemo
from xlcheck.records import record

_CHUNK = 1 << 20
#: Bytes kept from the end of one chunk for the next, so no token is split between chunks.
_OVERLAP = 32
# Element names starting "c" ("si"), plain or prefixed (WPS writes <x:c>): every cell (shared
# string) counts, and so do a few other elements (<col>, <cfRule>...): an over-estimate, cheap
# to take (two counts where an exact one would need a parser or twelve).
_CELL_TAGS = (b"<c", b":c")
_STRING_TAGS = (b"<si", b":si")
_DECLARATIONS = ("DOCTYPE", "ENTITY")
#: "<!" as UTF-8 (or any ASCII-compatible encoding), UTF-16-LE and UTF-16-BE, with each codec.
_ASCII_OPENER = (b"<!", "latin-1", 1)
_UTF16_OPENERS = (
    ("<!".encode("utf-16-le"), "utf-16-le", 2),
    ("<!".encode("utf-16-be"), "utf-16-be", 2),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_LESS_THAN = ord("<")


@record
class PartCounts:
    """What the pass found: the first part declaring a DTD or entity (None if none), cells in
    the sheet parts, strings in the shared-strings part (None: not counted)."""

    declaration: str | None
    cells: int | None
    shared_strings: int | None


def _is_utf16(head: bytes) -> bool:
    return head.startswith(_UTF16_BOMS) or head[:2] in (b"<\0", b"\0<")


def _looks_like_xml(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or _is_utf16(head)


def _declares(data: bytes, utf16: bool) -> bool:
    """Whether ``data`` holds ``<!DOCTYPE`` or ``<!ENTITY`` (any case), in UTF-8 or, for a part
    that starts as UTF-16 (an XML document keeps the encoding it starts with), in UTF-16."""
    for opener, codec, width in _UTF16_OPENERS if utf16 else (_ASCII_OPENER,):
        starts = _ascii_openers(data) if not utf16 else _openers(data, opener)
        for start in starts:
            word = data[start + len(opener) : start + len(opener) + 7 * width]
            text = word.decode(codec, errors="replace").upper()
            if text.startswith(_DECLARATIONS):
                return True
    return False


def _openers(data: bytes, opener: bytes, start: int = 0) -> Iterator[int]:
    """Where ``opener`` starts in ``data``, from ``start`` on."""
    start = data.find(opener, start)
    while start != -1:
        yield start
        start = data.find(opener, start + 1)


#: How many "!" not after a "<" ``_ascii_openers`` looks at before it searches for "<!" itself.
_BANGS_LOOKED_AT = 32


def _ascii_openers(data: bytes) -> Iterator[int]:
    """Where "<!" starts in ``data``, found from the "!": memchr skips to each, where CPython's
    search for the two bytes steps through each "<" (a sheet holds one every 25 bytes or so, and
    seldom a "!"): the package check's searches took 95 K instructions instead of 367 K on a
    workbook of the rate set. A "!" is in every formula naming another sheet: past a few dozen,
    "<!" is searched for itself."""
    bang = data.find(b"!", 1)
    for _ in range(_BANGS_LOOKED_AT):
        if bang == -1:
            return
        if data[bang - 1] == _LESS_THAN:
            yield bang - 1
        bang = data.find(b"!", bang + 1)
    if bang != -1:
        yield from _openers(data, b"<!", bang - 1)


#: Encodings in which "<!DOCTYPE" is the same bytes as in ASCII: the only ones ``plain_xml``
#: accepts (a part declaring another one, such as cp500, would hide a DTD from the search).
_PLAIN_ENCODINGS = frozenset({b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin-1"})
_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]*)["']""")


def plain_xml(data: bytes) -> bool:
    """Whether ``data`` is a whole XML part in UTF-8 (or ASCII, or Latin-1) with no DTD and no
    entity declaration: what every spreadsheet app writes. Such a part may go to the C tree
    builder, which has no hook to refuse a DTD; any other goes to a parser that refuses one."""
    text = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not text.startswith(b"<"):
        return False
    declared = _ENCODING.match(text)
    if declared is not None and declared.group(1).lower() not in _PLAIN_ENCODINGS:
        return False
    return not _declares(data, utf16=False)


def utf8_xml(data: bytes) -> bool:
    """Whether a ``plain_xml`` part is UTF-8 (declared so, or declaring no encoding): calamine
    reads every part as UTF-8, so only then does it read the text the tree builder reads."""
    declared = _ENCODING.match(data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n"))
    return declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")


def _count(data: bytes, tokens: tuple[bytes, ...]) -> int:
    return sum(data.count(token) for token in tokens)


#: A part as the zip stores it: compressed bytes, method, CRC and size.
_MemoKey = tuple[bytes, int, int, int]
#: Parts found declaring nothing, by how the zip stores them, with the bytes they inflate to:
#: the workbooks of one template share their theme, styles, relationships, workbook part and
#: document properties byte for byte, so a worker inflates and searches each once. Sheets and
#: shared strings, which hold what each unit filled in, are seldom the same twice: they are not
#: remembered, lest they crowd the others out. A part is remembered when its compressed and
#: inflated bytes add up to at most 64 KB.
_WITHOUT_DECLARATIONS: PartMemo[_MemoKey, bytes] = PartMemo(limit=64, largest=1 << 16)


def scan_parts(
    parts: InflatedParts,
    infos: list[zipfile.ZipInfo],
    *,
    sheet_entries: Collection[str],
    shared_strings: str | None,
    count_cells: bool = True,
    count_strings: bool = True,
) -> PartCounts:
    """Stream every XML part of ``parts``' archive once (see the module docstring), counting
    the cells in ``sheet_entries`` if ``count_cells`` and the strings in ``shared_strings`` if
    ``count_strings``.

    Raises:
        zipfile.BadZipFile, zlib.error, EOFError: a damaged entry (the caller refuses the file).
    """
    sheets = set(sheet_entries)
    declaration: str | None = None
    cells = strings = 0
    for info in infos:
        if info.is_dir():
            continue
        is_sheet = info.filename in sheets
        is_strings = info.filename == shared_strings
        held = parts.get(info.filename)
        #: What a part not yet kept is remembered by, if it may be (None: it may not).
        memo_key: _MemoKey | None = None
        #: The part's bytes were found declaring nothing before.
        searched_before = False
        if held is None:
            compressed = parts.compressed(info)
            if compressed is not None:
                if not (is_sheet or is_strings):
                    memo_key = (compressed, info.compress_type, info.CRC, info.file_size)
                    held = _WITHOUT_DECLARATIONS.get(memo_key)
                    searched_before = held is not None
                if held is None:
                    held = parts.inflate(info, compressed)
        with io.BytesIO(held) if held is not None else parts.archive.open(info) as stream:
            carry = b""
            first = True
            utf16 = False
            #: The part's bytes while they came in one chunk (None once a second one comes).
            whole: bytes | None = None
            while True:
                chunk = stream.read(_CHUNK)
                if first:
                    first, utf16, whole = False, _is_utf16(chunk[:4]), chunk
                    if not (is_sheet or is_strings or _looks_like_xml(chunk[:64])):
                        break
                elif chunk:
                    whole = None
                if not chunk:
                    # Read to its end, so its CRC was checked: later readers may take it.
                    if whole is not None:
                        parts.keep(info.filename, whole)
                        if memo_key is not None and not searched_before and declaration is None:
                            size = len(memo_key[0]) + len(whole)
                            _WITHOUT_DECLARATIONS.keep(memo_key, whole, size)
                    break
                data = carry + chunk
                if declaration is None and not searched_before and _declares(data, utf16):
                    declaration = info.filename
                if is_sheet and count_cells:
                    # Tokens lying wholly in the carry were counted with the previous chunk.
                    cells += _count(data, _CELL_TAGS) - _count(carry, _CELL_TAGS)
                if is_strings and count_strings:
                    strings += _count(data, _STRING_TAGS) - _count(carry, _STRING_TAGS)
                carry = data[-_OVERLAP:]
        if declaration is not None:
            break
    return PartCounts(
        declaration, cells if count_cells else None, strings if count_strings else None
    )
