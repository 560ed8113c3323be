"""The annotated copy at the package level: what it changes, what it keeps byte for byte, how it marks."""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.drawing.image import Image
from PIL import Image as PillowImage

from tests.annotated_copies import (
    annotate,
    changed_entries,
    colour_distance,
    finding,
    hue,
    raw_entries,
)
from tests.conftest import SHARED_SAMPLES, FillWorkbook
from tests.package_builders import rewrite_package, sheet_entry
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.annotator import RESULTS_SHEET, annotate_workbook
from xlcheck.annotator.marks import marked_format
from xlcheck.errors import WorkbookError
from xlcheck.findings import Severity, VerificationResult

#: The template's input cells' yellow (template_writer._INPUT_TINT).
INPUT_YELLOW = "FFFFF2CC"


def _fill(cell: object) -> str:
    fill = cell.fill  # type: ignore[attr-defined]
    return str(fill.fgColor.rgb) if fill is not None and fill.fill_type == "solid" else ""


def _verified_copy(path: Path, out: Path) -> VerificationResult:
    return verify_workbook(path, options=VerifyOptions(output=out, force=True))


def test_annotator_rewrites_only_what_the_marks_need(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})
    seal = tmp_path / "seal.png"
    PillowImage.new("RGB", (40, 40), "red").save(seal)
    book = openpyxl.load_workbook(path)
    book["基本信息"].add_image(Image(str(seal)), "D5")
    book.save(path)
    result = _verified_copy(path, tmp_path / "copy.xlsx")
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


def test_annotator_marks_error_red_and_warning_amber(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook()
    errors = [finding("数据表", "B5", Severity.ERROR, sheet_index=1)]
    warnings = [finding("数据表", "B6", Severity.WARNING, sheet_index=1)]
    copy = annotate(path, [*errors, *warnings], tmp_path / "copy.xlsx")
    sheet = openpyxl.load_workbook(copy)["数据表"]
    error, warning = _fill(sheet["B5"]), _fill(sheet["B6"])
    # Red for errors; amber for warnings, far from the input yellow on screen.
    assert hue(error) >= 340 or hue(error) <= 15, error
    assert 30 <= hue(warning) <= 50, warning
    assert colour_distance(error, warning) > 40
    assert colour_distance(warning, INPUT_YELLOW) > 40
    # In black and white: a thick solid border for errors, a dashed one for warnings, and a marker.
    assert sheet["B5"].border.left.style == "thick" and sheet["B5"].border.bottom.style == "thick"
    assert sheet["B6"].border.left.style == "mediumDashed"
    assert sheet["B5"].number_format.startswith('"✗ "')
    assert sheet["B6"].number_format.startswith('"! "')


def test_annotator_error_outranks_warning_on_one_cell(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook()
    here = [
        finding("数据表", "B5", Severity.WARNING, sheet_index=1, code="first"),
        finding("数据表", "B5", Severity.ERROR, sheet_index=1, code="second"),
    ]
    sheet = openpyxl.load_workbook(annotate(path, here, tmp_path / "copy.xlsx"))["数据表"]
    assert hue(_fill(sheet["B5"])) >= 340
    assert "first" in sheet["B5"].comment.text and "second" in sheet["B5"].comment.text


@pytest.mark.parametrize(
    ("code", "marked"),
    [
        ("General", '"✗ "General;"✗ -"General;"✗ "General;"✗ "@'),
        ("#,##0.00", '"✗ "#,##0.00;"✗ -"#,##0.00;"✗ "#,##0.00;"✗ "@'),
        ("0.00%", '"✗ "0.00%;"✗ -"0.00%;"✗ "0.00%;"✗ "@'),
        ("@", '"✗ "General;"✗ -"General;"✗ "General;"✗ "@'),
        ("[Red]0.00;[Blue]-0.00", '[Red]"✗ "0.00;[Blue]"✗ "-0.00;[Red]"✗ "0.00;"✗ "@'),
        ("[h]:mm:ss", '"✗ "[h]:mm:ss;"✗ -"[h]:mm:ss;"✗ "[h]:mm:ss;"✗ "@'),
        ("0;-0;;@", '"✗ "0;"✗ "-0;"✗ ";"✗ "@'),
        (
            '[$-804]yyyy"年"m"月"',
            '[$-804]"✗ "yyyy"年"m"月";[$-804]"✗ -"yyyy"年"m"月";[$-804]"✗ "yyyy"年"m"月";"✗ "@',
        ),
    ],
    ids=["general", "amount", "percent", "text", "colours", "elapsed", "four-sections", "locale"],
)
def test_marked_format_puts_the_marker_before_every_kind_of_value(code: str, marked: str) -> None:
    assert marked_format(code, "✗") == marked


def test_annotator_keeps_values_and_formulas(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6, "exec_rate": 0.9993})
    result = _verified_copy(path, tmp_path / "copy.xlsx")
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
    first = _verified_copy(path, tmp_path / "first.xlsx").annotated
    assert first is not None
    second = _verified_copy(first, tmp_path / "second.xlsx").annotated
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
    assert sorted(set(local_ids)) == [0, 1, 2, 3, 4] and local_ids.count(0) == 1
    for sheet in openpyxl.load_workbook(path).worksheets:
        assert book[sheet.title].print_title_rows == sheet.print_title_rows, sheet.title


def test_annotator_marks_cells_never_written(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    path = make_workbook()
    far = [
        finding("基本信息", "Z99", Severity.WARNING),  # a row that does not exist
        finding("基本信息", "H5", Severity.ERROR),  # a row that exists, a cell that does not
        finding("基本信息", "A200", Severity.ERROR),
    ]
    copy = annotate(path, far, tmp_path / "copy.xlsx")
    sheet = openpyxl.load_workbook(copy)["基本信息"]
    assert hue(_fill(sheet["Z99"])) == pytest.approx(hue("FFFFC000"), abs=1)
    assert hue(_fill(sheet["H5"])) >= 340 and sheet["A200"].comment is not None
    with zipfile.ZipFile(copy) as archive:
        xml = archive.read(sheet_entry(path, "基本信息")).decode()
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    assert rows == sorted(rows) and {99, 200} <= set(rows)
    row5 = re.search(r'<row r="5".*?</row>', xml)
    assert row5 is not None
    columns = re.findall(r'<c r="([A-Z]+)5"', row5.group(0))
    assert columns == sorted(columns, key=lambda c: (len(c), c)) and "H" in columns
    assert re.search(r'<dimension ref="A1:Z200"', xml)


def _merged(source: Path, target: Path) -> Path:
    book = openpyxl.load_workbook(source)
    book["基本信息"].merge_cells("B20:D21")
    book.save(target)
    return target


def test_annotator_marks_a_merged_range_round_its_edge(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = _merged(make_workbook(), tmp_path / "merged.xlsx")
    copy = annotate(path, [finding("基本信息", "C21")], tmp_path / "copy.xlsx")
    sheet = openpyxl.load_workbook(copy)["基本信息"]
    assert sheet["B20"].comment is not None, "the comment sits at the range's top-left cell"
    assert hue(_fill(sheet["B20"])) >= 340
    with zipfile.ZipFile(copy) as archive:
        xml = archive.read(sheet_entry(path, "基本信息")).decode()
    styles = [int(n) for n in re.findall(r'<c r="[B-D]2[01]"[^>]*\bs="(\d+)"', xml)]
    assert len(styles) == 6, "every cell of the range carries the mark, written or not"
    book: Any = openpyxl.load_workbook(copy)  # the cell formats behind the style ids
    for style in styles:
        border = book._borders[book._cell_styles[style].borderId]
        assert border.left.style == border.right.style == "thick"


def test_annotator_sheet_finding_marks_the_title_cell_only(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook()
    hidden = finding(
        "数据表", "A1", Severity.WARNING, sheet_index=1, code="sheet-hidden", field=None
    )
    copy = annotate(path, [hidden], tmp_path / "copy.xlsx")
    sheet = openpyxl.load_workbook(copy)["数据表"]
    before = openpyxl.load_workbook(path)["数据表"]
    assert sheet["A1"].comment is not None and "sheet-hidden" in sheet["A1"].comment.text
    assert sheet["A1"].number_format.startswith('"! "')
    for ref in ("A1", "B1", "C1", "D1"):  # the title band keeps its look
        assert _fill(sheet[ref]) == _fill(before[ref])
        assert sheet[ref].border.left.style == before[ref].border.left.style


@pytest.mark.parametrize(
    "name",
    ["A&B 表", "单位's 数据", "预算<支出>"],
    ids=["ampersand", "apostrophe", "angle-brackets"],
)
def test_annotator_sheet_names_that_need_escaping(
    make_workbook: FillWorkbook, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "renamed.xlsx"
    book = openpyxl.load_workbook(make_workbook())
    book["数据表"].title = name
    book.save(source)
    copy = annotate(source, [finding(name, "B5", sheet_index=1)], tmp_path / "copy.xlsx")
    book = openpyxl.load_workbook(copy)
    assert book[name]["B5"].comment is not None
    links = [
        c.hyperlink.location for row in book[RESULTS_SHEET].iter_rows() for c in row if c.hyperlink
    ]
    assert links == ["'" + name.replace("'", "''") + "'!B5"]
    assert book[RESULTS_SHEET].print_title_rows == "$7:$7"


@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
def test_annotator_inline_strings_keep_their_text(tmp_path: Path) -> None:
    sample = SHARED_SAMPLES / "gnumeric-inline-strings.xlsx"
    if not sample.is_file():
        pytest.skip(f"client sample not present: {sample}")
    before = openpyxl.load_workbook(sample)["Sheet1"]
    texts = [
        (c.coordinate, c.value)
        for row in before.iter_rows(max_row=5)
        for c in row
        if isinstance(c.value, str)
    ]
    assert texts
    marked = [finding("Sheet1", ref) for ref, _ in texts[:3]]
    after = openpyxl.load_workbook(annotate(sample, marked, tmp_path / "copy.xlsx"))["Sheet1"]
    for ref, text in texts:
        assert after[ref].value == text
    assert all(after[ref].comment is not None for ref, _ in texts[:3])


def test_annotator_a_thousand_findings_on_one_sheet(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook()
    many = [
        finding(
            "数据表",
            f"{column}{row}",
            Severity.ERROR if row % 2 else Severity.WARNING,
            sheet_index=1,
        )
        for row in range(1, 201)
        for column in "ABCDE"
    ]
    copy = annotate(path, many, tmp_path / "copy.xlsx")
    book = openpyxl.load_workbook(copy)
    comments = [c for row in book["数据表"].iter_rows() for c in row if c.comment is not None]
    assert len(comments) == 1000
    assert book[RESULTS_SHEET].max_row == 7 + 1000
    with zipfile.ZipFile(copy) as archive:
        vml = next(archive.read(n) for n in archive.namelist() if n.endswith(".vml")).decode()
    shape_ids = re.findall(r'<v:shape id="_x0000_s(\d+)"', vml)
    assert len(shape_ids) == len(set(shape_ids)) == 1000
    blocks = {int(i) // 1024 for i in shape_ids}
    idmap = re.search(r'<o:idmap v:ext="edit" data="([^"]+)"', vml)
    assert idmap is not None and blocks <= {int(b) for b in idmap.group(1).split(",")}


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


def test_annotator_keeps_the_units_own_comment(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    from openpyxl.comments import Comment

    source = tmp_path / "commented.xlsx"
    book = openpyxl.load_workbook(make_workbook())
    book["数据表"]["B5"].comment = Comment("单位说明：按决算填列", "单位")
    book["数据表"]["D9"].comment = Comment("另一条单位批注", "单位")
    book.save(source)
    copy = annotate(
        source,
        [finding("数据表", "B5", sheet_index=1), finding("数据表", "B7", sheet_index=1)],
        tmp_path / "copy.xlsx",
    )
    sheet = openpyxl.load_workbook(copy)["数据表"]
    text = sheet["B5"].comment.text
    assert text.startswith("单位说明：按决算填列") and "测试问题" in text
    assert sheet["D9"].comment.text == "另一条单位批注"
    assert "测试问题" in sheet["B7"].comment.text
    with zipfile.ZipFile(copy) as archive:
        vml = [archive.read(n).decode() for n in archive.namelist() if n.endswith(".vml")]
    assert len(vml) == 1 and vml[0].count('ObjectType="Note"') == 3


def test_annotator_results_sheet_reads_like_the_cells(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6, "exec_rate": 0.9993})
    result = _verified_copy(path, tmp_path / "copy.xlsx")
    assert result.annotated is not None
    sheet = openpyxl.load_workbook(result.annotated)[RESULTS_SHEET]
    rows = {row[1]: row for row in sheet.iter_rows(min_row=8, values_only=True)}
    headers = next(sheet.iter_rows(min_row=7, max_row=7, values_only=True))
    assert headers == ("序号", "级别", "位置", "项目", "说明", "应为", "实际", "规则代码")
    by_code = {row[7]: row for row in sheet.iter_rows(min_row=8, values_only=True)}
    assert by_code["ratio-wrong-base"][3] == "数据表/支出结构与执行/预算执行率"
    assert by_code["ratio-wrong-base"][5:7] == ("99.72%", "99.93%")
    assert by_code["score-above-weight"][5:7] == ("5 分", "6 分")
    assert rows, "findings listed"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    setup: Any = sheet.sheet_properties.pageSetUpPr
    assert setup.fitToPage and sheet.page_setup.fitToWidth == 1
    header_footer: Any = sheet
    assert "第 &P 页，共 &N 页" in header_footer.oddFooter.center.text
    assert result.values["unit"] in header_footer.oddHeader.left.text
    assert sheet["A8"].font.name == "宋体"
    long_row = next(
        r for r in range(8, sheet.max_row + 1) if sheet.cell(r, 8).value == "formula-replaced"
    )
    assert sheet.row_dimensions[long_row].height > 20, "two lines of message need a taller row"


def test_annotator_results_sheet_in_english(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})
    result = verify_workbook(path, options=VerifyOptions(output=tmp_path / "en.xlsx", lang="en"))
    assert result.annotated is not None
    book = openpyxl.load_workbook(result.annotated)
    assert book.sheetnames[0] == "Findings"
    findings_sheet: Any = book["Findings"]
    assert "Page &P of &N" in findings_sheet.oddFooter.center.text
    assert "[error score-above-weight]" in book["评分表"]["F25"].comment.text


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


def _rewrite_sheet(
    source: Path, target: Path, sheet: str, change: Callable[[bytes], bytes]
) -> Path:
    entry = sheet_entry(source, sheet)
    return rewrite_package(source, target, lambda n, d: change(d) if n == entry else d)


@pytest.mark.parametrize(
    "change",
    [
        # An XML comment and CDATA in sheetData: the parser reads the sheet, not a pattern.
        lambda d: d.replace(b"<sheetData>", b'<sheetData><!-- <row r="5"><c r="B5"/></row> -->', 1),
        # A '>' inside an attribute value of a cell (legal XML, written by no app).
        lambda d: re.sub(rb'<c r="B5"', b'<c odd="a>b" r="B5"', d, count=1),
        # Rows and cells without r: numbered after the previous one.
        lambda d: re.sub(rb'(<row r="\d+")', lambda m: m.group(1).split(b" ")[0], d),
    ],
    ids=["comment-in-sheet-data", "angle-bracket-in-attribute", "implicit-row-numbers"],
)
def test_annotator_reads_unusual_sheet_xml(
    make_workbook: FillWorkbook, tmp_path: Path, change: Callable[[bytes], bytes]
) -> None:
    source = _rewrite_sheet(make_workbook(), tmp_path / "odd.xlsx", "基本信息", change)
    copy = annotate(
        source, [finding("基本信息", "B5"), finding("基本信息", "H40")], tmp_path / "copy.xlsx"
    )
    sheet = openpyxl.load_workbook(copy)["基本信息"]
    before = openpyxl.load_workbook(source)["基本信息"]
    assert sheet["B5"].value == before["B5"].value and sheet["B5"].comment is not None
    assert hue(_fill(sheet["B5"])) >= 340 and sheet["H40"].comment is not None


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_annotator_prefixed_spreadsheetml(tmp_path: Path) -> None:
    sample = SHARED_SAMPLES / "wps-prefixed-xml-wrong-dimension.xlsx"
    if not sample.is_file():
        pytest.skip(f"client sample not present: {sample}")
    name = openpyxl.load_workbook(sample).sheetnames[0]
    copy = annotate(sample, [finding(name, "B2"), finding(name, "C300")], tmp_path / "copy.xlsx")
    with zipfile.ZipFile(copy) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b'<x:c r="C300"' in xml and b'<x:row r="300">' in xml
    sheet = openpyxl.load_workbook(copy)[name]
    assert sheet["B2"].comment is not None and sheet["C300"].comment is not None


def test_annotator_finding_on_a_missing_sheet_is_listed_without_a_link(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook()
    gone = finding("已删除的表", "A1", code="sheet-missing", field=None, sheet_index=9)
    copy = annotate(path, [gone, finding("数据表", "B5", sheet_index=1)], tmp_path / "copy.xlsx")
    sheet = openpyxl.load_workbook(copy)[RESULTS_SHEET]
    links = {c.hyperlink.location for row in sheet.iter_rows() for c in row if c.hyperlink}
    assert links == {"'数据表'!B5"}
    assert "sheet-missing" in [row[7] for row in sheet.iter_rows(min_row=8, values_only=True)]
