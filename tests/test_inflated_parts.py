"""Each part of a workbook package is inflated at most once per verification, within a budget:
the package check keeps the small parts it read, the sheet scan and the annotator take them."""

from __future__ import annotations

import io
import struct
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FillWorkbook
from xlcheck import VerifyOptions, inflated_parts, verify_workbook
from xlcheck.errors import WorkbookError
from xlcheck.inflated_parts import InflatedParts
from xlcheck.package import inspect_package


def _archive(entries: dict[str, bytes]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def test_inflated_parts_keep_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inflated_parts, "HELD_BYTES", 250)
    monkeypatch.setattr(inflated_parts, "HELD_PART_BYTES", 200)
    parts = InflatedParts(
        _archive(
            {"a.xml": b"a" * 150, "b.xml": b"b" * 150, "c.xml": b"c" * 90, "d.xml": b"d" * 201}
        )
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
    """Count every inflation of a zip entry, by entry name (``ZipFile.read`` opens too)."""
    opened: Counter[str] = Counter()
    real_open = zipfile.ZipFile.open

    def counting_open(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened[name.filename if isinstance(name, zipfile.ZipInfo) else name] += 1
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
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
