"""Fixture builders: valid workbooks rewritten at the zip and XML level into what units really send."""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import quoteattr

Rewrite = Callable[[str, bytes], bytes | None]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewrite_package(
    source: Path,
    target: Path,
    rewrite: Rewrite | None = None,
    *,
    extra: dict[str, bytes] | None = None,
    rename: Callable[[str], str] | None = None,
) -> Path:
    """Copy a zip package entry by entry; ``rewrite(name, data)`` returns new bytes or None to drop."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            original = zin.read(info.filename)
            data = rewrite(info.filename, original) if rewrite is not None else original
            if data is None:
                continue
            zout.writestr(rename(info.filename) if rename else info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return target


def sheet_entry(source: Path, sheet_name: str) -> str:
    """The zip entry of a sheet, found through workbook.xml and its relationships."""
    with zipfile.ZipFile(source) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    match = re.search(rf'<sheet [^>]*name="{re.escape(sheet_name)}"[^>]*r:id="([^"]+)"', workbook)
    assert match, sheet_name
    target = re.search(rf'<Relationship [^>]*Id="{match.group(1)}"[^>]*Target="([^"]+)"', rels)
    if target is None:
        target = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{match.group(1)}"', rels)
    assert target
    name = target.group(1).lstrip("/")
    return name if name.startswith("xl/") else f"xl/{name}"


def add_far_cell(source: Path, target: Path, sheet_name: str, cell_ref: str = "XFD1048576") -> Path:
    """A stray value at ``cell_ref`` and a dimension claiming the whole grid."""
    entry = sheet_entry(source, sheet_name)
    row = re.sub(r"[A-Z]", "", cell_ref)

    def rewrite(name: str, data: bytes) -> bytes:
        if name != entry:
            return data
        data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
        far = f'<row r="{row}"><c r="{cell_ref}" t="n"><v>1</v></c></row></sheetData>'.encode()
        return data.replace(b"</sheetData>", far, 1)

    return rewrite_package(source, target, rewrite)


def billion_laughs(levels: int = 9) -> bytes:
    """The classic entity-expansion document: a few hundred bytes that expand to gigabytes."""
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(entities) + "]>"
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol{levels};</t></si></sst>'
    ).encode()


def zip_bomb(target: Path, size: int = 300 * 1024 * 1024) -> Path:
    """A package whose one sheet entry inflates to ``size`` bytes of zeros (written in chunks)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            chunk = b"\0" * (1 << 20)
            for _ in range(size // len(chunk)):
                stream.write(chunk)
    return target


def fake_ole(target: Path, *, encrypted: bool) -> Path:
    """An OLE compound file header plus the directory names that tell its kind apart."""
    names = ("EncryptionInfo", "EncryptedPackage") if encrypted else ("Workbook",)
    body = b"".join(n.encode("utf-16-le") + b"\0\0" for n in names)
    target.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + body + b"\0" * 1024)
    return target


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"


def minimal_package(
    target: Path,
    sheet_data: str,
    *,
    number_formats: dict[int, str] | None = None,
    cell_formats: list[int] | None = None,
    shared_strings: str | None = None,
    date1904: bool = False,
    sheet_xml: str | None = None,
) -> Path:
    """A package with one sheet "S" holding ``sheet_data`` (the ``<sheetData>``'s rows, as
    XML): ``cell_formats`` lists each cell format's ``numFmtId`` (a cell's ``s`` indexes it),
    ``number_formats`` the custom formats by id, ``shared_strings`` the ``<si>`` elements.
    ``sheet_xml`` replaces the whole sheet part (then ``sheet_data`` is not used)."""
    custom = "".join(
        f"<numFmt numFmtId={quoteattr(str(i))} formatCode={quoteattr(code)}/>"
        for i, code in (number_formats or {}).items()
    )
    xfs = "".join(f'<xf numFmtId="{i}"/>' for i in cell_formats or [0])
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
            + ('<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>")
            + '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{_RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{_MAIN}">'
            f"<numFmts>{custom}</numFmts><cellXfs>{xfs}</cellXfs></styleSheet>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml
        or (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'
            f"<sheetData>{sheet_data}</sheetData></worksheet>"
        ),
    }
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">{shared_strings}</sst>'
        )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode("utf-8"))
    return target
