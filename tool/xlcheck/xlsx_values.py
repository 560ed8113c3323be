"""An .xlsx sheet's values taken from its scan (``sheet_xml.SheetScan.values``), exactly as
python-calamine and ``sheet_values`` give them, without opening the package a second time.

The scan already parses every cell of a template sheet for its formulas; calamine parsed the
same XML again, and the shared strings with it, for 15 % of a verification. Here each kept cell
is turned into the value calamine gives it (calamine 0.37, ``src/xlsx/cells_reader.rs``
``read_v``, ``src/formats.rs``, python-calamine's ``CellValue``), then as ``sheet_values``
turns calamine's values (whole floats as int, "" as None, a date as a datetime). What this module
cannot vouch for (a shared-string index calamine would read otherwise, a number written oddly, an
unknown error value or cell type) makes it give None: the sheet is then read by calamine, which
gives the value or refuses the sheet as before. tests/test_xlsx_values.py holds both to the same
grids, cell by cell and type by type.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from xlcheck.cell_styles import styles_memo
from xlcheck.package import Package
from xlcheck.package_parts import plain_xml, utf8_xml
from xlcheck.part_memo import PartMemo
from xlcheck.records import record
from xlcheck.sheet_values import Grid
from xlcheck.sheet_xml import TextRun, ValueCell

#: How a cell format shows a number, as calamine tells it: as is, as a date or time, or as a
#: duration (``[h]:mm``).
NUMBER, DATE_TIME, DURATION = 0, 1, 2
#: Built-in formats that are dates or times (14-22, the East Asian 27-36 and 50-58, 45, 47) and
#: a duration (46), by their id as written: calamine compares the text ("014" is no date). The
#: ids are the installed calamine's (0.37), probed: tests/test_xlsx_values.py holds them to it.
_BUILTIN_DATES = {
    **{
        str(identity): DATE_TIME
        for identity in (*range(14, 23), *range(27, 37), 45, 47, *range(50, 59))
    },
    "46": DURATION,
}
#: The error values calamine reads (it refuses a sheet with another, such as #SPILL!).
_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
#: Excel's escape of a character in text (``_x000D_`` for a carriage return), as calamine reads
#: it: two hex digits, which Rust's parser also takes with a plus sign.
_EXCEL_ESCAPE = re.compile(r"_x00([0-9A-Fa-f]{2}|\+[0-9A-Fa-f])_")
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_DAY_MS = 86_400_000
#: calamine's day 0 for the 1900 date system (its day 60, Excel's 1900-02-29, included).
_EPOCH = dt.datetime(1899, 12, 30)
#: Serial numbers past this far from 0 are left to calamine (its dates reach further than
#: Python's; both give the number as it is past year 9999).
_DATE_LIMIT = 1e7
#: ISO dates in ``t="d"`` cells, in the one spelling each form is read here.
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ISO_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-5][0-9])(?:\.([0-9]{1,9}))?")
_ISO_DATE_TIME = re.compile(_ISO_DATE.pattern + "T" + _ISO_TIME.pattern)
#: The cell types calamine reads (``t``); it refuses a sheet with another.
_TYPES = frozenset({None, "n", "s", "str", "b", "e", "d", "inlineStr", "is"})
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@record
class WorkbookValues:
    """What calamine reads from a workbook's other parts to give its cells their values, by the
    text a cell refers to them with (``<v>7</v>``, ``s="3"``): calamine reads an index written
    otherwise (" 7", "07") as it parses it, and this module leaves such a cell to calamine."""

    #: The shared strings by index ("0", "1"...), each as sheet_values gives it ("" as None).
    strings: dict[str, str | None]
    #: How each cell format shows a number (``NUMBER``, ``DATE_TIME`` or ``DURATION``), by
    #: index.
    formats: dict[str, int]
    date1904: bool


class _Unsure(Exception):
    """Something calamine may read otherwise than this module: calamine reads it instead."""


def workbook_values(package: Package) -> WorkbookValues | None:
    """The shared strings, cell formats and date system of an .xlsx, read from the parts
    calamine reads them from, or None when one of them is not plain XML this module can read as
    calamine does (calamine then reads the values, or refuses the workbook)."""
    if package.workbook_part is None:
        return None
    # calamine takes these parts by their names beside the workbook part, whatever the
    # relationships say, and finds them whatever their case or slashes.
    folder = posixpath.dirname(package.workbook_part)
    prefix = f"{folder}/" if folder else ""
    with package.open_zip() as archive:
        entries = {_zip_key(name): name for name in archive.namelist()}
        try:
            strings_part = _part(package, entries.get(f"{prefix}sharedstrings.xml".lower()))
            styles_part = _part(package, entries.get(f"{prefix}styles.xml".lower()))
        except _Unsure:
            return None
    strings: dict[str, str | None] | None = {}
    if strings_part is not None:
        strings = _read_shared_strings(strings_part)
    formats: dict[str, int] | None = {}
    if styles_part is not None:
        formats = _CELL_FORMATS.get(styles_part)
        if formats is None:
            root = _parse(styles_part)
            if root is not None:
                formats = {str(index): kind for index, kind in enumerate(_cell_formats(root))}
                _CELL_FORMATS.keep(styles_part, formats, len(styles_part))
    if strings is None or formats is None:
        return None
    return WorkbookValues(strings, formats, package.date1904)


def _zip_key(name: str) -> str:
    """A part's name as calamine finds it: '/'-separated, ASCII letters lower-cased."""
    name = name.replace("\\", "/")
    return name.lower() if name.isascii() else name.translate(_ASCII_LOWER)


def _part(package: Package, entry: str | None) -> bytes | None:
    """A part's bytes, None if absent.

    Raises:
        _Unsure: the entry is damaged (calamine then fails on it as it will).
    """
    if entry is None:
        return None
    try:
        if package.parts is not None:
            return package.parts.read(entry)
        with package.open_zip() as archive:
            return archive.read(entry)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise _Unsure from exc


def _parse(data: bytes) -> Element | None:
    """A part parsed by the C tree builder, or None when it is not plain UTF-8 XML or does not
    parse. The package check refused every DTD and entity declaration; a part that is not
    ``plain_xml`` is left to calamine, so nothing here parses one."""
    if not (plain_xml(data) and utf8_xml(data)):
        return None
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _shared_strings(root: Element) -> dict[str, str | None] | None:
    """The ``<si>`` of the shared strings by index ("0", "1"...), as calamine reads them: each
    ``<t>`` outside a phonetic run (``<rPh>``), trimmed unless ``xml:space="preserve"``,
    ``_xHHHH_`` escapes decoded, the runs joined; then "" as None, as sheet_values gives it."""
    if _local_name(root.tag) != "sst":
        return None
    namespace = root.tag[: -len("sst")]
    item_tag, text_tag = namespace + "si", namespace + "t"
    strings: dict[str, str | None] = {}
    for item in root:
        if item.tag == item_tag and len(item) == 1:
            # Nearly every string is one plain <t>: read here, without a call.
            run = item[0]
            if run.tag == text_tag and not len(run):
                text = run.text or ""
                trimmed = text.strip(" \t\r\n")
                if trimmed is not text and run.get(_XML_SPACE) != "preserve":
                    text = trimmed
                if "_x00" in text:
                    text = _unescape(text)
                strings[str(len(strings))] = text or None
                continue
        if item.tag == item_tag or _local_name(item.tag) == "si":
            strings[str(len(strings))] = "".join(_runs(item)) or None
    return strings


#: The shared strings read before, by the root's start tag (less its counts, which differ
#: from workbook to workbook; what is left binds the prefixes a string's XML may use) and the
#: ``<si>``'s bytes after ``<si``, each as ``_shared_strings`` reads it ("" for None): the
#: workbooks filled from one template share most of their strings (the template's labels), so
#: a batch worker parses and reads each once. Bounded: 2048 strings of at most 2 KiB (10 MB).
_KNOWN_STRINGS: PartMemo[tuple[bytes, bytes], str] = PartMemo(limit=2048, largest=2048)
_STRINGS_START_TAG = re.compile(rb"<sst\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_STRING_COUNTS = re.compile(rb'\s(?:count|uniqueCount)="[0-9]*"')
_STRINGS_END = b"</sst>"
_STRING_START = b"<si"


def _read_shared_strings(data: bytes) -> dict[str, str | None] | None:
    """The shared strings part read as ``_shared_strings`` reads it, or None (as ``_parse``).

    The strings not read before are parsed, in the part as it is but without the known
    ones, which go where they were: in a part without comments, CDATA or processing
    instructions every ``<si`` begins a tag, and when the fresh pieces parse as that many
    ``<si>`` children of the root, each piece is one ``<si>`` and text, as each known one was.
    Any other part is parsed whole.
    """
    start_tag = _STRINGS_START_TAG.search(data)
    end = data.rfind(_STRINGS_END)
    if (
        start_tag is None
        or end < start_tag.end()
        or data[end + len(_STRINGS_END) :].strip(b" \t\r\n")
        or b"<!" in data
        or data.find(b"<?", 6) != -1
        or not (plain_xml(data) and utf8_xml(data))
    ):
        root = _parse(data)
        return _shared_strings(root) if root is not None else None
    context = _STRING_COUNTS.sub(b"", start_tag.group(0))
    before_strings, *pieces = data[start_tag.end() : end].split(_STRING_START)
    known = _KNOWN_STRINGS
    texts = [known.get((context, piece)) for piece in pieces]
    fresh = [piece for piece, text in zip(pieces, texts, strict=True) if text is None]
    try:
        root = ElementTree.fromstring(
            data[: start_tag.end()] + _STRING_START.join([before_strings, *fresh]) + data[end:]
        )
    except ElementTree.ParseError:
        root = None
    if (
        root is None
        or _local_name(root.tag) != "sst"
        or len(root) != len(fresh)
        or any(_local_name(item.tag) != "si" for item in root)
    ):
        root = _parse(data)
        return _shared_strings(root) if root is not None else None
    read = _shared_strings(root)
    assert read is not None  # the root is <sst>
    fresh_texts = iter(read.values())
    strings: dict[str, str | None] = {}
    for piece, text in zip(pieces, texts, strict=True):
        if text is None:
            text = next(fresh_texts) or ""
            known.keep((context, piece), text, len(piece))
        strings[str(len(strings))] = text or None
    return strings


def _runs(element: Element) -> Iterable[str]:
    for child in element:
        local = _local_name(child.tag)
        if local == "t":
            yield _run_text("".join(child.itertext()), child.get(_XML_SPACE) == "preserve")
        elif local != "rPh":
            yield from _runs(child)


def _run_text(text: str, preserve: bool) -> str:
    """One ``<t>``'s text as calamine keeps it: ASCII spaces trimmed unless preserved, then
    Excel's escapes decoded (so an escaped space at either end stays)."""
    if not preserve:
        text = text.strip(" \t\r\n")
    return _unescape(text) if "_x00" in text else text


def _unescape(text: str) -> str:
    return _EXCEL_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def inline_text(runs: Iterable[TextRun]) -> str:
    """An inline string's text as calamine reads it (its runs as ``_run_text`` keeps them)."""
    return "".join(_run_text(run.text, run.preserve) for run in runs)


#: How each styles part read shows numbers, by its bytes: a batch worker reads each template's once.
_CELL_FORMATS: PartMemo[bytes, dict[str, int]] = styles_memo()


def _cell_formats(root: Element) -> tuple[int, ...]:
    """How each cell format (``<cellXfs>``'s ``<xf>``) shows a number, as calamine tells it:
    by the custom format of its ``numFmtId`` if the styles define one, else by the id."""
    custom: dict[str, str] = {}
    for container in root.iter():
        if _local_name(container.tag) != "numFmts":
            continue
        for element in container.iter():
            if _local_name(element.tag) != "numFmt":
                continue
            identity, code = element.get("numFmtId"), element.get("formatCode")
            if identity is not None and code is not None:
                custom[identity] = code
    formats: list[int] = []
    for container in root.iter():
        if _local_name(container.tag) != "cellXfs":
            continue
        for element in container.iter():
            if element is container or _local_name(element.tag) != "xf":
                continue
            identity = element.get("numFmtId")
            if identity is None:
                formats.append(NUMBER)
            elif identity in custom:
                formats.append(format_kind(custom[identity]))
            else:
                formats.append(_BUILTIN_DATES.get(identity, NUMBER))
    return tuple(formats)


def format_kind(code: str) -> int:
    """Whether a custom number format shows a date or time, a duration or a number, as calamine
    decides (``formats.rs`` ``detect_custom_number_format``): a date part (d, m, h, y, s, or
    AM/PM) outside quotes, brackets and escapes in the first section; a bracketed ``[h]``,
    ``[mm]`` or ``[ss]`` makes a duration."""
    escaped = is_quote = hms = ap = False
    brackets = 0
    previous = " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\*":
            escaped = True  # the next character is a literal (or a width, or the fill)
        elif is_quote:
            is_quote = char != '"'
        elif char == '"':
            is_quote = True
        elif char == ";":
            return NUMBER  # the first section only
        elif char == "[":
            brackets = (brackets + 1) & 0xFF
        elif char == "]" and brackets == 1 and hms:
            return DURATION
        elif char == "]":
            brackets = max(brackets - 1, 0)
        elif char in "aA" and not ap and brackets == 0:
            ap = True
        elif brackets == 0 and (char in "pm/PM" if ap else char in "dmhysDMHYS"):
            return DATE_TIME  # AM/PM, or a date or time part
        elif not (hms and _same_letter(char, previous)):
            hms = previous == "[" and char in "mhsMHS"
        previous = char
    return NUMBER


def _same_letter(one: str, other: str) -> bool:
    """Rust's ``eq_ignore_ascii_case``."""
    return one.translate(_ASCII_LOWER) == other.translate(_ASCII_LOWER)


def sheet_grid(
    cells: Iterable[ValueCell], workbook: WorkbookValues, window: tuple[int, int] | None = None
) -> Grid | None:
    """The values of a sheet's ``cells`` (within ``window``, rows and columns from A1, if
    given) as ``sheet_values.read_sheets`` gives them: rows from row 1 to the last holding a
    value, each as wide as the widest, blanks as None. None when a cell may not read as
    calamine reads it."""
    if window is not None:
        cells = [c for c in cells if c[0] <= window[0] and c[1] <= window[1]]
    # A cell's <v> text → its shared string, and ``s`` → its format's kind, looked up once.
    strings, kinds = workbook.strings, workbook.formats
    placed: list[tuple[int, int, Any]] = []
    last_row = last_column = 0
    value: Any
    try:
        for row, column, cell_type, style, text, runs in cells:
            if runs is not None:
                value = inline_text(runs) or None  # calamine reads <is> whatever the t says
            elif cell_type == "s":
                # calamine reads an index it cannot parse as string 0, and refuses one past
                # the table: only the indices as written here are looked up.
                value = strings.get(text, _UNREAD)  # type: ignore[arg-type]
                if value is _UNREAD:
                    if text:
                        raise _Unsure
                    continue  # an empty <v>: no value
            elif cell_type is None or cell_type == "n":
                if not text:
                    continue
                value = _number(text)
                kind = NUMBER
                if style is not None:
                    kind = kinds.get(style, -1)
                    if kind < 0:
                        kind = _style_kind(style, len(kinds))
                if kind:
                    value = _serial_value(value, kind, workbook.date1904)
                elif value.is_integer():
                    value = int(value)
            elif cell_type == "str":
                value = text or None
            elif not text:
                # An empty <v>: calamine reads no value, except an ISO date's (a blank text).
                if cell_type == "d":
                    value = None
                elif cell_type in _TYPES:
                    continue
                else:
                    raise _Unsure  # calamine refuses the sheet
            elif cell_type == "b":
                # calamine also reads "true" and " 1" its own way, and refuses "2".
                if text != "1" and text != "0":
                    raise _Unsure
                value = text == "1"
            elif cell_type == "e":
                if text not in _ERRORS:
                    raise _Unsure
                value = None  # python-calamine gives an error value as ""
            elif cell_type == "d":
                value = _iso_value(text)
            elif cell_type in ("inlineStr", "is"):
                continue  # a <v> in an inline string's cell: calamine reads nothing from it
            else:
                raise _Unsure  # calamine refuses the sheet
            placed.append((row, column, value))
            if row > last_row:
                last_row = row
            if column > last_column:
                last_column = column
    except _Unsure:
        return None
    grid: Grid = [[None] * last_column for _ in range(last_row)]
    for row, column, value in placed:
        grid[row - 1][column - 1] = value
    return grid


_UNREAD = object()


def _number(text: str) -> float:
    """A number's <v> as calamine reads it. Only the spelling both calamine's parser and
    Python's float() read the same (``[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?``) is read here: with nothing but ASCII, a first
    character that is a sign, digit or point, a last that is a digit or point, and no
    underscore, whatever float() reads is such a spelling (tests/test_xlsx_values.py)."""
    if (
        text.isascii()
        and text[-1] in "0123456789."
        and text[0] in "+-.0123456789"
        and "_" not in text
    ):
        try:
            return float(text)
        except ValueError:
            pass
    raise _Unsure  # calamine reads it as text, or refuses the sheet


def _style_kind(style: str, format_count: int) -> int:
    """The kind of a style not among the formats' indices as written: past the last format
    (a number, to calamine), or written otherwise (calamine may read it as another index)."""
    if style.isascii() and style.isdigit() and style[0] != "0" and int(style) >= format_count:
        return NUMBER
    raise _Unsure


def _round(number: float) -> int:
    """Rust's ``f64::round``: half away from zero."""
    whole = math.trunc(number)
    if abs(number - whole) >= 0.5:
        whole += 1 if number > 0 else -1
    return whole


def _serial_value(number: float, kind: int, date1904: bool) -> Any:
    """A number in a date, time or duration format, as python-calamine gives it: a duration as
    a timedelta, a serial below 1 as a time of day, others as a datetime (a date as midnight),
    to the millisecond; a date outside years 1-9999 as the number."""
    if not -_DATE_LIMIT < number < _DATE_LIMIT:
        raise _Unsure
    if kind == DURATION:
        return dt.timedelta(milliseconds=_round(number * _DAY_MS))
    days = number + 1462.0 if date1904 else number
    if days < 60.0:
        days += 1.0  # Excel's 1900-02-29, which never was
    milliseconds = _round(days * _DAY_MS)
    if number < 1.0:
        of_day = milliseconds % _DAY_MS
        return dt.time(
            of_day // 3_600_000,
            of_day // 60_000 % 60,
            of_day // 1000 % 60,
            of_day % 1000 * 1000,
        )
    try:
        return _EPOCH + dt.timedelta(milliseconds=milliseconds)
    except OverflowError:
        return int(number) if number.is_integer() else number


def _iso_value(text: str) -> Any:
    """A ``t="d"`` cell's ISO 8601 text as python-calamine gives it: a datetime, a time, or
    a date (as midnight); text it cannot read as one stays text."""
    match = _ISO_DATE_TIME.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second, fraction = match.groups()
        return _moment(text, year, month, day, hour, minute, second, fraction)
    if "T" in text:
        raise _Unsure
    match = _ISO_TIME.fullmatch(text)
    if match is not None:
        hour, minute, second, fraction = match.groups()
        return _moment(text, None, None, None, hour, minute, second, fraction)
    if ":" in text:
        raise _Unsure
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        raise _Unsure
    year, month, day = match.groups()
    return _moment(text, year, month, day, "00", "00", "00", None)


def _moment(
    text: str,
    year: str | None,
    month: str | None,
    day: str | None,
    hour: str,
    minute: str,
    second: str,
    fraction: str | None,
) -> Any:
    microsecond = int((fraction or "").ljust(9, "0")) // 1000
    try:
        time = dt.time(int(hour), int(minute), int(second), microsecond)
        if year is None or month is None or day is None:
            return time
        return dt.datetime.combine(dt.date(int(year), int(month), int(day)), time)
    except ValueError:
        return text or None
