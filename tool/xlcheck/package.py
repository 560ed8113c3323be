"""What a file really is, and whether its zip package is safe to parse: checked before any parser runs.

Every check here reads the zip central directory or streams a bounded number of bytes; nothing
is decompressed past the limits below, so a zip bomb, an XML entity attack or a sheet that claims
1,048,576 × 16,384 cells is refused (or read in a bounded way) before openpyxl or calamine sees it.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from xlcheck.errors import WorkbookError

#: Refuse a package whose entries add up to more than this once decompressed. A filled template
#: is about 100 KB unpacked; a large real workbook a few tens of MB.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
#: Refuse an entry larger than 1 MB that decompresses to more than this many times its size
#: (spreadsheet XML compresses 5-30×; zip bombs 1,000× and more).
MAX_COMPRESSION_RATIO = 200
#: Refuse a package with more entries than this (a template has about 15).
MAX_ENTRIES = 10_000
#: Refuse a workbook with more cells than this: every parser holds each cell in memory.
MAX_CELLS = 1_000_000
#: Read a sheet's values with calamine only when its used area (rows × columns) is at most this;
#: calamine allocates the whole rectangle, so a lone cell at XFD1048576 would ask for 17 billion.
MAX_GRID_CELLS = 2_000_000

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]{1,7})\"")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_APP_VERSION = re.compile(r"^\d+(\.\d+)*$")
_RELATIONSHIP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_RESAVE = "请在 Excel、WPS 或 LibreOffice 中打开它并另存为 .xlsx（Excel 工作簿）后再校验。"
_RESAVE_EN = (
    "Open it in Excel, WPS or LibreOffice, save it as .xlsx (Excel Workbook) and verify that file."
)


@dataclass(frozen=True)
class SheetExtent:
    """How far a sheet's cells reach, from its XML (not its declared, often wrong, dimension)."""

    max_row: int
    max_column: int
    cells: int
    #: Data validation in an x14 extension (lists from another sheet), which openpyxl drops.
    x14_validation: bool = False

    @property
    def grid_cells(self) -> int:
        return self.max_row * self.max_column


@dataclass(frozen=True)
class Package:
    """What an .xlsx/.xlsm package holds, learnt without running a spreadsheet parser.

    ``sheet_parts`` maps each sheet name to its zip entry; ``extents`` each sheet name to how far
    its cells reach.
    """

    path: Path
    kind: str  # "xlsx", "xlsm" or "xls"
    application: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    has_macros: bool = False
    external_links: tuple[str, ...] = ()
    has_x14_validation: bool = False
    sheet_parts: dict[str, str] = field(default_factory=dict)
    extents: dict[str, SheetExtent] = field(default_factory=dict)


def _refuse(
    path: Path, message: str, message_en: str, hint: str = _RESAVE, hint_en: str = _RESAVE_EN
) -> WorkbookError:
    return WorkbookError(path, message, message_en=message_en, hint=hint, hint_en=hint_en)


def _sniff_not_zip(path: Path, head: bytes) -> WorkbookError:
    """The error for a file that is not a zip package, naming what it looks like instead."""
    if head.startswith(_ZIP_SIGNATURES):
        return _refuse(
            path,
            "文件不完整或已损坏（zip 包结构缺失，可能是下载或邮件附件没有传完）",
            "the file is incomplete or damaged (its zip structure is cut off, e.g. an unfinished download)",
            "请重新下载或让填报单位重新发送原文件。",
            "Download the file again or ask the unit to send it again.",
        )
    if head.startswith(b"%PDF"):
        return _refuse(
            path,
            "这是 PDF 文件，不是 Excel 工作簿",
            "this is a PDF file, not an Excel workbook",
            "请提供填好的 .xlsx 工作簿（不是打印或导出的 PDF）。",
            "Send the filled .xlsx workbook, not a PDF export.",
        )
    if head.startswith(b"{\\rtf"):
        return _refuse(
            path,
            "这是 RTF 文档，不是 Excel 工作簿",
            "this is an RTF document, not an Excel workbook",
        )
    lowered = head[:4096].lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in lowered:
        return _refuse(
            path,
            "这是“XML 电子表格 2003”格式，不是 .xlsx 工作簿",
            "this is an 'XML Spreadsheet 2003' file, not an .xlsx workbook",
        )
    if b"<html" in lowered or b"<!doctype html" in lowered or b"<table" in lowered:
        return _refuse(
            path,
            "这是网页（HTML）文件，只是扩展名为 .xls/.xlsx，不是 Excel 工作簿",
            "this is a web page (HTML) saved with a spreadsheet extension, not an Excel workbook",
        )
    try:
        text = head[:4096].decode("utf-8-sig")
    except UnicodeDecodeError:
        text = ""
    if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text[:4000]):
        return _refuse(
            path,
            "这是纯文本（CSV 等）文件，不是 Excel 工作簿：其中没有公式和模板标识，无法校验",
            "this is a plain-text (CSV or similar) file, not an Excel workbook: it has no formulas or template mark to verify",
            "请在 xlcheck template 生成的模板中填写后提交 .xlsx 文件。",
            "Fill the template made by `xlcheck template` and send that .xlsx file.",
        )
    return _refuse(
        path,
        "无法识别的文件格式，不是 .xlsx 工作簿",
        "unrecognised file format, not an .xlsx workbook",
    )


def _sniff_ole(path: Path, data: bytes) -> WorkbookError | None:
    """None for a legacy .xls (readable by calamine); the error for any other OLE compound file."""
    if (
        "EncryptedPackage".encode("utf-16-le") in data
        or "EncryptionInfo".encode("utf-16-le") in data
    ):
        return _refuse(
            path,
            "工作簿设置了打开密码（已加密），xlcheck 无法读取",
            "the workbook is password-protected (encrypted), so xlcheck cannot read it",
            "请在 Excel 中打开，“文件 → 信息 → 保护工作簿 → 用密码进行加密”清空密码后保存，再校验。",
            "Open it in Excel, clear the password under File > Info > Protect Workbook > Encrypt with Password, save, and verify again.",
        )
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return None
    return _refuse(
        path,
        "这是旧版 Office 文档（如 .doc），不是 Excel 工作簿",
        "this is a legacy Office document (e.g. .doc), not an Excel workbook",
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].split(":")[-1]


def _parse_xml(path: Path, archive: zipfile.ZipFile, name: str) -> Element | None:
    """A small package part parsed with defusedxml (entity and DTD tricks refused), None if absent."""
    import defusedxml  # type: ignore[import-untyped]
    import defusedxml.ElementTree as safe_xml  # type: ignore[import-untyped]

    if name not in archive.NameToInfo:
        return None
    try:
        root: Element = safe_xml.fromstring(archive.read(name), forbid_dtd=True)
    except (
        ParseError,
        defusedxml.DefusedXmlException,
        zipfile.BadZipFile,
        EOFError,
        ValueError,
        zlib.error,
    ) as exc:
        raise _refuse(
            path,
            f"工作簿的 {name} 部分已损坏，无法读取",
            f"the workbook's part {name} is damaged and cannot be read",
        ) from exc
    return root


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def _workbook_part(path: Path, archive: zipfile.ZipFile, names: dict[str, str]) -> str | None:
    """The main workbook part: the package's officeDocument relationship, else ``xl/workbook.xml``."""
    rels = _parse_xml(path, archive, names.get("_rels/.rels", "_rels/.rels"))
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) == "Relationship" and rel.get("Type", "").endswith("/officeDocument"):
            target = _resolve("", rel.get("Target", "").replace("\\", "/"))
            if target in names:
                return target
    return "xl/workbook.xml" if "xl/workbook.xml" in names else None


def _sheet_parts(
    path: Path, archive: zipfile.ZipFile, names: dict[str, str], workbook_part: str
) -> dict[str, str]:
    """Sheet name → zip entry, from the workbook part and its relationships."""
    folder, base = posixpath.split(workbook_part)
    rels_part = posixpath.join(folder, "_rels", f"{base}.rels")
    workbook = _parse_xml(path, archive, names[workbook_part])
    rels = _parse_xml(path, archive, names.get(rels_part, rels_part))
    if workbook is None:
        return {}
    targets: dict[str, str] = {}
    for rel in rels.iter() if rels is not None else ():
        if _local(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
            targets[rel.get("Id", "")] = _resolve(
                workbook_part, rel.get("Target", "").replace("\\", "/")
            )
    parts: dict[str, str] = {}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = element.get(f"{{{_RELATIONSHIP_NS}}}id") or next(
            (v for k, v in element.attrib.items() if _local(k) == "id"), None
        )
        target = targets.get(rel_id or "")
        if element.get("name") and target and target in names:
            parts[element.get("name", "")] = names[target]
    return parts


def _extent(archive: zipfile.ZipFile, entry: str) -> SheetExtent:
    """How far a sheet's cells reach, by streaming its XML with a regex (no tree is built)."""
    max_row = max_column = cells = 0
    x14 = False
    carry = b""
    with archive.open(entry) as stream:
        while True:
            chunk = stream.read(1 << 20)
            data = carry + chunk
            if chunk:
                cut = data.rfind(b"<")
                data, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            for match in _CELL_REF.finditer(data):
                column = 0
                for letter in match.group(1):
                    column = column * 26 + letter - 64
                max_column = max(max_column, column)
                max_row = max(max_row, int(match.group(2)))
            for match in _ROW_REF.finditer(data):
                max_row = max(max_row, int(match.group(1)))
            cells += len(_CELL_TAG.findall(data))
            x14 = x14 or b"x14:dataValidation" in data
            if not chunk:
                break
    return SheetExtent(max_row, max_column, cells, x14)


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
    if version and _APP_VERSION.match(version) and not any(ch.isdigit() for ch in name):
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
        raise _refuse(
            path,
            f"zip 包有 {len(infos)} 个条目，超过上限 {MAX_ENTRIES}，不像工作簿，已拒绝读取",
            f"the zip package has {len(infos)} entries, over the limit of {MAX_ENTRIES}; refused as not a workbook",
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(
            path,
            f"解压后共 {total / 1048576:.0f} MB，超过上限 {MAX_UNCOMPRESSED_BYTES // 1048576} MB（可能是 zip 炸弹），已拒绝读取",
            f"it unpacks to {total / 1048576:.0f} MB, over the limit of {MAX_UNCOMPRESSED_BYTES // 1048576} MB (a possible zip bomb); refused",
            "填报模板解压后通常不到 1 MB；请检查是否发错了文件。",
            "A filled template unpacks to under 1 MB; check that this is the right file.",
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise _refuse(
                path,
                f"zip 条目 {info.filename} 被加密，无法读取",
                f"the zip entry {info.filename} is encrypted and cannot be read",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > MAX_COMPRESSION_RATIO:
            raise _refuse(
                path,
                f"条目 {info.filename} 的压缩比为 {ratio:.0f}:1，超过上限 {MAX_COMPRESSION_RATIO}:1（可能是 zip 炸弹），已拒绝读取",
                f"the entry {info.filename} is compressed {ratio:.0f}:1, over the limit of {MAX_COMPRESSION_RATIO}:1 (a possible zip bomb); refused",
                "请检查是否发错了文件。",
                "Check that this is the right file.",
            )


def _check_no_dtd(path: Path, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Spreadsheet apps never write a DTD; one in any XML part is an entity-expansion attack."""
    for info in infos:
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(info) as stream:
            head = stream.read(8192)
        if _DOCTYPE.search(head):
            raise _refuse(
                path,
                f"{info.filename} 含有 DTD/实体声明（Excel、WPS 都不会写入，可能是 XML 实体扩展攻击），已拒绝读取",
                f"{info.filename} declares a DTD or entities (no spreadsheet app writes one; a possible XML entity-expansion attack); refused",
                "请检查是否发错了文件。",
                "Check that this is the right file.",
            )


def inspect_package(path: Path) -> Package:
    """Check that ``path`` is an .xlsx/.xlsm (or legacy .xls) workbook that is safe to parse.

    Raises:
        WorkbookError: a missing or empty file, another format under a spreadsheet name (PDF,
            HTML, CSV, .docx, .ods...), an encrypted workbook, a truncated or damaged zip, a
            package past the size, ratio or cell limits above, or XML declaring entities.
    """
    if not path.is_file():
        raise _refuse(
            path,
            "找不到该文件",
            "file not found",
            "请检查文件名和路径。",
            "Check the file name and path.",
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise _refuse(
            path,
            f"无法读取该文件（{exc.strerror}）",
            f"cannot read the file ({exc.strerror})",
            "请检查文件权限。",
            "Check the file's permissions.",
        ) from exc
    if not head:
        raise _refuse(
            path,
            "文件是空的（0 字节）",
            "the file is empty (0 bytes)",
            "请让填报单位重新发送工作簿。",
            "Ask the unit to send the workbook again.",
        )
    if head.startswith(_OLE_SIGNATURE):
        problem = _sniff_ole(path, path.read_bytes()[: 8 << 20])
        if problem is not None:
            raise problem
        return Package(path, "xls")
    if not zipfile.is_zipfile(path):
        raise _sniff_not_zip(path, head)
    try:
        with zipfile.ZipFile(path) as archive:
            return _inspect_zip(path, archive)
    # OSError: a damaged local header offset makes zipfile seek before the file's start.
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        NotImplementedError,
        zlib.error,
        OSError,
    ) as exc:
        raise _refuse(
            path,
            f"zip 包已损坏，无法读取（{exc}）",
            f"the zip package is damaged and cannot be read ({exc})",
            "请重新下载或让填报单位重新发送原文件。",
            "Download the file again or ask the unit to send it again.",
        ) from exc


def _inspect_zip(path: Path, archive: zipfile.ZipFile) -> Package:
    infos = archive.infolist()
    _check_sizes(path, infos)
    # Entry names as a reader expects them ('/'-separated) → as stored (some tools write '\\').
    names = {info.filename.replace("\\", "/"): info.filename for info in infos}
    if "mimetype" in names:
        mimetype = archive.read(names["mimetype"])[:100]
        if b"spreadsheet" in mimetype:
            raise _refuse(
                path,
                "这是 OpenDocument 电子表格（.ods），不是 .xlsx 工作簿",
                "this is an OpenDocument spreadsheet (.ods), not an .xlsx workbook",
            )
        raise _refuse(
            path,
            "这是 OpenDocument 文档，不是 Excel 工作簿",
            "this is an OpenDocument file, not an Excel workbook",
        )
    workbook_part = _workbook_part(path, archive, names)
    if workbook_part is None and "xl/workbook.bin" not in names:
        kind = (
            "Word 文档（.docx）"
            if "word/document.xml" in names
            else (
                "PowerPoint 演示文稿（.pptx）" if "ppt/presentation.xml" in names else "zip 压缩包"
            )
        )
        kind_en = (
            "a Word document (.docx)"
            if "word/document.xml" in names
            else (
                "a PowerPoint presentation (.pptx)"
                if "ppt/presentation.xml" in names
                else "a zip archive"
            )
        )
        raise _refuse(
            path,
            f"这是{kind}，不是 Excel 工作簿",
            f"this is {kind_en}, not an Excel workbook",
            "请提供填好的 .xlsx 工作簿。",
            "Send the filled .xlsx workbook.",
        )
    if "xl/workbook.bin" in names:
        raise _refuse(
            path,
            "这是 Excel 二进制工作簿（.xlsb），xlcheck 只读 .xlsx",
            "this is an Excel binary workbook (.xlsb); xlcheck reads .xlsx",
        )
    _check_no_dtd(path, archive, infos)
    sheet_parts = _sheet_parts(path, archive, names, workbook_part) if workbook_part else {}
    extents = {sheet: _extent(archive, entry) for sheet, entry in sheet_parts.items()}
    cells = sum(e.cells for e in extents.values())
    if cells > MAX_CELLS:
        raise _refuse(
            path,
            f"工作簿共有 {cells:,} 个单元格，超过上限 {MAX_CELLS:,}（填报模板约 1,000 个），已拒绝读取",
            f"the workbook holds {cells:,} cells, over the limit of {MAX_CELLS:,} (a template holds about 1,000); refused",
            "请删除模板以外的大片数据（例如整列填充到底的公式）后保存，再校验。",
            "Delete the large areas outside the template (e.g. formulas filled down a whole column), save, and verify again.",
        )
    properties = _custom_properties(
        _parse_xml(path, archive, names.get("docProps/custom.xml", "docProps/custom.xml"))
    )
    application = _application(
        _parse_xml(path, archive, names.get("docProps/app.xml", "docProps/app.xml")), properties
    )
    return Package(
        path,
        "xlsm" if "xl/vbaProject.bin" in names else "xlsx",
        application=application,
        properties=properties,
        has_macros="xl/vbaProject.bin" in names,
        external_links=tuple(
            sorted(n for n in names if n.startswith("xl/externalLinks/") and n.endswith(".xml"))
        ),
        has_x14_validation=any(e.x14_validation for e in extents.values()),
        sheet_parts=sheet_parts,
        extents=extents,
    )


def describe(value: Any) -> str:
    """A short, safe rendering of a library exception's message for a one-line reason."""
    text = " ".join(str(value).split())
    return text[:160] + ("…" if len(text) > 160 else "")
