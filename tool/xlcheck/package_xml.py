"""The small XML parts of a workbook package: relationships, the workbook's list of sheets, and
document properties, parsed with DTDs and entities refused."""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, ParseError

from xlcheck.errors import WorkbookError
from xlcheck.file_kinds import CHECK_FILE, CHECK_FILE_EN, refuse
from xlcheck.inflated_parts import InflatedParts
from xlcheck.package_parts import plain_xml
from xlcheck.part_memo import PartMemo
from xlcheck.records import record

_RELATIONSHIP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def declares_dtd(path: Path, part: str) -> WorkbookError:
    """The error for a part declaring a DTD or entities."""
    return refuse(
        path,
        f"{part} 含有 DTD/实体声明（Excel、WPS 都不会写入，可能是 XML 实体扩展攻击），已拒绝读取",
        f"{part} declares a DTD or entities (no spreadsheet app writes one; a possible XML entity-expansion attack); refused",
        CHECK_FILE,
        CHECK_FILE_EN,
    )


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].split(":")[-1]


def parse_part(path: Path, parts: InflatedParts, name: str | None) -> Element | None:
    """A small package part, None if absent, parsed as ``parse_xml`` does."""
    data = read_part(path, parts, name)
    return None if data is None or name is None else parse_xml(path, name, data)


def read_part(path: Path, parts: InflatedParts, name: str | None) -> bytes | None:
    """A package part's bytes (``name`` as the zip stores it), None if absent.

    Raises:
        WorkbookError: the entry is damaged.
    """
    if name is None or name not in parts.archive.NameToInfo:
        return None
    try:
        return parts.read(name)
    except (zipfile.BadZipFile, EOFError, ValueError, zlib.error) as exc:
        raise _damaged(path, name) from exc


#: Plain parts parsed, by their bytes: the workbooks of one template share their relationships,
#: workbook part and document properties, so a batch worker parses each once. The trees are
#: shared, and only ever read.
_PARSED: PartMemo[bytes, Element] = PartMemo(limit=64, largest=1 << 16)


def parse_xml(path: Path, name: str, data: bytes) -> Element:
    """The part ``name`` of the package at ``path``: plain XML (``plain_xml``) through the C tree
    builder, anything else through defusedxml (entity and DTD tricks refused). The tree may be
    shared with other callers parsing the same bytes: it must not be changed.

    Raises:
        WorkbookError: a DTD or entity declaration, or XML that does not parse.
    """
    known = _PARSED.get(data)
    if known is not None:
        return known
    import defusedxml  # type: ignore[import-untyped]
    import defusedxml.ElementTree as safe_xml  # type: ignore[import-untyped]

    plain = plain_xml(data)
    try:
        root: Element = (
            ElementTree.fromstring(data) if plain else safe_xml.fromstring(data, forbid_dtd=True)
        )
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden) as exc:
        raise declares_dtd(path, name) from exc
    except (ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise _damaged(path, name) from exc
    if plain:
        _PARSED.keep(data, root, len(data))
    return root


def _damaged(path: Path, name: str) -> WorkbookError:
    return refuse(
        path,
        f"工作簿的 {name} 部分已损坏，无法读取",
        f"the workbook's part {name} is damaged and cannot be read",
    )


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


#: A part's relationships, by the bytes of its relationships part and the part's name.
_RELATIONSHIPS: PartMemo[tuple[bytes, str], dict[str, tuple[str, str]]] = PartMemo(
    limit=64, largest=1 << 16
)


def _relationships(
    path: Path, parts: InflatedParts, names: dict[str, str], part: str
) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (type, target part '/'-separated). The dict may be shared
    with other callers reading the same relationships: it must not be changed."""
    folder, base = posixpath.split(part)
    rels_part = names.get(posixpath.join(folder, "_rels", f"{base}.rels"))
    data = read_part(path, parts, rels_part)
    if data is None or rels_part is None:
        return {}
    found = _RELATIONSHIPS.get((data, part))
    if found is None:
        found = {}
        for rel in parse_xml(path, rels_part, data).iter():
            if local_name(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
                target = _resolve(part, rel.get("Target", "").replace("\\", "/"))
                found[rel.get("Id", "")] = (rel.get("Type", ""), target)
        _RELATIONSHIPS.keep((data, part), found, len(data))
    return found


def workbook_part(path: Path, parts: InflatedParts, names: dict[str, str]) -> str | None:
    """The main workbook part: the package's officeDocument relationship, else ``xl/workbook.xml``."""
    for kind, target in _relationships(path, parts, names, "").values():
        if kind.endswith("/officeDocument") and target in names:
            return target
    return "xl/workbook.xml" if "xl/workbook.xml" in names else None


@record
class SheetList:
    names: tuple[str, ...]
    parts: dict[str, str]
    hidden: tuple[str, ...]
    shared_strings: str | None
    #: The styles part (cell formats), as the zip stores its name, or None.
    styles: str | None = None
    #: The workbook counts dates from 1904 (``<workbookPr date1904>``, as calamine reads it).
    date1904: bool = False


def sheet_list(
    path: Path, parts: InflatedParts, names: dict[str, str], workbook_part: str
) -> SheetList:
    """The sheets in workbook order, their zip entries, the hidden ones, the shared strings and
    the styles."""
    sheets = _workbook_sheets(path, parts, names[workbook_part])
    relationships = _relationships(path, parts, names, workbook_part)

    def related(kind_suffix: str) -> str | None:
        return next(
            (
                names[target]
                for kind, target in relationships.values()
                if kind.endswith(kind_suffix) and target in names
            ),
            None,
        )

    entries: dict[str, str] = {}
    for name, rel_id in sheets.relationship_ids:
        target = relationships.get(rel_id or "", ("", ""))[1]
        if target in names:
            entries[name] = names[target]
    return SheetList(
        sheets.names,
        entries,
        sheets.hidden,
        related("/sharedStrings"),
        related("/styles"),
        sheets.date1904,
    )


@record
class _WorkbookSheets:
    """What the workbook part says of its sheets."""

    names: tuple[str, ...]
    #: Each sheet's name and relationship id (None: it names none).
    relationship_ids: tuple[tuple[str, str | None], ...]
    hidden: tuple[str, ...]
    date1904: bool


#: What workbook parts say of their sheets, by their bytes: every workbook of a template says
#: the same.
_WORKBOOK_SHEETS: PartMemo[bytes, _WorkbookSheets] = PartMemo(limit=16, largest=1 << 16)


def _workbook_sheets(path: Path, parts: InflatedParts, name: str) -> _WorkbookSheets:
    data = read_part(path, parts, name)
    if data is None:
        return _WorkbookSheets((), (), (), False)
    known = _WORKBOOK_SHEETS.get(data)
    if known is not None:
        return known
    order: list[str] = []
    relationship_ids: list[tuple[str, str | None]] = []
    hidden: list[str] = []
    date1904 = False
    for element in parse_xml(path, name, data).iter():
        if local_name(element.tag) == "workbookPr":
            date1904 = element.get("date1904") in ("1", "true")
        if local_name(element.tag) != "sheet" or not element.get("name"):
            continue
        sheet = element.get("name", "")
        rel_id = element.get(f"{{{_RELATIONSHIP_NS}}}id") or next(
            (v for k, v in element.attrib.items() if local_name(k) == "id"), None
        )
        order.append(sheet)
        relationship_ids.append((sheet, rel_id))
        if element.get("state", "visible") != "visible":
            hidden.append(sheet)
    known = _WorkbookSheets(tuple(order), tuple(relationship_ids), tuple(hidden), date1904)
    _WORKBOOK_SHEETS.keep(data, known, len(data))
    return known


#: What docProps/app.xml parts say, by their bytes: the workbooks of one template were mostly
#: saved by one app.
_APP_PROPERTIES: PartMemo[bytes, dict[str, str]] = PartMemo(limit=8, largest=1 << 16)


def app_properties(path: Path, parts: InflatedParts, name: str | None) -> dict[str, str]:
    """What the part ``name`` (docProps/app.xml, None if absent) says: element name → text. The
    dict may be shared with other callers reading the same bytes: it must not be changed.

    Raises:
        WorkbookError: the part is damaged, or declares a DTD or entities.
    """
    data = read_part(path, parts, name)
    if data is None or name is None:
        return {}
    values = _APP_PROPERTIES.get(data)
    if values is None:
        root = parse_xml(path, name, data)
        values = {local_name(e.tag): (e.text or "").strip() for e in root.iter()}
        _APP_PROPERTIES.keep(data, values, len(data))
    return values


def application_name(values: dict[str, str], properties: dict[str, str]) -> str | None:
    """Which app last saved the file, from what docProps/app.xml says (``app_properties``), with
    WPS's build number when present."""
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


def custom_properties(custom: Element | None) -> dict[str, str]:
    properties: dict[str, str] = {}
    for prop in custom if custom is not None else ():
        name = prop.get("name")
        if name is not None:
            properties[name] = "".join(prop.itertext()).strip()
    return properties
