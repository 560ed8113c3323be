"""Package XML read with a hardened parser and edited in place, byte range by byte range.

Re-serialising a part through a DOM renames namespace prefixes (which breaks ``mc:Ignorable``
and makes Excel offer a repair) and rewrites everything the marks have no reason to touch. So a
part is parsed once with expat, which reports where each element starts (``CurrentByteIndex``),
and the marks splice new bytes into the original at those offsets. The parser refuses any DTD,
entity declaration or external entity, as ``defusedxml`` does.
"""

from __future__ import annotations

import re
import xml.parsers.expat as expat
from collections.abc import Iterable
from dataclasses import dataclass, field

from xlcheck.part_memo import PartMemo

MAIN_NAMESPACES = frozenset(
    {
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "http://purl.oclc.org/ooxml/spreadsheetml/main",  # Strict Open XML
    }
)
RELATIONSHIP_NAMESPACE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ENCODING_DECLARATION = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])([A-Za-z0-9._-]+)\2")
#: The rest of a start tag from just after '<': attribute values may hold '>' inside quotes.
_TAG_REST = re.compile(rb"(?:[^>\"']+|\"[^\"]*\"|'[^']*')*>")
_ATTRIBUTE = re.compile(rb"\s([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
# Characters XML 1.0 cannot carry; OOXML writes them as _xHHHH_ (and a literal "_xHHHH_" as
# "_x005F_xHHHH_", so it is not read back as an escape).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


class XmlPartError(Exception):
    """A package part that is not well-formed XML, or that declares a DTD or entities."""


@dataclass
class Element:
    """Where one element sits in its part: ``start`` is its '<', ``tag_end`` just after its start
    tag's '>', ``end`` just after its end tag (``tag_end == end`` for an empty element)."""

    name: str
    namespace: str
    attributes: dict[str, str]
    start: int
    tag_end: int
    end: int = -1
    #: The recorded elements inside this one, in document order.
    children: list[Element] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.tag_end == self.end

    def child(self, name: str) -> Element | None:
        return next((c for c in self.children if c.name == name), None)

    def all(self, name: str) -> list[Element]:
        return [c for c in self.children if c.name == name]


def as_utf8(data: bytes) -> bytes:
    """The part in UTF-8 (offsets are spliced in bytes, and everything written here is UTF-8)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
        return _ENCODING_DECLARATION.sub(rb"\1\2UTF-8\2", text.encode("utf-8"), count=1)
    declared = _ENCODING_DECLARATION.match(data)
    if declared is None or declared.group(3).lower() in (b"utf-8", b"utf8"):
        return data
    try:
        text = data.decode(declared.group(3).decode("ascii"))
    except (LookupError, UnicodeDecodeError) as exc:
        raise XmlPartError(f"unreadable encoding {declared.group(3)!r}") from exc
    return _ENCODING_DECLARATION.sub(rb"\1\2UTF-8\2", text.encode("utf-8"), count=1)


def _refuse(*_args: object) -> None:
    raise XmlPartError("DTD or entity declaration")


def _hardened_parser() -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse  # type: ignore[assignment]
    return parser


def check_well_formed(data: bytes) -> None:
    """Parse ``data`` (no DTD, no entities) without building anything: C speed.

    Raises:
        XmlPartError: malformed XML, a DTD, or an entity declaration or reference.
    """
    try:
        _hardened_parser().Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlPartError(str(exc)) from exc


def shift(element: Element, after: int, delta: int) -> None:
    """Move every offset past ``after`` by ``delta`` (an element parsed from a part with a cut)."""
    element.start += delta if element.start > after else 0
    element.tag_end += delta if element.tag_end > after else 0
    element.end += delta if element.end > after else 0
    for child in element.children:
        shift(child, after, delta)


def parse(data: bytes, depth: int, keep: Iterable[str] = ()) -> Element:
    """The root element of ``data`` with its descendants down to ``depth`` levels recorded.

    Below ``depth``, only elements named in ``keep`` are recorded (with their ancestors within
    ``depth``); the parser still checks everything. Depth 1 is the root's children.

    Raises:
        XmlPartError: malformed XML, a DTD, or an entity declaration or reference.
    """
    kept = frozenset(keep)
    parser = _hardened_parser()
    stack: list[Element | None] = []
    root: list[Element] = []
    tag_rest = _TAG_REST.match

    def start(name: str, attributes: dict[str, str]) -> None:
        level = len(stack)
        parent = stack[-1] if stack else None
        namespace, _, local = name.rpartition(" ")
        if level and (parent is None or (level > depth and local not in kept)):
            stack.append(None)
            return
        offset = parser.CurrentByteIndex
        rest = tag_rest(data, offset + 1)
        if rest is None:
            raise XmlPartError(f"unterminated start tag at {offset}")
        element = Element(local, namespace, attributes, offset, rest.end())
        if parent is not None:
            parent.children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(_name: str) -> None:
        element = stack.pop()
        if element is None:
            return
        offset = parser.CurrentByteIndex
        if offset == element.tag_end and data[offset - 2 : offset] == b"/>":
            element.end = offset
        else:
            close = data.find(b">", offset)
            element.end = close + 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlPartError(str(exc)) from exc
    if not root:
        raise XmlPartError("no root element")
    return root[0]


#: Trees parsed for reading only, by (bytes, depth, names kept): the workbooks of one template
#: share their content types, relationships, workbook part and sheets' heads, so a batch worker
#: parses each once.
_SHARED: PartMemo[tuple[bytes, int, frozenset[str]], Element] = PartMemo(limit=64, largest=1 << 16)


def parse_shared(data: bytes, depth: int, keep: Iterable[str] = ()) -> Element:
    """``parse``, remembered: every caller parsing the same bytes gets the same tree, which must
    therefore never be changed (``shift`` changes one: such a tree comes from ``parse``).

    Raises:
        XmlPartError: malformed XML, a DTD, or an entity declaration or reference.
    """
    key = (data, depth, frozenset(keep))
    root = _SHARED.get(key)
    if root is None:
        root = parse(data, depth, keep)
        _SHARED.keep(key, root, len(data))
    return root


def prefix_of(data: bytes, element: Element) -> str:
    """The namespace prefix the part uses for ``element`` (``"x:"``, or ``""`` for the default)."""
    tag = data[element.start + 1 : element.tag_end]
    name = re.match(rb"[^\s/>]+", tag)
    qualified = name.group(0).decode("utf-8") if name else ""
    return qualified[: qualified.index(":") + 1] if ":" in qualified else ""


def start_tag(data: bytes, element: Element) -> bytes:
    return data[element.start : element.tag_end]


def with_attributes(tag: bytes, changes: dict[str, str | None]) -> bytes:
    """A raw start tag with attributes set (value) or removed (None), everything else as it was."""
    remaining = dict(changes)

    def replace(match: re.Match[bytes]) -> bytes:
        name = match.group(1).decode("utf-8")
        if name not in remaining:
            return match.group(0)
        value = remaining.pop(name)
        return b"" if value is None else f' {name}="{escape_attribute(value)}"'.encode()

    head = re.match(rb"<[^\s/>]+", tag)
    assert head is not None
    body = _ATTRIBUTE.sub(replace, tag[head.end() :])
    added = "".join(
        f' {name}="{escape_attribute(value)}"'
        for name, value in remaining.items()
        if value is not None
    ).encode()
    closing = b"/>" if body.rstrip().endswith(b"/>") else b">"
    body = body.rstrip()[: -len(closing)].rstrip()
    return head.group(0) + body + added + closing


def opened(tag: bytes) -> bytes:
    """An empty element's start tag (``<x a="1"/>``) as an opening tag (``<x a="1">``)."""
    return tag[:-2].rstrip() + b">" if tag.endswith(b"/>") else tag


def _escape_illegal(text: str) -> str:
    return _NOT_XML.sub(
        lambda m: "_x005F_" if m.group(0) == "_" else f"_x{ord(m.group(0)):04X}_", text
    )


def escape_text(text: str) -> str:
    """Text for element content: XML escapes, and OOXML's ``_xHHHH_`` for characters XML cannot hold."""
    text = _escape_illegal(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(text: str) -> str:
    text = _escape_illegal(text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def splice(data: bytes, edits: Iterable[tuple[int, int, bytes]]) -> bytes:
    """``data`` with each (start, end) range replaced by new bytes; insertions have start == end.

    Edits at one offset are applied in the order given.
    """
    ordered = sorted(enumerate(edits), key=lambda item: (item[1][0], item[1][1], item[0]))
    pieces: list[bytes] = []
    position = 0
    for _, (start, end, replacement) in ordered:
        if start < position:
            raise ValueError(f"overlapping edits at {start}")
        pieces.append(data[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(data[position:])
    return b"".join(pieces)
