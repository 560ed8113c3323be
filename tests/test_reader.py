"""The reader on files saved by other apps: real samples from ../shared and fixtures reproducing each quirk."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.conftest import SHARED_ABSENT, SHARED_SAMPLES, FillWorkbook, shared_sample_params
from tests.package_builders import rewrite_package, sheet_entry
from xlcheck import api
from xlcheck.errors import WorkbookError
from xlcheck.layout import lay_out
from xlcheck.package import inspect_package
from xlcheck.reader import open_workbook
from xlcheck.spec_loading import load_spec

needs_samples = pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason=SHARED_ABSENT)
LAYOUT = lay_out(load_spec("zhanjiang-overall"))


def _codes(path: Path) -> list[tuple[str, str]]:
    result = api.verify_workbook(path, options=api.VerifyOptions(annotate=False))
    return sorted((f.code, str(f.location)) for f in result.findings)


@pytest.mark.parametrize("sample", shared_sample_params())
def test_reader_reads_every_client_sample_or_says_why(sample: Path) -> None:
    """Each real file opens and reads (values at least), or fails with one WorkbookError sentence."""
    try:
        source = open_workbook(sample)
    except WorkbookError as exc:  # pragma: no cover - none of the samples does today
        assert exc.render("en").strip()
        return
    assert source.sheet_names
    filled = source.read(LAYOUT)
    assert filled.sheet_names == source.sheet_names


@needs_samples
@pytest.mark.parametrize(
    ("sample", "application"),
    [
        ("wps-comment-hyperlink-merged.xlsx", "KSOProductBuildVer"),
        ("wps-prefixed-xml-wrong-dimension.xlsx", "WPS"),
        ("tencent-docs-a1-dimension-merged.xlsx", "Tencent"),
        ("libreoffice-dates.xlsx", "LibreOffice"),
        ("excel-merged-cells.xlsx", "Microsoft"),
    ],
    ids=["wps-build", "wps", "tencent", "libreoffice", "excel"],
)
def test_reader_records_the_saving_application(sample: str, application: str) -> None:
    assert application in (inspect_package(SHARED_SAMPLES / sample).application or "")


@needs_samples
@pytest.mark.parametrize(
    ("sample", "sheet", "cell", "formula"),
    [
        ("backslash-zip-paths.xlsx", None, None, None),
        ("excel-mac-pivots-openpyxl-fails.xlsx", "DataSheet", (2, 7), "=D2/E2"),
        ("minimal-package-openpyxl-fails.xlsx", None, None, None),
    ],
    ids=["backslash-zip-paths", "pivots", "minimal-package"],
)
def test_reader_reads_formulas_where_openpyxl_failed(
    sample: str, sheet: str | None, cell: tuple[int, int] | None, formula: str | None
) -> None:
    """Packages openpyxl cannot load (backslash entry names, some pivot caches, a minimal
    package) are read whole: values and formulas."""
    source = open_workbook(SHARED_SAMPLES / sample)
    filled = source.read(LAYOUT)
    assert filled.formulas_read, filled.formula_problem
    assert filled.formula_problem is None
    if sheet is not None and cell is not None:
        assert source.formula_at(sheet, *cell) == formula


@needs_samples
def test_reader_expands_excel_shared_formulas() -> None:
    source = open_workbook(SHARED_SAMPLES / "excel-shared-formula.xlsx")
    source.grids(LAYOUT)
    sheet = source.sheet_names[0]
    assert [source.formula_at(sheet, row, 2) for row in (1, 2, 3)] == ["=A1*2", "=A2*2", "=A3*2"]


@needs_samples
def test_reader_tencent_a1_dimension_reads_every_row() -> None:
    """The sheet declares A1:A1 over 57 rows and 12 columns of data: the data counts."""
    source = open_workbook(SHARED_SAMPLES / "tencent-docs-a1-dimension-merged.xlsx")
    (rows,) = source.grids(LAYOUT).values()
    assert (len(rows), max(len(row) for row in rows)) == (57, 12)


# --- fixtures reproducing each quirk on a filled template ------------------------------------


def _rewrite_sheets(
    source: Path, target: Path, change: re.Pattern[bytes] | None, replacement: bytes
) -> Path:
    entries = {sheet_entry(source, s.sheet.name) for s in LAYOUT.sheets}

    def rewrite(name: str, data: bytes) -> bytes:
        if name in entries and change is not None:
            return change.sub(replacement, data)
        return data

    return rewrite_package(source, target, rewrite)


def test_reader_tencent_style_a1_dimension_changes_nothing(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    source = make_workbook(overrides={"score.petition_handling": 6})
    path = _rewrite_sheets(
        source,
        tmp_path / "a1.xlsx",
        re.compile(rb'<dimension ref="[^"]*"/>'),
        b'<dimension ref="A1:A1"/>',
    )
    assert _codes(path) == _codes(source)


def _prefix_spreadsheetml(data: bytes) -> bytes:
    """WPS style: every SpreadsheetML element written as ``x:name`` with the namespace on ``x``."""
    data = data.replace(
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
        b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
        1,
    )
    return re.sub(rb"<(/?)([A-Za-z][\w]*)(?=[\s/>])", rb"<\1x:\2", data)


def test_reader_wps_prefixed_xml_and_wrong_dimension(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    source = make_workbook(overrides={"score.petition_handling": 6, "budget_basic": "489.82"})
    entries = {sheet_entry(source, s.sheet.name) for s in LAYOUT.sheets}

    def rewrite(name: str, data: bytes) -> bytes:
        if name not in entries:
            return data
        data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:C3"/>', data)
        return _prefix_spreadsheetml(data)

    path = rewrite_package(source, tmp_path / "wps.xlsx", rewrite)
    codes = _codes(path)
    assert codes == _codes(source)
    assert ("number-as-text", "数据表!B18") in codes or any(c == "number-as-text" for c, _ in codes)


def test_reader_cjk_builtin_date_format_reads_a_date(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """numFmt 31 (yyyy年m月d日) is built in only in CJK Excel: openpyxl gives a float, calamine a date."""
    source = make_workbook()
    placed = LAYOUT.by_key["fill_date"]
    entry = sheet_entry(source, placed.sheet)

    def rewrite(name: str, data: bytes) -> bytes:
        if name == "xl/styles.xml":
            count = int(re.search(rb'<cellXfs count="(\d+)"', data).group(1))  # type: ignore[union-attr]
            data = re.sub(rb'<cellXfs count="\d+"', b'<cellXfs count="%d"' % (count + 1), data)
            return data.replace(
                b"</cellXfs>",
                b'<xf numFmtId="31" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>',
            )
        if name == entry:
            with_style = rf'<c r="{placed.cell_ref}" s="999"'.encode()
            return re.sub(rf'<c r="{placed.cell_ref}"( s="\d+")?'.encode(), with_style, data)
        return data

    styled = rewrite_package(source, tmp_path / "styled.xlsx", rewrite)
    import zipfile

    with zipfile.ZipFile(styled) as archive:
        count = int(re.search(rb'<cellXfs count="(\d+)"', archive.read("xl/styles.xml")).group(1))  # type: ignore[union-attr]
    path = rewrite_package(
        styled,
        tmp_path / "cjk-date.xlsx",
        lambda n, d: d.replace(b's="999"', b's="%d"' % (count - 1)) if n == entry else d,
    )
    filled = open_workbook(path).read(LAYOUT)
    assert isinstance(filled.cells["fill_date"].raw, dt.datetime | dt.date)
    assert not [
        c
        for c, where in _codes(path)
        if where.endswith(placed.cell_ref) and where.startswith(placed.sheet)
    ]


def test_reader_knows_which_cells_show_numbers_as_percentages(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """0.985 in a cell formatted 0.0% means 98.5%: the reader says so from the styles part;
    a '%' inside quoted text of a format does not make it a percentage."""
    import openpyxl

    from xlcheck.reader import open_workbook
    from xlcheck.relocation import relocate

    path = make_workbook()
    book = openpyxl.load_workbook(path)
    sheet = book["基本信息"]
    sheet["B5"].value, sheet["B5"].number_format = 0.985, "0.0%"
    sheet["B6"].value, sheet["B6"].number_format = 0.5, '0.00" %以内"'
    book.save(path)
    layout = lay_out(load_spec("zhanjiang-overall"))
    with open_workbook(path) as source:
        placed = relocate(layout, source.grids(layout), source.formula_at)
        filled = source.read(placed.layout, placed.notes)
    by_cell = {p.cell_ref: p.key for p in placed.layout.fields if p.sheet == "基本信息"}
    assert filled.cells[by_cell["B5"]].percent_format
    assert not filled.cells[by_cell["B6"]].percent_format
    assert not filled.cells[by_cell["B10"]].percent_format
