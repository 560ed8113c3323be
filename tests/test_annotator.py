"""The annotated copy at the package level: what it changes, what it keeps byte for byte, where it goes."""

from __future__ import annotations

import io
import os
import re
import stat
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.drawing.image import Image
from PIL import Image as PillowImage

from tests.annotated_copies import (
    annotate,
    changed_entries,
    finding,
    raw_entries,
    verified_copy,
)
from tests.conftest import FillWorkbook
from tests.package_builders import rewrite_package, sheet_entry
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.annotator import RESULTS_SHEET, annotate_workbook, xml_parts
from xlcheck.annotator.package_parts import WORKSHEET, ContentTypes, Relationships
from xlcheck.annotator.sheet_xml import frozen_as
from xlcheck.errors import WorkbookError
from xlcheck.findings import Finding, Severity, VerificationResult
from xlcheck.part_memo import PartMemo


def test_annotator_rewrites_only_what_the_marks_need(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})
    seal = tmp_path / "seal.png"
    PillowImage.new("RGB", (40, 40), "red").save(seal)
    book = openpyxl.load_workbook(path)
    book["基本信息"].add_image(Image(str(seal)), "D5")
    book.save(path)
    result = verified_copy(path, tmp_path / "copy.xlsx")
    assert result.annotated is not None
    changed, added, dropped = changed_entries(path, result.annotated)
    scoring, first = sheet_entry(path, "评分表"), sheet_entry(path, "基本信息")
    # 评分表 carries the marks; 基本信息 only loses its tab selection to the results sheet.
    assert changed == {
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        scoring,
        first,
    }
    assert not dropped
    assert {n for n in added if not n.startswith(("xl/comments", "xl/drawings/vmlDrawing"))} == {
        "xl/worksheets/xlcheck-results1.xml",
        scoring.replace("worksheets/", "worksheets/_rels/") + ".rels",
    }
    assert any(n.startswith("xl/media/") for n in raw_entries(result.annotated))


def test_annotator_keeps_values_and_formulas(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6, "exec_rate": 0.9993})
    result = verified_copy(path, tmp_path / "copy.xlsx")
    assert result.annotated is not None
    before = openpyxl.load_workbook(path)
    after = openpyxl.load_workbook(result.annotated)
    for name in before.sheetnames:
        assert [[c.value for c in row] for row in before[name].iter_rows()] == [
            [c.value for c in row] for row in after[name].iter_rows()
        ], name
    # The copy verifies to the same findings: marks change how cells look, not what they hold.
    again = verify_workbook(result.annotated, options=VerifyOptions(annotate=False))
    assert [(f.code, str(f.location)) for f in again.findings] == [
        (f.code, str(f.location)) for f in result.findings
    ]


def test_annotator_second_annotation_replaces_the_results_sheet(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})
    first = verified_copy(path, tmp_path / "first.xlsx").annotated
    assert first is not None
    second = verified_copy(first, tmp_path / "second.xlsx").annotated
    assert second is not None
    book = openpyxl.load_workbook(second)
    assert book.sheetnames.count(RESULTS_SHEET) == 1 and book.sheetnames[0] == RESULTS_SHEET
    assert len(book.sheetnames) == len(openpyxl.load_workbook(path).sheetnames) + 1
    cell = book["评分表"]["F25"]
    assert cell.number_format.count("✗") == 4  # one per section, not doubled
    assert cell.comment.text.count("score-above-weight") == 1
    with zipfile.ZipFile(second) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        assert len(re.findall(r"xlcheck-results", " ".join(archive.namelist()))) == 1
    local_ids = [int(n) for n in re.findall(r'localSheetId="(\d+)"', workbook)]
    assert sorted(set(local_ids)) == list(range(len(book.sheetnames)))
    assert local_ids.count(0) == 1
    for sheet in openpyxl.load_workbook(path).worksheets:
        assert book[sheet.title].print_title_rows == sheet.print_title_rows, sheet.title


def _x14_validation(source: Path, target: Path, sheet: str) -> tuple[Path, bytes]:
    entry = sheet_entry(source, sheet)
    extension = (
        b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        b'<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        b"<x14:dataValidation type=\"list\"><x14:formula1><xm:f>'\xe8\xaf\x84\xe5\x88\x86\xe8\xa1\xa8'!$A$1:$A$3</xm:f>"
        b"</x14:formula1><xm:sqref>B5</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>"
    )
    path = rewrite_package(
        source,
        target,
        lambda n, d: d.replace(b"</worksheet>", extension + b"</worksheet>") if n == entry else d,
    )
    return path, extension


def test_annotator_keeps_x14_validation(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    path, extension = _x14_validation(make_workbook(), tmp_path / "x14.xlsx", "基本信息")
    marked = annotate(path, [finding("基本信息", "B5")], tmp_path / "marked.xlsx")
    with zipfile.ZipFile(marked) as archive:
        assert extension in archive.read(sheet_entry(path, "基本信息"))
    untouched = annotate(path, [finding("数据表", "B5", sheet_index=1)], tmp_path / "other.xlsx")
    entry = sheet_entry(path, "基本信息")
    # Only the tab selection moves to the results sheet; the extension's bytes stay as written.
    with zipfile.ZipFile(untouched) as archive:
        assert extension in archive.read(entry)


def test_annotator_shifts_local_names_and_the_active_tab(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    source = tmp_path / "active.xlsx"
    book = openpyxl.load_workbook(make_workbook())
    book.active = 2
    for sheet in book.worksheets:
        sheet.print_area = "A1:C10"
    book.save(source)
    copy = annotate(source, [finding("评分表", "F25", sheet_index=3)], tmp_path / "copy.xlsx")
    after = openpyxl.load_workbook(copy)
    for sheet in openpyxl.load_workbook(source).worksheets:
        assert after[sheet.title].print_area == sheet.print_area, sheet.title
    assert after.active is not None and after.active.title == RESULTS_SHEET
    with zipfile.ZipFile(copy) as archive:
        selected = [
            n
            for n in archive.namelist()
            if n.startswith("xl/worksheets/")
            and n.endswith(".xml")
            and re.search(rb'tabSelected="(1|true)"', archive.read(n))
        ]
    assert selected == ["xl/worksheets/xlcheck-results1.xml"]


def test_annotator_restores_frozen_panes(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    source = tmp_path / "thawed.xlsx"
    book = openpyxl.load_workbook(make_workbook())
    for sheet in book.worksheets:
        sheet.freeze_panes = None
    book.save(source)
    frozen = {"基本信息": (3, 0), "项目支出": (3, 2), "评分表": (3, 3)}
    after = openpyxl.load_workbook(annotate(source, [], tmp_path / "copy.xlsx", frozen=frozen))
    assert after["基本信息"].freeze_panes == "A4"
    assert after["项目支出"].freeze_panes == "C4"
    assert after["评分表"].freeze_panes == "D4"
    assert after["数据表"].freeze_panes is None


def test_annotator_keeps_as_stored_a_sheet_already_frozen_as_wanted(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """A sheet without marks, frozen as the template wants and not selected, is not rewritten:
    its zip entry (compressed bytes and CRC) is copied as stored; a thawed one is rewritten."""
    source = make_workbook()
    parts = {sheet: sheet_entry(source, sheet) for sheet in ("基本信息", "项目支出", "评分表")}
    with zipfile.ZipFile(source) as archive:
        selected = {
            name
            for name in parts.values()
            if re.search(rb'tabSelected="(1|true)"', archive.read(name))
        }
    # 评分表 asked frozen elsewhere than the workbook has it: that one is rewritten.
    frozen = {"基本信息": (3, 0), "项目支出": (3, 2), "评分表": (5, 3)}
    copy = annotate(source, [], tmp_path / "copy.xlsx", frozen=frozen)
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(copy) as after:
        stored_alike = {
            sheet: (before.getinfo(name).CRC, before.getinfo(name).compress_size)
            == (after.getinfo(name).CRC, after.getinfo(name).compress_size)
            for sheet, name in parts.items()
        }
    expected = {sheet: sheet != "评分表" and name not in selected for sheet, name in parts.items()}
    assert stored_alike == expected
    assert True in expected.values()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            '<sheetViews><sheetView workbookViewId="0"><pane xSplit="2" ySplit="3" topLeftCell="C4" state="frozen"/></sheetView></sheetViews>',
            True,
        ),
        (
            "<x:sheetViews><x:sheetView><x:pane ySplit='3' xSplit='2.0' state='frozenSplit'/></x:sheetView></x:sheetViews>",
            True,
        ),
        (
            '<sheetViews><sheetView><pane xSplit="2" ySplit="3" state="split"/></sheetView></sheetViews>',
            False,
        ),
        (
            '<sheetViews><sheetView><pane ySplit="3" state="frozen"/></sheetView></sheetViews>',
            False,
        ),
        ('<sheetViews><sheetView workbookViewId="0"/></sheetViews>', False),
        (
            '<sheetViews><sheetView><pane xSplit="2" ySplit="3" state="frozen"/></sheetView><sheetView><pane xSplit="2" ySplit="3" state="frozen"/></sheetView></sheetViews>',
            False,
        ),
        (
            '<sheetViews><sheetView><!-- <pane xSplit="2" ySplit="3" state="frozen"/> --></sheetView></sheetViews>',
            False,
        ),
    ],
    ids=[
        "frozen",
        "prefixed-split",
        "split-not-frozen",
        "elsewhere",
        "no-pane",
        "two-views",
        "commented",
    ],
)
def test_frozen_as_is_sure_or_says_no(head: str, expected: bool) -> None:
    assert frozen_as(b'<worksheet xmlns:x="x">' + head.encode(), (3, 2)) is expected


def test_annotator_macros_leave_an_xlsx_copy_and_stay_in_an_xlsm_one(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    macro_type = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

    def add_macros(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":
            data = data.replace(b"sheet.main+xml", b"PLACEHOLDER").replace(
                b"application/vnd.openxmlformats-officedocument.spreadsheetml.PLACEHOLDER",
                macro_type.encode(),
            )
            return data.replace(
                b"</Types>",
                b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
            )
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
            )
        return data

    path = rewrite_package(
        make_workbook(),
        tmp_path / "macro.xlsm",
        add_macros,
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 vba"},
    )
    plain = annotate(path, [finding("数据表", "B5", sheet_index=1)], tmp_path / "copy.xlsx")
    with zipfile.ZipFile(plain) as archive:
        types = archive.read("[Content_Types].xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
        assert "xl/vbaProject.bin" not in archive.namelist()
    assert "macroEnabled" not in types and "vbaProject" not in types and "vbaProject" not in rels
    assert "spreadsheetml.sheet.main+xml" in types
    kept = annotate(path, [finding("数据表", "B5", sheet_index=1)], tmp_path / "copy.xlsm")
    with zipfile.ZipFile(kept) as archive:
        assert archive.read("xl/vbaProject.bin") == b"\xd0\xcf\x11\xe0 vba"
        assert macro_type in archive.read("[Content_Types].xml").decode()
    assert raw_entries(kept)["xl/vbaProject.bin"] == raw_entries(path)["xl/vbaProject.bin"]


@pytest.mark.parametrize(
    ("part", "poison"),
    [
        (
            "xl/styles.xml",
            b'<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY a "aaaa">]><styleSheet>&a;</styleSheet>',
        ),
        (
            "xl/workbook.xml",
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol;</workbook>',
        ),
    ],
    ids=["dtd-in-styles", "entity-in-workbook"],
)
def test_annotator_refuses_entities_in_the_parts_it_rewrites(
    make_workbook: FillWorkbook, tmp_path: Path, part: str, poison: bytes
) -> None:
    path = rewrite_package(
        make_workbook(), tmp_path / "poisoned.xlsx", lambda n, d: poison if n == part else d
    )
    result = VerificationResult(
        path=path, template=None, findings=(finding("数据表", "B5", sheet_index=1),)
    )
    with pytest.raises(WorkbookError, match="批注副本"):
        annotate_workbook(result, tmp_path / "copy.xlsx", source=path.read_bytes())
    assert not (tmp_path / "copy.xlsx").exists()


def test_annotator_writes_no_copy_of_a_legacy_xls(tmp_path: Path) -> None:
    legacy = tmp_path / "old.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    result = VerificationResult(path=legacy, template=None)
    assert (
        annotate_workbook(result, tmp_path / "old.checked.xlsx", source=legacy.read_bytes()) is None
    )


def test_annotator_copy_of_a_package_with_backslash_names_uses_slashes(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    source = make_workbook()
    path = rewrite_package(
        source, tmp_path / "backslash.xlsx", rename=lambda n: n.replace("/", "\\")
    )
    copy = annotate(path, [finding("数据表", "B5", sheet_index=1)], tmp_path / "copy.xlsx")
    assert all("\\" not in n for n in zipfile.ZipFile(copy).namelist())
    before = raw_entries(path)
    after = raw_entries(copy)
    assert after["xl/theme/theme1.xml"] == before["xl/theme/theme1.xml"]
    assert openpyxl.load_workbook(io.BytesIO(copy.read_bytes()))["数据表"]["B5"].comment is not None


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(),
    reason="needs /proc/self/fd (Linux) for a folder nobody can write",
)


@needs_proc
def test_annotator_read_only_input_folder_moves_the_copy_to_the_working_directory(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A workbook reached through /proc/self/fd/N sits in a folder where no file can be created,
    # not even by root (CI runs as root, which ignores chmod).
    path = make_workbook()
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    with path.open("rb") as handle:
        through_fd = Path(f"/proc/self/fd/{handle.fileno()}")
        result = verify_workbook(through_fd)
    assert result.annotated == here / f"{through_fd.name}.checked.xlsx"
    assert openpyxl.load_workbook(result.annotated).sheetnames[0] == RESULTS_SHEET


@needs_proc
def test_annotator_falls_back_to_a_folder_private_to_the_user(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()
    with path.open("rb") as handle:
        through_fd = Path(f"/proc/self/fd/{handle.fileno()}")
        monkeypatch.chdir("/proc/self/fd")  # the working directory cannot take it either
        result = verify_workbook(through_fd)
    assert result.annotated is not None and result.annotated.is_file()
    folder = result.annotated.parent
    assert folder == tmp_path / "temp" / f"xlcheck-{os.getuid()}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == os.getuid()


@needs_proc
def test_annotator_never_uses_a_fallback_folder_someone_else_prepared(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    planted = tmp_path / "temp" / f"xlcheck-{os.getuid()}"
    planted.mkdir(parents=True)
    planted.chmod(0o777)  # as another user would leave it: anyone may swap files inside
    if os.geteuid() == 0:
        os.chown(planted, 65534, 65534)  # and owned by nobody
    with path.open("rb") as handle:
        through_fd = Path(f"/proc/self/fd/{handle.fileno()}")
        monkeypatch.chdir("/proc/self/fd")
        result = verify_workbook(through_fd)
    assert result.annotated is not None and result.annotated.is_file()
    assert result.annotated.parent != planted and not any(planted.iterdir())
    status = result.annotated.parent.stat()
    assert stat.S_IMODE(status.st_mode) == 0o700 and status.st_uid == os.getuid()


def test_annotator_explicit_output_is_never_moved(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook()
    result = VerificationResult(path=path, template=None)
    with pytest.raises(WorkbookError, match="无法写入批注副本"):
        annotate_workbook(result, Path("/proc/self/fd/copy.xlsx"), source=path.read_bytes())


def test_annotator_refuses_to_write_onto_its_input(make_workbook: FillWorkbook) -> None:
    from xlcheck.output_files import OutputRefusedError

    path = make_workbook()
    result = VerificationResult(path=path, template=None)
    before = path.read_bytes()
    with pytest.raises(OutputRefusedError):
        annotate_workbook(result, path, source=before, force=True)
    assert path.read_bytes() == before


def test_parts_read_only_are_parsed_once_and_never_shared_when_malformed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch worker parses a template's small parts once: the same bytes give the same tree,
    the memory stays bounded, and a malformed part is refused every time it is read."""
    monkeypatch.setattr(xml_parts, "_SHARED", PartMemo(limit=2, largest=1 << 16))
    part = b'<Types><Default Extension="xml" ContentType="application/xml"/></Types>'
    first = xml_parts.parse_shared(part, depth=1)
    assert xml_parts.parse_shared(part, depth=1) is first
    assert xml_parts.parse_shared(part, depth=2) is not first  # another depth, another tree
    for number in range(5):
        xml_parts.parse_shared(part.replace(b"xml", f"x{number}".encode()), depth=1)
        assert len(xml_parts._SHARED) <= 2
    for _ in range(2):
        with pytest.raises(xml_parts.XmlPartError):
            xml_parts.parse_shared(b"<Types><Default></Types>", depth=1)


def _annotator_memos() -> list[tuple[object, str, PartMemo[Any, Any]]]:
    """Every memory the annotator's modules keep across workbooks: (module, name, memo)."""
    found: list[tuple[object, str, PartMemo[Any, Any]]] = []
    for module_name in sorted(n for n in sys.modules if n.startswith("xlcheck.annotator")):
        module = sys.modules[module_name]
        for name, value in vars(module).items():
            if isinstance(value, PartMemo):
                found.append((module, name, value))
    return found


@pytest.mark.parametrize("limit", [2, 64], ids=["cleared-often", "kept"])
def test_annotator_copies_are_the_same_whatever_a_worker_remembers(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """A batch worker remembers parts written for earlier workbooks of a template (styles with the
    results sheet's formats, workbook part, relationships, content types, deflated bytes): a copy
    made after clean and marked workbooks, in any order, is the copy a fresh worker makes."""
    path = make_workbook()
    runs: list[tuple[tuple[Finding, ...], str]] = [
        ((), "zh"),
        ((finding("评分表", "F25"),), "zh"),
        ((), "zh"),
        ((finding("基本信息", "B5", Severity.WARNING), finding("评分表", "F25")), "zh"),
        ((), "en"),
        ((finding("评分表", "F25", Severity.WARNING),), "en"),
        ((), "zh"),
    ]
    memos = _annotator_memos()
    assert len(memos) >= 5
    for module, name, _ in memos:
        monkeypatch.setattr(module, name, PartMemo(limit=limit, largest=1 << 18))
    remembered = [
        annotate(path, found, tmp_path / "warm.xlsx", lang=lang).read_bytes()
        for found, lang in runs
    ]
    for number, (found, lang) in enumerate(runs):
        for module, name, _ in memos:
            monkeypatch.setattr(module, name, PartMemo(limit=limit, largest=1 << 18))
        fresh = annotate(path, found, tmp_path / "cold.xlsx", lang=lang).read_bytes()
        assert remembered[number] == fresh, f"run {number}"


def test_package_wiring_is_written_as_it_stands_after_every_change() -> None:
    """Relationships and content types are remembered as written, by what they hold: a part
    added, retyped or removed is always in (or out of) what is written."""
    relationships_part = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="t/worksheet" Target="worksheets/sheet1.xml"/>'
        b"</Relationships>"
    )
    relationships = Relationships.read(relationships_part)
    before = relationships.to_bytes()
    added = relationships.add(WORKSHEET, "worksheets/x.xml")
    assert b'Target="worksheets/x.xml"' in relationships.to_bytes()
    relationships.remove(added)
    assert relationships.to_bytes() == before
    other = Relationships.read(relationships_part)
    other.add(WORKSHEET, "worksheets/y.xml")
    assert b"y.xml" in other.to_bytes() and b"x.xml" not in other.to_bytes()

    types_part = (
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="xml" ContentType="application/xml"/></Types>'
    )
    types = ContentTypes.read(types_part)
    types.set("xl/a.xml", "first/type")
    assert b'PartName="/xl/a.xml" ContentType="first/type"' in types.to_bytes()
    types.set("xl/a.xml", "second/type")
    assert b"second/type" in types.to_bytes() and b"first/type" not in types.to_bytes()
    assert ContentTypes.read(types_part).overrides == {}  # what was read is never changed
