"""How the annotated copy marks findings: colours, borders and markers, comments, the results sheet."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.annotated_copies import (
    annotate,
    colour_distance,
    finding,
    hue,
    verified_copy,
)
from tests.conftest import SHARED_SAMPLES, FillWorkbook
from tests.package_builders import rewrite_package, sheet_entry
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.annotator import RESULTS_SHEET
from xlcheck.annotator.marks import MarkKind, marked_format
from xlcheck.annotator.styles import MINIMAL_STYLES, StylesPart
from xlcheck.findings import Severity

#: The template's input cells' yellow (template_writer._INPUT_TINT).
INPUT_YELLOW = "FFFFF2CC"


def _fill(cell: object) -> str:
    fill = cell.fill  # type: ignore[attr-defined]
    return str(fill.fgColor.rgb) if fill is not None and fill.fill_type == "solid" else ""


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
    result = verified_copy(path, tmp_path / "copy.xlsx")
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


def test_styles_parsed_once_are_never_changed_by_a_copy() -> None:
    """Copies of workbooks with the same styles part share its parse: what one copy adds (marked
    formats, fonts, number formats) never reaches the next."""
    first = StylesPart(MINIMAL_STYLES)
    first.marked(0, MarkKind.ERROR)
    first.add_font(size=11, bold=True)
    first.number_format("0.000%")
    assert first.to_bytes() != MINIMAL_STYLES

    second = StylesPart(MINIMAL_STYLES)
    assert second.root is first.root  # parsed once
    assert second.to_bytes() == MINIMAL_STYLES
    assert "0.000%" not in second.formats.values()
    assert second.marked(0, MarkKind.ERROR) == first.marked(0, MarkKind.ERROR) == 1
