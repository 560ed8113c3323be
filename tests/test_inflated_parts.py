"""Each part of a workbook package is inflated at most once per verification, within a budget:
the package check keeps the small parts it read, the sheet scan and the annotator take them."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, FillWorkbook
from xlcheck import VerifyOptions, inflated_parts, package_parts, verify_workbook
from xlcheck.errors import WorkbookError
from xlcheck.inflated_parts import InflatedParts
from xlcheck.package import inspect_package
from xlcheck.part_memo import PartMemo


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _parts(data: bytes) -> InflatedParts:
    return InflatedParts(zipfile.ZipFile(io.BytesIO(data)), data)


def test_inflated_parts_keep_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inflated_parts, "HELD_BYTES", 250)
    monkeypatch.setattr(inflated_parts, "HELD_PART_BYTES", 200)
    parts = _parts(
        _zip({"a.xml": b"a" * 150, "b.xml": b"b" * 150, "c.xml": b"c" * 90, "d.xml": b"d" * 201})
    )
    assert parts.read("a.xml") == b"a" * 150
    assert parts.read("b.xml") == b"b" * 150  # past the budget: read, not kept
    assert parts.read("c.xml") == b"c" * 90
    assert parts.read("d.xml") == b"d" * 201  # larger than a part may be
    assert set(parts.held) == {"a.xml", "c.xml"}
    with parts.open("b.xml") as stream:
        assert isinstance(stream, zipfile.ZipExtFile)
        assert stream.read() == b"b" * 150
    with parts.open("a.xml") as stream:
        assert stream.read() == b"a" * 150


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count every inflation of a zip entry, by entry name: through ``zipfile`` (``ZipFile.read``
    opens too) or straight from the file's bytes (``InflatedParts.inflate``)."""
    opened: Counter[str] = Counter()
    real_open = zipfile.ZipFile.open
    real_inflate = InflatedParts.inflate

    def counting_open(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened[name.filename if isinstance(name, zipfile.ZipInfo) else name] += 1
        return real_open(self, name, *args, **kwargs)

    def counting_inflate(info: zipfile.ZipInfo, compressed: bytes) -> bytes | None:
        opened[info.filename] += 1
        return real_inflate(info, compressed)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    monkeypatch.setattr(InflatedParts, "inflate", staticmethod(counting_inflate))
    return opened


def test_verify_inflates_each_part_at_most_once(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})  # a finding: a sheet is marked
    with zipfile.ZipFile(path) as archive:
        entries = set(archive.namelist())
    opened = _count_opens(monkeypatch)
    result = verify_workbook(path, options=VerifyOptions(output=tmp_path / "checked.xlsx"))
    assert result.findings and result.annotated is not None
    assert any(n.startswith("xl/worksheets/") for n in opened), opened  # the count saw the sheets
    assert set(opened) <= entries
    assert {name: count for name, count in opened.items() if count > 1} == {}


def test_verify_gives_the_same_copy_with_no_part_kept(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts past the budget are streamed from the zip as before: same findings, same copy."""
    path = make_workbook(overrides={"score.petition_handling": 6})
    kept = verify_workbook(path, options=VerifyOptions(output=tmp_path / "kept.xlsx"))
    monkeypatch.setattr(inflated_parts, "HELD_BYTES", 0)
    parts = inspect_package(path).parts
    assert parts is not None and not parts.held
    streamed = verify_workbook(path, options=VerifyOptions(output=tmp_path / "streamed.xlsx"))
    assert streamed.findings == kept.findings
    assert (tmp_path / "streamed.xlsx").read_bytes() == (tmp_path / "kept.xlsx").read_bytes()


def _with_bad_crc(data: bytes, entry: str) -> bytes:
    """The package with the CRC of ``entry`` in its central directory off by one bit."""
    package = bytearray(data)
    at = package.find(b"PK\x01\x02")
    while at != -1:
        (name_length,) = struct.unpack_from("<H", package, at + 28)
        if package[at + 46 : at + 46 + name_length] == entry.encode():
            (crc,) = struct.unpack_from("<L", package, at + 16)
            struct.pack_into("<L", package, at + 16, crc ^ 1)
            return bytes(package)
        at = package.find(b"PK\x01\x02", at + 4)
    raise KeyError(entry)


@pytest.mark.parametrize(
    ("entry", "sentence"),
    [
        ("xl/workbook.xml", "the workbook's part xl/workbook.xml is damaged"),
        ("xl/_rels/workbook.xml.rels", "the workbook's part xl/_rels/workbook.xml.rels is damaged"),
        ("xl/worksheets/sheet1.xml", "the zip package is damaged and cannot be read (Bad CRC-32"),
        ("xl/styles.xml", "the zip package is damaged and cannot be read (Bad CRC-32"),
        ("docProps/custom.xml", "the zip package is damaged and cannot be read (Bad CRC-32"),
    ],
    ids=["workbook", "workbook-rels", "sheet", "styles", "custom-properties"],
)
def test_package_refuses_a_damaged_part_before_keeping_it(
    make_workbook: FillWorkbook, tmp_path: Path, entry: str, sentence: str
) -> None:
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(_with_bad_crc(make_workbook().read_bytes(), entry))
    with pytest.raises(WorkbookError) as caught:
        inspect_package(damaged)
    assert sentence in caught.value.render("en")


_ODD_NAME = "xl/名字.xml"


@pytest.mark.parametrize(
    ("method", "name", "content"),
    [
        (zipfile.ZIP_DEFLATED, "a.xml", b"<a>" + b"x" * 5000 + b"</a>"),
        (zipfile.ZIP_STORED, "a.xml", b"<a>stored</a>"),
        (zipfile.ZIP_DEFLATED, "a.xml", b""),
        (zipfile.ZIP_STORED, "a.xml", b""),
        (zipfile.ZIP_DEFLATED, _ODD_NAME, b"<a/>"),
    ],
    ids=["deflated", "stored", "empty-deflated", "empty-stored", "utf8-name"],
)
def test_inflated_parts_read_what_zipfile_reads(method: int, name: str, content: bytes) -> None:
    data = _zip({name: content}, method)
    parts = _parts(data)
    assert parts.read(name) == zipfile.ZipFile(io.BytesIO(data)).read(name) == content


def _damage(data: bytes, damage: str) -> bytes:
    """A one-entry package with its local header or data changed as ``damage`` says."""
    package = bytearray(data)
    if damage == "local-name":
        package[30] ^= 1  # the name's first byte, in the local header only
    elif damage == "signature":
        package[0] = ord("Q")
    elif damage == "stream":
        (name_length, extra_length) = struct.unpack_from("<HH", package, 26)
        start = 30 + name_length + extra_length
        package[start : start + 4] = b"\xff\xff\xff\xff"
    elif damage == "size":
        # The central directory declares one byte fewer than the entry inflates to.
        at = package.find(b"PK\x01\x02")
        (size,) = struct.unpack_from("<L", package, at + 24)
        struct.pack_into("<L", package, at + 24, size - 1)
    elif damage == "crc":
        at = package.find(b"PK\x01\x02")
        (crc,) = struct.unpack_from("<L", package, at + 16)
        struct.pack_into("<L", package, at + 16, crc ^ 1)
    return bytes(package)


@pytest.mark.parametrize("damage", ["local-name", "signature", "stream", "size", "crc"], ids=str)
def test_inflated_parts_leave_a_damaged_entry_to_zipfile(damage: str) -> None:
    """Whatever ``zipfile`` raises (or reads) for an odd entry, ``InflatedParts`` does too."""
    data = _damage(_zip({"a.xml": b"<a>" + bytes(range(256)) * 20 + b"</a>"}), damage)
    archive = zipfile.ZipFile(io.BytesIO(data))
    try:
        expected: bytes | str = archive.read("a.xml")
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        expected = f"{type(exc).__name__}: {exc}"
    try:
        read: bytes | str = _parts(data).read("a.xml")
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        read = f"{type(exc).__name__}: {exc}"
    assert read == expected
    assert not isinstance(read, bytes) or damage == "size"


def test_package_refuses_a_damaged_copy_of_a_part_checked_before(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """A part's compressed bytes seen before in a sound workbook, with another CRC: refused."""
    source = make_workbook()
    inspect_package(source)
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(_with_bad_crc(source.read_bytes(), "xl/styles.xml"))
    with pytest.raises(WorkbookError) as caught:
        inspect_package(damaged)
    assert "(Bad CRC-32 for file 'xl/styles.xml')" in caught.value.render("en")


def test_package_remembers_no_sheet_or_shared_strings() -> None:
    """Parts each unit fills in are not remembered across workbooks, lest they crowd out those
    every workbook of a template shares."""
    package = inspect_package(EXAMPLES / "zhanjiang-xinfang-2023.xlsx")
    parts = package.parts
    assert parts is not None
    remembered = {key[0] for key in package_parts._WITHOUT_DECLARATIONS}
    assert parts.compressed(parts.archive.getinfo("xl/styles.xml")) in remembered
    filled = [*package.sheet_parts.values(), "xl/sharedStrings.xml"]
    assert "xl/sharedStrings.xml" in parts.archive.NameToInfo
    for entry in filled:
        assert parts.compressed(parts.archive.getinfo(entry)) not in remembered


def _deflated_with_a_tail(name: str, content: bytes, tail: bytes) -> bytes:
    """A one-entry package whose deflated data runs on past the stream's end (``tail``), which
    ``zipfile`` ignores: the entry is stored, then relabelled as deflated, of its true size."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    stream = compressor.compress(content) + compressor.flush()
    package = bytearray(_zip({name: stream + tail}, zipfile.ZIP_STORED))
    for signature, method_at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = package.find(signature)
        struct.pack_into("<H", package, at + method_at, zipfile.ZIP_DEFLATED)
        struct.pack_into("<L", package, at + method_at + 6, zlib.crc32(content))
        struct.pack_into("<L", package, at + method_at + 14, len(content))
    return bytes(package)


def test_package_parts_remember_no_part_past_their_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small part whose compressed bytes are large is read, and not remembered."""
    remembered: PartMemo[Any, bytes] = PartMemo(limit=64, largest=1 << 16)
    monkeypatch.setattr(package_parts, "_WITHOUT_DECLARATIONS", remembered)
    content = b'<?xml version="1.0"?><a/>'
    for tail, count in ((b"\0" * (1 << 16), 0), (b"\0" * 16, 1)):
        parts = _parts(_deflated_with_a_tail("docProps/extra.xml", content, tail))
        infos = parts.archive.infolist()
        package_parts.scan_parts(parts, infos, sheet_entries=(), shared_strings=None)
        assert parts.read("docProps/extra.xml") == content
        assert len(remembered) == count
