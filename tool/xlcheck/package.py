"""A workbook file read once, within limits, and its zip package checked before any parser runs.

``inspect_package`` reads the file's bytes once (regular files only, up to ``MAX_FILE_BYTES``)
and keeps them on the ``Package``: every later reader (zip, calamine, the sheet scan, the
annotator) parses those bytes, never the path again, so a file swapped after the check is never
parsed. The zip checks read the central directory and stream each part once, in chunks: nothing
is decompressed past the limits below, and a DTD or entity declaration anywhere in an XML part
is refused, so a zip bomb, an entity attack, a flood of sheets or of shared strings is refused
before calamine or the sheet scan sees it.
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from xlcheck.errors import WorkbookError
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
from xlcheck.package_parts import PartCounts, scan_parts
from xlcheck.sheet_extents import ExtentError, ods_extents, xlsb_extent
from xlcheck.sheet_xml import UnsafeXmlError

#: Refuse a file larger than this before reading it: a filled template is about 20 KB, a large
#: real workbook with scanned pictures a few tens of MB.
MAX_FILE_BYTES = 100 * 1024 * 1024
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
_RELATIONSHIP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_KIND_NAMES = {
    "xls": ("旧版 Excel 工作簿（.xls）", "legacy Excel workbook (.xls)"),
    "xlsb": ("Excel 二进制工作簿（.xlsb）", "Excel binary workbook (.xlsb)"),
    "ods": ("OpenDocument 电子表格（.ods）", "OpenDocument spreadsheet (.ods)"),
}


@dataclass(frozen=True)
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
    has_x14_validation: bool = False
    sheet_names: tuple[str, ...] = ()
    sheet_parts: dict[str, str] = field(default_factory=dict)
    hidden_sheets: tuple[str, ...] = ()

    @property
    def is_spreadsheetml(self) -> bool:
        """An .xlsx/.xlsm package, whose sheets' XML xlcheck reads itself (formulas included)."""
        return self.kind in ("xlsx", "xlsm")

    def open_zip(self) -> zipfile.ZipFile:
        """The package's zip archive, read from ``data``."""
        return zipfile.ZipFile(io.BytesIO(self.data))


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


def _read_once(path: Path) -> bytes:
    """The bytes of ``path``, a regular file of at most ``MAX_FILE_BYTES``, read in one go.

    The file is opened without blocking (a FIFO would otherwise wait for a writer forever) and
    checked on the open handle, so what is checked is what is read.
    """
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise refuse(
            path,
            "找不到该文件",
            "file not found",
            "请检查文件名和路径。",
            "Check the file name and path.",
        ) from exc
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    try:
        status = os.fstat(handle)
        mode, size = status.st_mode, status.st_size
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode)
        data = _read_to_end(path, handle, size)
    finally:
        os.close(handle)
    if size > MAX_FILE_BYTES or len(data) > MAX_FILE_BYTES:
        raise refuse(
            path,
            f"文件超过 {MAX_FILE_BYTES // 1048576} MB 的上限，不像填报工作簿，已拒绝读取",
            f"the file is larger than the limit of {MAX_FILE_BYTES // 1048576} MB; refused as not a report workbook",
            "填报工作簿通常不到 1 MB；请检查是否发错了文件，或删除其中的大图片后保存。",
            "A report workbook is usually under 1 MB; check the file, or remove large pictures and save.",
        )
    return data


def _not_regular(path: Path, mode: int) -> WorkbookError:
    if stat.S_ISDIR(mode):
        what, what_en = "文件夹", "a folder"
    elif stat.S_ISFIFO(mode):
        what, what_en = "管道（FIFO）", "a pipe (FIFO)"
    else:
        what, what_en = "设备或其他特殊文件", "a device or other special file"
    return refuse(
        path,
        f"这是{what}，不是普通文件，xlcheck 只读取普通文件",
        f"this is {what_en}, not a regular file; xlcheck reads regular files only",
        "请指定工作簿文件本身。",
        "Name the workbook file itself.",
    )


def _read_to_end(path: Path, handle: int, size: int) -> bytes:
    """The file's bytes to its end (it may grow while it is read), never past the limit."""
    chunks: list[bytes] = []
    read = 0
    while size <= MAX_FILE_BYTES and read <= MAX_FILE_BYTES:
        try:
            chunk = os.read(handle, min(max(size - read + 1, 1 << 16), MAX_FILE_BYTES + 1 - read))
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        if not chunk:
            break
        chunks.append(chunk)
        read += len(chunk)
    return b"".join(chunks)


def declares_dtd(path: Path, part: str) -> WorkbookError:
    """The error for a part declaring a DTD or entities."""
    return refuse(
        path,
        f"{part} 含有 DTD/实体声明（Excel、WPS 都不会写入，可能是 XML 实体扩展攻击），已拒绝读取",
        f"{part} declares a DTD or entities (no spreadsheet app writes one; a possible XML entity-expansion attack); refused",
        CHECK_FILE,
        CHECK_FILE_EN,
    )


def _unreadable(path: Path, exc: OSError) -> WorkbookError:
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
    return refuse(
        path,
        f"无法读取该文件（{reason}）",
        f"cannot read the file ({reason})",
        "请检查文件权限。",
        "Check the file's permissions.",
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].split(":")[-1]


def _parse_xml(path: Path, archive: zipfile.ZipFile, name: str | None) -> Element | None:
    """A small package part parsed with defusedxml (entity and DTD tricks refused), None if absent."""
    import defusedxml  # type: ignore[import-untyped]
    import defusedxml.ElementTree as safe_xml  # type: ignore[import-untyped]

    if name is None or name not in archive.NameToInfo:
        return None
    try:
        root: Element = safe_xml.fromstring(archive.read(name), forbid_dtd=True)
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden) as exc:
        raise declares_dtd(path, name) from exc
    except (
        ParseError,
        defusedxml.DefusedXmlException,
        zipfile.BadZipFile,
        EOFError,
        ValueError,
        zlib.error,
    ) as exc:
        raise refuse(
            path,
            f"工作簿的 {name} 部分已损坏，无法读取",
            f"the workbook's part {name} is damaged and cannot be read",
        ) from exc
    return root


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def _relationships(
    path: Path, archive: zipfile.ZipFile, names: dict[str, str], part: str
) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (type, target part '/'-separated)."""
    folder, base = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", f"{base}.rels")
    rels = _parse_xml(path, archive, names.get(rels_part))
    found: dict[str, tuple[str, str]] = {}
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
            target = _resolve(part, rel.get("Target", "").replace("\\", "/"))
            found[rel.get("Id", "")] = (rel.get("Type", ""), target)
    return found


def _workbook_part(path: Path, archive: zipfile.ZipFile, names: dict[str, str]) -> str | None:
    """The main workbook part: the package's officeDocument relationship, else ``xl/workbook.xml``."""
    for kind, target in _relationships(path, archive, names, "").values():
        if kind.endswith("/officeDocument") and target in names:
            return target
    return "xl/workbook.xml" if "xl/workbook.xml" in names else None


@dataclass(frozen=True)
class _Sheets:
    names: tuple[str, ...]
    parts: dict[str, str]
    hidden: tuple[str, ...]
    shared_strings: str | None


def _sheets(
    path: Path, archive: zipfile.ZipFile, names: dict[str, str], workbook_part: str
) -> _Sheets:
    """The sheets in workbook order, their zip entries, the hidden ones, and the shared strings."""
    workbook = _parse_xml(path, archive, names[workbook_part])
    relationships = _relationships(path, archive, names, workbook_part)
    shared_strings = next(
        (
            names[target]
            for kind, target in relationships.values()
            if kind.endswith("/sharedStrings") and target in names
        ),
        None,
    )
    order: list[str] = []
    parts: dict[str, str] = {}
    hidden: list[str] = []
    for element in workbook.iter() if workbook is not None else ():
        if _local(element.tag) != "sheet" or not element.get("name"):
            continue
        name = element.get("name", "")
        rel_id = element.get(f"{{{_RELATIONSHIP_NS}}}id") or next(
            (v for k, v in element.attrib.items() if _local(k) == "id"), None
        )
        order.append(name)
        if element.get("state", "visible") != "visible":
            hidden.append(name)
        target = relationships.get(rel_id or "", ("", ""))[1]
        if target in names:
            parts[name] = names[target]
    return _Sheets(tuple(order), parts, tuple(hidden), shared_strings)


def _application(app: Element | None, properties: dict[str, str]) -> str | None:
    """Which app last saved the file (docProps/app.xml), with WPS's build number when present."""
    values = {_local(e.tag): (e.text or "").strip() for e in app.iter()} if app is not None else {}
    name = values.get("Application") or None
    wps_build = properties.get("KSOProductBuildVer")
    if wps_build:
        return f"{name or 'WPS Office'} (KSOProductBuildVer {wps_build})"
    if name is None:
        return None
    version = values.get("AppVersion", "")
    if (
        version
        and all(p.isdigit() for p in version.split("."))
        and not any(ch.isdigit() for ch in name)
    ):
        return f"{name} {version}"
    return name


def _custom_properties(custom: Element | None) -> dict[str, str]:
    properties: dict[str, str] = {}
    for prop in custom if custom is not None else ():
        name = prop.get("name")
        if name is not None:
            properties[name] = "".join(prop.itertext()).strip()
    return properties


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
    if counts.cells > MAX_CELLS:
        raise refuse(
            path,
            f"工作簿共有 {counts.cells:,} 个单元格，超过上限 {MAX_CELLS:,}（填报模板约 1,000 个），已拒绝读取",
            f"the workbook holds {counts.cells:,} cells, over the limit of {MAX_CELLS:,} (a template holds about 1,000); refused",
            "请删除模板以外的大片数据（例如整列填充到底的公式）后保存，再校验。",
            "Delete the large areas outside the template (e.g. formulas filled down a whole column), save, and verify again.",
        )
    if (
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
    data = _read_once(path)
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
        with zipfile.ZipFile(stream) as archive:
            return _inspect_zip(path, data, archive)
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


def _inspect_zip(path: Path, data: bytes, archive: zipfile.ZipFile) -> Package:
    infos = archive.infolist()
    _check_sizes(path, infos)
    # Entry names as a reader expects them ('/'-separated) → as stored (some tools write '\\').
    names = {info.filename.replace("\\", "/"): info.filename for info in infos}
    mimetype = archive.read(names["mimetype"])[:200] if "mimetype" in names else None
    kind = zip_kind(path, names, mimetype)
    if kind != "xlsx":
        _check_counts(path, scan_parts(archive, infos, sheet_entries=(), shared_strings=None), 0)
        return _inspect_values_only(path, data, archive, kind, names)
    workbook_part = _workbook_part(path, archive, names)
    if workbook_part is None:
        raise not_a_workbook(path, names)
    sheets = _sheets(path, archive, names, workbook_part)
    check_sheet_count(path, len(sheets.names))
    counts = scan_parts(
        archive, infos, sheet_entries=sheets.parts.values(), shared_strings=sheets.shared_strings
    )
    shared_strings_bytes = (
        archive.getinfo(sheets.shared_strings).file_size if sheets.shared_strings else 0
    )
    _check_counts(path, counts, shared_strings_bytes)
    properties = _custom_properties(_parse_xml(path, archive, names.get("docProps/custom.xml")))
    application = _application(_parse_xml(path, archive, names.get("docProps/app.xml")), properties)
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
        has_x14_validation=counts.x14_validation,
        sheet_names=sheets.names,
        sheet_parts=sheets.parts,
        hidden_sheets=sheets.hidden,
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
    path: Path, data: bytes, archive: zipfile.ZipFile, kind: str, names: dict[str, str]
) -> Package:
    """An .ods or .xlsb: calamine reads each sheet whole, so how far they reach is checked first."""
    try:
        if kind == "ods":
            with archive.open(names["content.xml"]) as stream:
                _check_extents(path, ods_extents(stream))
            meta = _parse_xml(path, archive, names.get("meta.xml"))
            generator = (
                next((e.text for e in meta.iter() if _local(e.tag) == "generator"), None)
                if meta is not None
                else None
            )
            return Package(path, data, kind, application=(generator or "").strip() or None)
        sheets = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".bin"))
        _check_extents(
            path, {posixpath.basename(n): xlsb_extent(archive.read(names[n])) for n in sheets}
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
    app = _parse_xml(path, archive, names.get("docProps/app.xml"))
    return Package(path, data, kind, application=_application(app, {}))


def describe(value: Any) -> str:
    """A short, safe rendering of a library exception's message for a one-line reason."""
    text = " ".join(str(value).split())
    return text[:160] + ("…" if len(text) > 160 else "")
