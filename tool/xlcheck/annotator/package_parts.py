"""Relationship parts, the content types part and part names: the package's wiring.

These parts are tiny and hold no markup compatibility attributes, so they are read with the
hardened parser and written anew from what was read (every relationship and content type kept).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from xlcheck.annotator.xml_parts import as_utf8, escape_attribute, parse
from xlcheck.part_memo import PartMemo
from xlcheck.records import record

_RELATIONSHIPS_NAMESPACE = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES_NAMESPACE = "http://schemas.openxmlformats.org/package/2006/content-types"
RELATIONSHIP_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET = f"{RELATIONSHIP_TYPES}/worksheet"
COMMENTS = f"{RELATIONSHIP_TYPES}/comments"
VML_DRAWING = f"{RELATIONSHIP_TYPES}/vmlDrawing"
STYLES = f"{RELATIONSHIP_TYPES}/styles"
OFFICE_DOCUMENT = f"{RELATIONSHIP_TYPES}/officeDocument"
VBA_PROJECT = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"

_SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
WORKSHEET_TYPE = f"{_SPREADSHEETML}.worksheet+xml"
COMMENTS_TYPE = f"{_SPREADSHEETML}.comments+xml"
STYLES_TYPE = f"{_SPREADSHEETML}.styles+xml"
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
VBA_TYPE = "application/vnd.ms-office.vbaProject"
#: The workbook part's content type must agree with the file's extension, or Excel refuses it.
MAIN_TYPES = {
    ".xlsx": f"{_SPREADSHEETML}.sheet.main+xml",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ".xltx": f"{_SPREADSHEETML}.template.main+xml",
    ".xltm": "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
MACRO_SUFFIXES = frozenset({".xlsm", ".xltm"})


def rels_name(part: str) -> str:
    """The relationships part of ``part``: ``xl/_rels/workbook.xml.rels`` for ``xl/workbook.xml``."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def resolve(source_part: str, target: str) -> str:
    """The part a relationship of ``source_part`` points to, as a zip entry name."""
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def relative(source_part: str, part: str) -> str:
    """A relationship target from ``source_part`` to ``part``."""
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


@record
class Relationship:
    id: str
    type: str
    target: str
    external: bool = False


#: Relationships parts and content types as read, by their bytes, and as written, by what they
#: hold: the workbooks of one template share them, and their copies write the same ones (the
#: workbook's relationships with the results sheet added, the content types with its part), so
#: a batch worker parses, escapes and joins each once (0.5 M instructions a copy for the content
#: types, 0.35 M for the workbook's relationships, callgrind).
_READ_RELATIONSHIPS: PartMemo[bytes, tuple[Relationship, ...]] = PartMemo(limit=64, largest=1 << 16)
_WRITTEN_RELATIONSHIPS: PartMemo[tuple[Relationship, ...], bytes] = PartMemo(
    limit=64, largest=1 << 16
)
_Pairs = tuple[tuple[str, str], ...]
_READ_TYPES: PartMemo[bytes, tuple[dict[str, str], dict[str, str]]] = PartMemo(
    limit=64, largest=1 << 16
)
_WRITTEN_TYPES: PartMemo[tuple[_Pairs, _Pairs], bytes] = PartMemo(limit=64, largest=1 << 16)


@dataclass
class Relationships:
    """A relationships part: every relationship kept, in order."""

    items: list[Relationship] = field(default_factory=list)
    #: Whether a relationship was added or removed since the part was read.
    changed: bool = False

    @classmethod
    def read(cls, data: bytes | None) -> Relationships:
        if data is None:
            return cls()
        items = _READ_RELATIONSHIPS.get(data)
        if items is None:
            items = tuple(
                Relationship(
                    e.attributes.get("Id", ""),
                    e.attributes.get("Type", ""),
                    e.attributes.get("Target", ""),
                    e.attributes.get("TargetMode", "").lower() == "external",
                )
                for e in parse(as_utf8(data), depth=1).all("Relationship")
            )
            _READ_RELATIONSHIPS.keep(data, items, len(data))
        return cls(list(items))

    def by_id(self, relationship_id: str) -> Relationship | None:
        return next((r for r in self.items if r.id == relationship_id), None)

    def of_type(self, relationship_type: str) -> list[Relationship]:
        # Strict Open XML uses purl.oclc.org types with the same last segment.
        name = relationship_type.rsplit("/", 1)[-1]
        return [r for r in self.items if r.type.rsplit("/", 1)[-1] == name]

    def add(self, relationship_type: str, target: str) -> str:
        """Add a relationship under a new id; the id."""
        taken = {r.id for r in self.items}
        number = len(self.items) + 1
        while f"rId{number}" in taken:
            number += 1
        self.items.append(Relationship(f"rId{number}", relationship_type, target))
        self.changed = True
        return f"rId{number}"

    def remove(self, relationship_id: str) -> None:
        self.changed = self.changed or any(r.id == relationship_id for r in self.items)
        self.items = [r for r in self.items if r.id != relationship_id]

    def to_bytes(self) -> bytes:
        return _WRITTEN_RELATIONSHIPS.recall(tuple(self.items), self._written, len)

    def _written(self) -> bytes:
        lines = [
            f'<Relationship Id="{escape_attribute(r.id)}" Type="{escape_attribute(r.type)}" '
            f'Target="{escape_attribute(r.target)}"'
            + (' TargetMode="External"' if r.external else "")
            + "/>"
            for r in self.items
        ]
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_RELATIONSHIPS_NAMESPACE}">{"".join(lines)}</Relationships>'
        ).encode()


@dataclass
class ContentTypes:
    """``[Content_Types].xml``: defaults by extension and overrides by part name."""

    defaults: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, data: bytes) -> ContentTypes:
        read = _READ_TYPES.get(data)
        if read is None:
            root = parse(as_utf8(data), depth=1)
            defaults = {
                e.attributes.get("Extension", "").lower(): e.attributes.get("ContentType", "")
                for e in root.all("Default")
            }
            overrides = {
                _part_key(e.attributes.get("PartName", "")): e.attributes.get("ContentType", "")
                for e in root.all("Override")
            }
            read = (defaults, overrides)
            _READ_TYPES.keep(data, read, len(data))
        return cls(dict(read[0]), dict(read[1]))

    def type_of(self, part: str) -> str | None:
        key = _part_key(part)
        if key in self.overrides:
            return self.overrides[key]
        return self.defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())

    def set(self, part: str, content_type: str) -> None:
        self.overrides[_part_key(part)] = content_type

    def remove(self, part: str) -> None:
        self.overrides.pop(_part_key(part), None)

    def to_bytes(self) -> bytes:
        key = (tuple(self.defaults.items()), tuple(self.overrides.items()))
        return _WRITTEN_TYPES.recall(key, self._written, len)

    def _written(self) -> bytes:
        defaults = "".join(
            f'<Default Extension="{escape_attribute(e)}" ContentType="{escape_attribute(t)}"/>'
            for e, t in self.defaults.items()
        )
        overrides = "".join(
            f'<Override PartName="{escape_attribute(p)}" ContentType="{escape_attribute(t)}"/>'
            for p, t in self.overrides.items()
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{_CONTENT_TYPES_NAMESPACE}">{defaults}{overrides}</Types>'
        ).encode()


def _part_key(name: str) -> str:
    """A part name as ``[Content_Types].xml`` writes it: '/'-rooted (compared as written)."""
    name = name.replace("\\", "/")
    return name if name.startswith("/") else f"/{name}"
