"""The annotated copy through real LibreOffice: packages it wrote keep every untouched part byte for
byte, the copy opens and converts again, and its pages print the marks and the findings.

One LibreOffice start per conversion kind (xlsx, pdf) for the whole module; the client samples
from ../shared are converted together in one more.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from tests.annotated_copies import annotate, changed_entries, finding, hue, raw_entries
from tests.conftest import EXAMPLES, SHARED_SAMPLES
from tests.libreoffice import XLSX_FILTER, pdf_pages, recalculate_many
from tests.libreoffice_objects import (
    FIXTURE,
    SECOND_SHEET_COMMENT,
    UNIT_COMMENT,
    UNIT_COMMENT_CELL,
    uno_available,
)
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.annotator import RESULTS_SHEET
from xlcheck.findings import Finding, Severity
from xlcheck.layout import lay_out
from xlcheck.spec_loading import load_spec
from xlcheck.verification import frozen_panes

pytestmark = pytest.mark.libreoffice

UNIT = "湛江市信访局"
#: Parts of the fixture the marks have a reason to rewrite; every other part must stay as it is.
REWRITABLE = re.compile(
    r"^(\[Content_Types\]\.xml|xl/workbook\.xml|xl/_rels/workbook\.xml\.rels|xl/styles\.xml|"
    r"xl/worksheets/sheet\d+\.xml|xl/comments\d+\.xml|xl/drawings/vmlDrawing\d+\.vml)$"
)


@dataclass(frozen=True)
class Converted:
    copy: Path
    xlsx: Path
    pdf: Path


def _objects_findings() -> list[Finding]:
    findings = [
        finding("基本信息", "B5", Severity.ERROR, sheet_index=0),
        finding(
            "基本信息", UNIT_COMMENT_CELL, Severity.WARNING, sheet_index=0, code="on-unit-comment"
        ),
        finding("数据表", "B30", Severity.ERROR, sheet_index=1, code="exec-rate"),
        finding("数据表", "A1", Severity.WARNING, sheet_index=1, code="sheet-renamed", field=None),
        finding("评分表", "F25", Severity.WARNING, sheet_index=3),
    ]
    # Enough findings for the results sheet to run over several pages.
    findings += [
        finding("项目支出", f"C{row}", Severity.WARNING, sheet_index=2, message="长说明" * 30)
        for row in range(4, 64)
    ]
    return findings


@pytest.fixture(scope="module")
def converted(libreoffice_available: bool, tmp_path_factory: pytest.TempPathFactory) -> Converted:
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("annotated-libreoffice")
    frozen = frozen_panes(lay_out(load_spec("zhanjiang-overall")))
    copy = annotate(
        FIXTURE, _objects_findings(), folder / "copy.xlsx", frozen=frozen, values={"unit": UNIT}
    )
    xlsx = recalculate_many({copy: folder / "resaved.xlsx"}, convert_to=XLSX_FILTER)[copy]
    pdf = recalculate_many({copy: folder / "copy.pdf"}, convert_to="pdf")[copy]
    return Converted(copy, xlsx, pdf)


def test_libreoffice_package_keeps_every_untouched_part(converted: Converted) -> None:
    changed, added, dropped = changed_entries(FIXTURE, converted.copy)
    assert not dropped
    assert all(REWRITABLE.match(name) for name in changed), changed
    kept = {
        "xl/charts/chart1.xml",
        "xl/drawings/drawing1.xml",
        "xl/drawings/_rels/drawing1.xml.rels",
        "xl/media/image1.png",
        "xl/sharedStrings.xml",
        "docProps/app.xml",
        "docProps/core.xml",
        "docProps/custom.xml",
        "xl/worksheets/_rels/sheet1.xml.rels",
    }
    before, after = raw_entries(FIXTURE), raw_entries(converted.copy)
    assert kept <= before.keys()
    for name in kept:
        assert after[name] == before[name], name
    assert "xl/worksheets/xlcheck-results1.xml" in added


def test_libreoffice_opens_the_copy_with_marks_comments_and_objects(converted: Converted) -> None:
    with zipfile.ZipFile(converted.xlsx) as archive:
        names = archive.namelist()
        drawings = b"".join(archive.read(n) for n in names if n.startswith("xl/drawings/drawing"))
    assert any(n.startswith("xl/charts/chart") for n in names), "the chart"
    assert any(n.startswith("xl/media/") for n in names), "the picture"
    assert "已盖章".encode() in drawings and "文本框：请财政局审核".encode() in drawings
    book = openpyxl.load_workbook(converted.xlsx)
    assert book.sheetnames[0] == RESULTS_SHEET
    first, data = book["基本信息"], book["数据表"]
    unit_comment = first[UNIT_COMMENT_CELL].comment
    assert unit_comment is not None and unit_comment.text.startswith(UNIT_COMMENT)
    assert "on-unit-comment" in unit_comment.text
    assert data["D2"].comment is not None and SECOND_SHEET_COMMENT in data["D2"].comment.text
    assert data["B30"].comment is not None and "exec-rate" in data["B30"].comment.text
    rgb = str(data["B30"].fill.fgColor.rgb)
    assert hue(rgb) >= 340 and data["B30"].border.left.style == "thick"
    assert data["A1"].comment is not None and "sheet-renamed" in data["A1"].comment.text


def test_libreoffice_saved_copy_annotated_again_has_one_results_sheet(
    converted: Converted, tmp_path: Path
) -> None:
    # Saved by LibreOffice, the results sheet's title moved to the shared strings.
    again = annotate(
        converted.xlsx, [finding("数据表", "B5", sheet_index=2)], tmp_path / "again.xlsx"
    )
    names = openpyxl.load_workbook(again).sheetnames
    assert names[0] == RESULTS_SHEET and names.count(RESULTS_SHEET) == 1
    assert len(names) == len(openpyxl.load_workbook(FIXTURE).sheetnames) + 1


def test_libreoffice_copy_keeps_formulas_and_values(converted: Converted) -> None:
    before = openpyxl.load_workbook(FIXTURE)
    after = openpyxl.load_workbook(converted.copy)
    for sheet in before.worksheets:
        rows, columns = sheet.max_row, sheet.max_column
        assert [[c.value for c in r] for r in sheet.iter_rows(max_row=rows, max_col=columns)] == [
            [c.value for c in r]
            for r in after[sheet.title].iter_rows(max_row=rows, max_col=columns)
        ], sheet.title
    # Recalculated by LibreOffice, the copy shows the same values as the unit's workbook.
    original = python_calamine.CalamineWorkbook.from_path(str(FIXTURE))
    resaved = python_calamine.CalamineWorkbook.from_path(str(converted.xlsx))
    for name in original.sheet_names:
        assert (
            original.get_sheet_by_name(name).to_python()
            == resaved.get_sheet_by_name(name).to_python()
        ), name


def test_libreoffice_copy_restores_frozen_panes(converted: Converted) -> None:
    with zipfile.ZipFile(FIXTURE) as archive:
        assert not any(
            b"<pane" in archive.read(n) for n in archive.namelist() if "worksheets/" in n
        )
    book = openpyxl.load_workbook(converted.copy)
    assert book["基本信息"].freeze_panes == "A4"
    assert book["项目支出"].freeze_panes == "C4"
    assert book["评分表"].freeze_panes == "D4"


def test_libreoffice_prints_page_numbers_unit_and_findings(converted: Converted) -> None:
    pages = pdf_pages(converted.pdf)
    assert len(pages) >= 6
    for number, page in enumerate(pages, start=1):
        assert f"第 {number} 页，共 {len(pages)} 页" in page, page[-300:]
    results = [page for page in pages if "xlcheck 校验结果" in page]
    assert len(results) >= 2, "the findings run over several pages"
    for page in results:
        assert UNIT in page and FIXTURE.name in page, "unit and file on every results page"
        assert "序号" in page and "规则代码" in page, "the header row repeats"
    text = "\n".join(results)
    assert "数据表/测试项目" in text and "1.00 万元" in text and "2.00 万元" in text
    assert "图例" in text and "✗ 错误" in text and "! 警告" in text
    data_page = next(p for p in pages if "部门整体支出绩效自评 数据表" in p)
    assert re.search(r"✗ 99\.72%", data_page), "the marker prints before the value"


def test_libreoffice_example_results_page_reads_like_the_cells(
    libreoffice_available: bool, tmp_path: Path
) -> None:
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    result = verify_workbook(
        EXAMPLES / "zhanjiang-xinfang-2023.xlsx", options=VerifyOptions(output=tmp_path / "ex.xlsx")
    )
    assert result.annotated is not None
    pdf = recalculate_many({result.annotated: tmp_path / "ex.pdf"}, convert_to="pdf")[
        result.annotated
    ]
    results = pdf_pages(pdf)[0]
    # pdftotext drops the narrow space between a number and a CJK unit: "5 分" reads "5分".
    for shown in ("99.72%", "99.93%", "5 分", "6 分", "100 分", "101 分"):
        assert re.search(shown.replace(" ", r"\s*"), results), shown
    # The label path, not the key (its cell may wrap the last character onto a second line).
    assert "数据表/支出结构与执行/预算执行" in results
    assert "exec_rate" not in results, "the field key belongs in JSON, not on paper"


@pytest.mark.skipif(not uno_available(), reason="needs LibreOffice and python3-uno")
def test_libreoffice_fixture_recipe_still_gives_its_parts(tmp_path: Path) -> None:
    from tests.libreoffice_objects import build_fixture

    rebuilt = build_fixture(tmp_path / "rebuilt.xlsx")
    kinds = {re.sub(r"\d+", "N", n) for n in zipfile.ZipFile(rebuilt).namelist()}
    assert kinds == {re.sub(r"\d+", "N", n) for n in zipfile.ZipFile(FIXTURE).namelist()}


# The client samples ----------------------------------------------------------------------------

SAMPLES = sorted(SHARED_SAMPLES.glob("*.xlsx")) if SHARED_SAMPLES.is_dir() else []


def _sample_findings(path: Path) -> list[Finding]:
    """On every sheet: the title cell (a sheet-level finding), B2, a cell far outside, A3."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names
    findings = []
    for index, name in enumerate(names):
        findings += [
            finding(name, "A1", Severity.WARNING, sheet_index=index, field=None),
            finding(name, "B2", Severity.ERROR, sheet_index=index),
            finding(name, "Z99", Severity.WARNING, sheet_index=index),
            finding(name, "A3", Severity.ERROR, sheet_index=index),
        ]
    return findings


@pytest.fixture(scope="module")
def sample_copies(
    libreoffice_available: bool, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Converted]:
    if not SAMPLES:
        pytest.skip(f"client samples not present at {SHARED_SAMPLES}")
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("samples")
    copies = {
        path.name: annotate(path, _sample_findings(path), folder / path.name) for path in SAMPLES
    }
    resaved = recalculate_many(
        {copy: folder / "resaved" / copy.name for copy in copies.values()}, convert_to=XLSX_FILTER
    )
    printed = recalculate_many(
        {copy: folder / "printed" / f"{copy.stem}.pdf" for copy in copies.values()},
        convert_to="pdf",
    )
    return {name: Converted(copy, resaved[copy], printed[copy]) for name, copy in copies.items()}


def _opens(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Opened here so the file is closed when openpyxl fails half-way (it leaves its own
            # handle to the garbage collector, whose warning then lands in some later test).
            with path.open("rb") as handle:
                openpyxl.load_workbook(handle)
    except Exception:  # openpyxl fails on some real packages in many ways; only the fact counts
        return False
    return True


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_libreoffice_client_sample_copy(sample: Path, sample_copies: dict[str, Converted]) -> None:
    converted = sample_copies[sample.name]
    changed, _, dropped = changed_entries(sample, converted.copy)
    assert not dropped
    for name in changed:
        assert re.search(
            r"(^|/)(\[Content_Types\]\.xml|workbook\.xml(\.rels)?|styles\.xml|sheet\d+\.xml|"
            r"sheet\d+\.xml\.rels|comments\d+\.xml|vmlDrawing\d+\.vml)$",
            name,
        ), f"{name} changed"
    # It opens wherever the unit's file opened (and the copy of a '\\'-named package opens too).
    assert _opens(converted.copy) or not _opens(sample)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(converted.xlsx)
    assert book.sheetnames[0] == RESULTS_SHEET, "LibreOffice opened and converted the copy"
    marked = book[book.sheetnames[1]]
    assert marked["Z99"].comment is not None and "测试问题" in marked["Z99"].comment.text
    results = [row[7] for row in book[RESULTS_SHEET].iter_rows(min_row=8, values_only=True)]
    assert len(results) == len(_sample_findings(sample))
    first_page = pdf_pages(converted.pdf)[0]
    assert "xlcheck 校验结果" in first_page and "第 1 页" in first_page
