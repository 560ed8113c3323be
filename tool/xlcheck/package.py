"""A workbook file read once, within limits, and its zip package checked before any parser runs.

``inspect_package`` reads the file's bytes once (regular files only, up to ``MAX_FILE_BYTES``)
and keeps them on the ``Package``: every later reader (zip, calamine, the sheet scan, the
annotator) parses those bytes, never the path again, so a file swapped after the check is never
parsed. The zip checks read the central directory and stream each part once, in chunks: nothing
is decompressed past the limits below, and a DTD or entity declaration anywhere in an XML part
is refused, so a zip bomb, an entity attack, a flood of sheets or of shared strings is refused
before calamine or the sheet scan sees it. The small parts the check inflated stay with the
``Package`` (``InflatedParts``, within a byte budget), so the sheet scan and the annotator do not
inflate them again.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from contextlib import AbstractContextManager, nullcontext
from dataclasses import field
from pathlib import Path
from typing import IO, Any

from xlcheck.cell_styles import percent_styles
from xlcheck.file_kinds import (
    CHECK_FILE,
    CHECK_FILE_EN,
    OLE_SIGNATURE,
    not_a_workbook,
    refuse,
    sniff_not_zip,
    sniff_ole,
    zip_kind,
)
from xlcheck.inflated_parts import InflatedParts
from xlcheck.package_parts import PartCounts, scan_parts
from xlcheck.package_xml import (
    app_properties,
    application_name,
    custom_properties,
    declares_dtd,
    local_name,
    parse_part,
    sheet_list,
    workbook_part,
)
from xlcheck.records import record
from xlcheck.sheet_extents import ExtentError, ods_extents, xlsb_extent
from xlcheck.sheet_xml import UnsafeXmlError
from xlcheck.workbook_bytes import read_once

#: Refuse a package whose entries add up to more than this once decompressed. A filled template
#: is about 100 KB unpacked; a large real workbook a few tens of MB.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
#: Refuse an entry larger than 1 MB that decompresses to more than this many times its size
#: (spreadsheet XML compresses 5-30×; zip bombs 1,000× and more).
MAX_COMPRESSION_RATIO = 200
#: Refuse a package with more entries than this (a template has about 15).
MAX_ENTRIES = 10_000
#: Refuse a workbook with more cells than this, counted over every sheet.
MAX_CELLS = 1_000_000
#: Read a sheet's values whole only when its content (rows × columns from A1) is at most this:
#: calamine allocates the whole rectangle. Larger .xlsx sheets are read in a window; larger
#: .ods and .xlsb sheets (which calamine reads whole) are refused.
MAX_GRID_CELLS = 2_000_000
#: Refuse a workbook with more sheets than this (a template has 4; 9,980 empty sheets once took
#: 86 s to load).
MAX_SHEETS = 500
#: Refuse a shared-strings part larger than this unpacked, or holding more strings than
#: ``MAX_SHARED_STRINGS`` (a 55 MB part once took 1.3 GB to load).
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000

#: A legacy .xls is an OLE compound file; its directory names are within its first 8 MB.
_OLE_SNIFF_BYTES = 8 << 20
_KIND_NAMES = {
    "xls": ("旧版 Excel 工作簿（.xls）", "legacy Excel workbook (.xls)"),
    "xlsb": ("Excel 二进制工作簿（.xlsb）", "Excel binary workbook (.xlsb)"),
    "ods": ("OpenDocument 电子表格（.ods）", "OpenDocument spreadsheet (.ods)"),
}


@record
class Package:
    """A workbook file's bytes and what its package holds, learnt without a spreadsheet parser.

    For .xlsx/.xlsm, ``sheet_names`` lists the sheets in workbook order, ``sheet_parts`` maps
    each to its zip entry (as stored, which may use backslashes) and ``hidden_sheets`` names the
    hidden ones. For .xls, .xlsb and .ods they stay empty: calamine lists those sheets.
    """

    path: Path
    #: The file's bytes, read once: every parser reads these, never the path.
    data: bytes
    kind: str  # "xlsx", "xlsm", "xls", "xlsb" or "ods"
    application: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    has_macros: bool = False
    external_links: tuple[str, ...] = ()
    #: Cell style indices whose number format shows a percentage (``cell_styles``).
    percent_styles: frozenset[int] = frozenset()
    sheet_names: tuple[str, ...] = ()
    sheet_parts: dict[str, str] = field(default_factory=dict)
    hidden_sheets: tuple[str, ...] = ()
    #: The main workbook part ('/'-separated), None for .xls, .xlsb and .ods.
    workbook_part: str | None = None
    #: Dates count from 1904 (a workbook made on an old Mac), not 1900.
    date1904: bool = False

    @property
    def is_spreadsheetml(self) -> bool:
        """An .xlsx/.xlsm package, whose sheets' XML xlcheck reads itself (formulas included)."""
        return self.kind in ("xlsx", "xlsm")

    #: The zip archive the check opened, kept open over ``data`` (its directory parsed once),
    #: with the small parts it inflated.
    parts: InflatedParts | None = field(default=None, compare=False, repr=False)

    def open_zip(self) -> AbstractContextManager[zipfile.ZipFile]:
        """The package's zip archive, read from ``data``: the one the check opened, left open when
        the ``with`` block ends."""
        if self.parts is not None:
            return nullcontext(self.parts.archive)
        return zipfile.ZipFile(io.BytesIO(self.data))

    def open_part(self, name: str) -> IO[bytes]:
        """The zip entry ``name`` (as stored) as a stream: over the bytes the check kept, else
        inflated from ``data`` as it is read.

        Raises:
            KeyError: no such entry.
        """
        if self.parts is not None:
            return self.parts.open(name)
        return zipfile.ZipFile(io.BytesIO(self.data)).open(name)


def kind_names(kind: str) -> tuple[str, str]:
    """How a format xlcheck reads values only from is named, in Chinese and English."""
    return _KIND_NAMES[kind]


def check_sheet_count(path: Path, count: int) -> None:
    """Refuse a workbook with more than ``MAX_SHEETS`` sheets."""
    if count > MAX_SHEETS:
        raise refuse(
            path,
            f"工作簿有 {count:,} 张工作表，超过上限 {MAX_SHEETS}（填报模板只有几张），已拒绝读取",
            f"the workbook has {count:,} sheets, over the limit of {MAX_SHEETS} (a template has a few); refused",
            "请删除与填报无关的工作表后保存，再校验。",
            "Delete the sheets that are not part of the report, save, and verify again.",
        )


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise refuse(
            path,
            f"zip 包有 {len(infos)} 个条目，超过上限 {MAX_ENTRIES}，不像工作簿，已拒绝读取",
            f"the zip package has {len(infos)} entries, over the limit of {MAX_ENTRIES}; refused as not a workbook",
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise refuse(
            path,
            f"解压后共 {total / 1048576:.0f} MB，超过上限 {MAX_UNCOMPRESSED_BYTES // 1048576} MB（可能是 zip 炸弹），已拒绝读取",
            f"it unpacks to {total / 1048576:.0f} MB, over the limit of {MAX_UNCOMPRESSED_BYTES // 1048576} MB (a possible zip bomb); refused",
            "填报模板解压后通常不到 1 MB；请检查是否发错了文件。",
            "A filled template unpacks to under 1 MB; check that this is the right file.",
        )
    seen: set[str] = set()
    for info in infos:
        # Two entries under one name: zip readers disagree on which one counts, so the part
        # checked here might not be the part a parser reads. No spreadsheet app writes that.
        name = info.filename.replace("\\", "/")
        if name in seen:
            raise refuse(
                path,
                f"zip 包中有两个同名条目 {name}，无法确定读哪一个，已拒绝读取",
                f"the zip package holds two entries named {name}, so which one counts is ambiguous; refused",
            )
        seen.add(name)
        if info.flag_bits & 0x1:
            raise refuse(
                path,
                f"zip 条目 {info.filename} 被加密，无法读取",
                f"the zip entry {info.filename} is encrypted and cannot be read",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > MAX_COMPRESSION_RATIO:
            raise refuse(
                path,
                f"条目 {info.filename} 的压缩比为 {ratio:.0f}:1，超过上限 {MAX_COMPRESSION_RATIO}:1（可能是 zip 炸弹），已拒绝读取",
                f"the entry {info.filename} is compressed {ratio:.0f}:1, over the limit of {MAX_COMPRESSION_RATIO}:1 (a possible zip bomb); refused",
                CHECK_FILE,
                CHECK_FILE_EN,
            )


def _check_counts(path: Path, counts: PartCounts, shared_strings_bytes: int) -> None:
    if counts.declaration is not None:
        raise declares_dtd(path, counts.declaration)
    if counts.cells is not None and counts.cells > MAX_CELLS:
        raise refuse(
            path,
            f"工作簿共有 {counts.cells:,} 个单元格，超过上限 {MAX_CELLS:,}（填报模板约 1,000 个），已拒绝读取",
            f"the workbook holds {counts.cells:,} cells, over the limit of {MAX_CELLS:,} (a template holds about 1,000); refused",
            "请删除模板以外的大片数据（例如整列填充到底的公式）后保存，再校验。",
            "Delete the large areas outside the template (e.g. formulas filled down a whole column), save, and verify again.",
        )
    if counts.shared_strings is not None and (
        shared_strings_bytes > MAX_SHARED_STRINGS_BYTES
        or counts.shared_strings > MAX_SHARED_STRINGS
    ):
        raise refuse(
            path,
            f"共享字符串表有 {counts.shared_strings:,} 条、解压后 {shared_strings_bytes / 1048576:.0f} MB，超过上限"
            f"（{MAX_SHARED_STRINGS:,} 条、{MAX_SHARED_STRINGS_BYTES // 1048576} MB），已拒绝读取",
            f"the shared-strings table holds {counts.shared_strings:,} strings in {shared_strings_bytes / 1048576:.0f} MB, "
            f"over the limit ({MAX_SHARED_STRINGS:,} strings, {MAX_SHARED_STRINGS_BYTES // 1048576} MB); refused",
            "请删除模板以外的大片文字数据后保存，再校验。",
            "Delete the large areas of text outside the template, save, and verify again.",
        )


def inspect_package(path: Path) -> Package:
    """Read ``path`` once and check that it is a workbook xlcheck can read safely.

    Raises:
        WorkbookError: a missing, empty, oversized or non-regular file (folder, FIFO, device),
            another format under a spreadsheet name (PDF, HTML, CSV, .docx...), an encrypted
            workbook, a truncated or damaged zip, a package past the limits above, or XML
            declaring a DTD or entities.
    """
    data = read_once(path)
    if not data:
        raise refuse(
            path,
            "文件是空的（0 字节）",
            "the file is empty (0 bytes)",
            "请让填报单位重新发送工作簿。",
            "Ask the unit to send the workbook again.",
        )
    if data.startswith(OLE_SIGNATURE):
        problem = sniff_ole(path, data[:_OLE_SNIFF_BYTES])
        if problem is not None:
            raise problem
        return Package(path, data, "xls")
    stream = io.BytesIO(data)
    if not zipfile.is_zipfile(stream):
        raise sniff_not_zip(path, data[:8192])
    try:
        # Left open for the readers (``Package.open_zip``): over bytes in memory, nothing to close.
        return _inspect_zip(path, data, InflatedParts(zipfile.ZipFile(stream), data))
    # OSError: a damaged local header offset makes zipfile seek before the file's start.
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        NotImplementedError,
        zlib.error,
        OSError,
    ) as exc:
        raise refuse(
            path,
            f"zip 包已损坏，无法读取（{describe(exc)}）",
            f"the zip package is damaged and cannot be read ({describe(exc)})",
            "请重新下载或让填报单位重新发送原文件。",
            "Download the file again or ask the unit to send it again.",
        ) from exc


def _inspect_zip(path: Path, data: bytes, parts: InflatedParts) -> Package:
    archive = parts.archive
    infos = archive.infolist()
    _check_sizes(path, infos)
    # Entry names as a reader expects them ('/'-separated) → as stored (some tools write '\\').
    names = {info.filename.replace("\\", "/"): info.filename for info in infos}
    mimetype = archive.read(names["mimetype"])[:200] if "mimetype" in names else None
    kind = zip_kind(path, names, mimetype)
    if kind != "xlsx":
        _check_counts(path, scan_parts(parts, infos, sheet_entries=(), shared_strings=None), 0)
        return _inspect_values_only(path, data, parts, kind, names)
    main_part = workbook_part(path, parts, names)
    if main_part is None:
        raise not_a_workbook(path, names)
    sheets = sheet_list(path, parts, names, main_part)
    check_sheet_count(path, len(sheets.names))
    shared_strings_bytes = (
        archive.getinfo(sheets.shared_strings).file_size if sheets.shared_strings else 0
    )
    sheet_bytes = sum(archive.getinfo(entry).file_size for entry in set(sheets.parts.values()))
    # No entry reads past the size its directory entry declares, a cell takes at least two
    # bytes ("<c") and a shared string three ("<si"): parts too small to pass a limit are not
    # counted (counting a template's sheets was 1.3 % of a workbook's instructions).
    counts = scan_parts(
        parts,
        infos,
        sheet_entries=sheets.parts.values(),
        shared_strings=sheets.shared_strings,
        count_cells=sheet_bytes > 2 * MAX_CELLS,
        count_strings=shared_strings_bytes > min(3 * MAX_SHARED_STRINGS, MAX_SHARED_STRINGS_BYTES),
    )
    _check_counts(path, counts, shared_strings_bytes)
    properties = custom_properties(parse_part(path, parts, names.get("docProps/custom.xml")))
    application = application_name(
        app_properties(path, parts, names.get("docProps/app.xml")), properties
    )
    has_macros = "xl/vbaProject.bin" in names
    return Package(
        path,
        data,
        "xlsm" if has_macros else "xlsx",
        application=application,
        properties=properties,
        has_macros=has_macros,
        external_links=tuple(
            sorted(n for n in names if n.startswith("xl/externalLinks/") and n.endswith(".xml"))
        ),
        percent_styles=percent_styles(path, parts, sheets.styles),
        sheet_names=sheets.names,
        sheet_parts=sheets.parts,
        hidden_sheets=sheets.hidden,
        workbook_part=main_part,
        date1904=sheets.date1904,
        parts=parts,
    )


def _check_extents(path: Path, extents: dict[str, tuple[int, int]]) -> None:
    check_sheet_count(path, len(extents))
    for sheet, (rows, columns) in extents.items():
        if rows * columns > MAX_GRID_CELLS:
            raise refuse(
                path,
                f"工作表“{sheet}”的数据延伸到第 {rows:,} 行、第 {columns:,} 列，超出 xlcheck 能读取的范围",
                f"sheet '{sheet}' reaches row {rows:,}, column {columns:,}, further than xlcheck reads",
                "请删除模板区域以外的数据后另存为 .xlsx，再校验。",
                "Delete the data outside the template's area, save as .xlsx, and verify again.",
            )


def _inspect_values_only(
    path: Path, data: bytes, parts: InflatedParts, kind: str, names: dict[str, str]
) -> Package:
    """An .ods or .xlsb: calamine reads each sheet whole, so how far they reach is checked first."""
    try:
        if kind == "ods":
            with parts.open(names["content.xml"]) as stream:
                _check_extents(path, ods_extents(stream))
            meta = parse_part(path, parts, names.get("meta.xml"))
            generator = (
                next((e.text for e in meta.iter() if local_name(e.tag) == "generator"), None)
                if meta is not None
                else None
            )
            return Package(path, data, kind, application=(generator or "").strip() or None)
        sheets = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".bin"))
        _check_extents(
            path, {posixpath.basename(n): xlsb_extent(parts.archive.read(names[n])) for n in sheets}
        )
    except (KeyError, ExtentError) as exc:
        what, what_en = kind_names(kind)
        raise refuse(
            path,
            f"{what}已损坏，无法读取（{describe(exc)}）",
            f"the {what_en} is damaged and cannot be read ({describe(exc)})",
        ) from exc
    except UnsafeXmlError as exc:
        raise declares_dtd(path, "content.xml") from exc
    app = app_properties(path, parts, names.get("docProps/app.xml"))
    return Package(path, data, kind, application=application_name(app, {}))


def describe(value: Any) -> str:
    """A short, safe rendering of a library exception's message for a one-line reason."""
    text = " ".join(str(value).split())
    return text[:160] + ("…" if len(text) > 160 else "")
