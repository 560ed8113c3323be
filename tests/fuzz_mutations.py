"""Deterministic mutations of valid workbooks at the byte, zip and XML level, for tests/test_fuzz.py."""

from __future__ import annotations

import io
import random
import re
import warnings
import zipfile
from collections.abc import Callable

Entries = list[tuple[str, bytes]]

_XML_PARTS = re.compile(
    r"(sheet\d*\.xml|workbook\.xml|styles\.xml|sharedStrings\.xml|custom\.xml|app\.xml|core\.xml|\.rels|Content_Types\]\.xml)$"
)
_TAG = re.compile(rb"<[^<>]{1,200}>")
_ATTRIBUTE_VALUE = re.compile(rb'="[^"]{0,40}"')
_NUMBER = re.compile(rb"(?<=<v>)[^<]{1,40}(?=</v>)")
_CELL_REF = re.compile(rb'(?<= r=")[A-Z]{1,3}[0-9]{1,7}(?=")')
_NASTY_VALUES = (
    b"",
    b"-1",
    b"0",
    b"9e999",
    b"NaN",
    b"1048577",
    b"XFD1048577",
    b"ZZZZ1",
    b"A0",
    b"&#0;",
    b"&bogus;",
    b"\xff\xfe",
    b"=cmd|' /C calc'!A0",
    b"#REF!",
    b"2147483648",
    b"-0",
    b"1e-400",
    "长".encode() * 50,
)


def read_entries(data: bytes) -> Entries:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info.filename)) for info in archive.infolist()]


def write_entries(entries: Entries) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is the point of one mutation
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in entries:
                archive.writestr(name, content)
    return buffer.getvalue()


def _flip_bytes(rng: random.Random, data: bytes) -> bytes:
    mutable = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(mutable))
        mutable[position] = rng.randrange(256)
    return bytes(mutable)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def _pick_xml(rng: random.Random, entries: Entries) -> int:
    candidates = [i for i, (name, _) in enumerate(entries) if _XML_PARTS.search(name)]
    return rng.choice(candidates or list(range(len(entries))))


def _mangle_xml(rng: random.Random, content: bytes) -> bytes:
    how = rng.randrange(10)
    if how == 0 and content:
        return content[: rng.randrange(len(content))]
    tags = list(_TAG.finditer(content))
    if how == 1 and tags:
        tag = rng.choice(tags)
        return content[: tag.start()] + content[tag.end() :]
    if how == 2 and tags:
        tag = rng.choice(tags)
        return content[: tag.start()] + tag.group(0) * 2 + content[tag.end() :]
    values = list(_ATTRIBUTE_VALUE.finditer(content))
    if how == 3 and values:
        value = rng.choice(values)
        return (
            content[: value.start()]
            + b'="'
            + rng.choice(_NASTY_VALUES)
            + b'"'
            + content[value.end() :]
        )
    numbers = list(_NUMBER.finditer(content))
    if how == 4 and numbers:
        number = rng.choice(numbers)
        return content[: number.start()] + rng.choice(_NASTY_VALUES) + content[number.end() :]
    refs = list(_CELL_REF.finditer(content))
    if how == 5 and refs:
        ref = rng.choice(refs)
        return (
            content[: ref.start()]
            + rng.choice((b"XFD1048576", b"A1048576", b"B1", b"A0", b"AAAA1"))
            + content[ref.end() :]
        )
    if how == 6:
        return b""
    if how == 7 and content:
        position = rng.randrange(len(content))
        return (
            content[:position]
            + rng.choice((b"<", b"&", b"]]>", b"<x:", b"\x00", b"</worksheet>"))
            + content[position:]
        )
    if how == 8:
        return (
            content.replace(b"UTF-8", b"UTF-16", 1)
            if b"UTF-8" in content
            else content.replace(b"<", b"<x:", 3)
        )
    return _flip_bytes(rng, content) if content else content


def _entry_level(rng: random.Random, data: bytes) -> bytes:
    entries = read_entries(data)
    how = rng.randrange(5)
    if how == 0:
        del entries[rng.randrange(len(entries))]
    elif how == 1:
        entries.append(entries[rng.randrange(len(entries))])
    elif how == 2:
        index = _pick_xml(rng, entries)
        entries.insert(
            rng.randrange(len(entries)), (entries[index][0], _mangle_xml(rng, entries[index][1]))
        )
    elif how == 3:
        first, second = rng.sample(range(len(entries)), 2)
        entries[first] = (entries[first][0], entries[second][1])
    else:
        index = _pick_xml(rng, entries)
        entries[index] = (entries[index][0].replace("/", "\\"), entries[index][1])
    return write_entries(entries)


def _xml_level(rng: random.Random, data: bytes) -> bytes:
    entries = read_entries(data)
    for _ in range(rng.randint(1, 3)):
        index = _pick_xml(rng, entries)
        entries[index] = (entries[index][0], _mangle_xml(rng, entries[index][1]))
    return write_entries(entries)


MUTATORS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip-bytes": _flip_bytes,
    "truncate": _truncate,
    "zip-entries": _entry_level,
    "xml": _xml_level,
}
#: How often each mutator is drawn: most cases must get past the zip layer to test the parsers.
WEIGHTS = {"flip-bytes": 1, "truncate": 1, "zip-entries": 2, "xml": 6}


def mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """One mutation of ``data``: its mutator's name and the bytes."""
    name = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    return name, MUTATORS[name](rng, data)
