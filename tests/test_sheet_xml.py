"""The sheet scan: formulas and error cells as openpyxl reads them from real apps' files,
extents from content, windows, and XML that declares a DTD refused; each case on both reading
paths (a part parsed whole as a tree, a part streamed through expat), which agree."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import EXAMPLES, shared_sample_params
from tests.package_builders import billion_laughs
from xlcheck import sheet_xml
from xlcheck.package import inspect_package
from xlcheck.part_memo import PartMemo
from xlcheck.reader import OPENPYXL_FAILURES, quiet_openpyxl
from xlcheck.sheet_xml import (
    WHOLE_PART_BYTES,
    SheetScan,
    SheetXmlError,
    UnsafeXmlError,
    rough_extent,
    scan_sheet,
)

#: The shipped example and every client sample; without ../shared, a case that skips saying so.
WORKBOOKS = [
    pytest.param(EXAMPLES / "zhanjiang-xinfang-2023.xlsx", id="zhanjiang-xinfang-2023"),
    *shared_sample_params(),
]
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
Scan = Callable[..., SheetScan]


@pytest.fixture(params=["tree", "stream"])
def scan(request: pytest.FixtureRequest) -> Scan:
    """``scan_sheet`` on one of its paths: the part parsed whole, or streamed (no part is small
    enough to be parsed whole)."""
    return scan_sheet if request.param == "tree" else partial(scan_sheet, whole_part_bytes=-1)


def _sheet(body: str, prefix: str = "") -> io.BytesIO:
    colon = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    return io.BytesIO(
        f'<?xml version="1.0"?><{colon}worksheet {xmlns}="{_MAIN}"><{colon}sheetData>{body}'
        f"</{colon}sheetData></{colon}worksheet>".encode()
    )


def _openpyxl_cells(path: Path) -> dict[str, tuple[dict[tuple[int, int], str], dict[Any, str]]]:
    """Every sheet's formulas and error cells as openpyxl's full load reads them."""
    with quiet_openpyxl(), path.open("rb") as handle:
        book = openpyxl.load_workbook(handle)
    cells = {}
    for sheet in book.worksheets:
        formulas: dict[tuple[int, int], str] = {}
        errors: dict[Any, str] = {}
        # The cells the sheet holds (iter_rows would walk the declared dimension, which some
        # apps set to the whole grid).
        for (row_number, column_number), cell in sheet._cells.items():
            key = (row_number, column_number)
            if cell.data_type == "f" and cell.value is not None:
                value = cell.value
                formulas[key] = (
                    value if isinstance(value, str) else str(getattr(value, "text", value))
                )
            elif cell.data_type == "e" and isinstance(cell.value, str):
                errors[key] = cell.value
        cells[sheet.title] = (formulas, errors)
    return cells


@pytest.mark.parametrize("workbook", WORKBOOKS)
def test_scan_sheet_reads_formulas_and_errors_as_openpyxl_does(workbook: Path, scan: Scan) -> None:
    """Shared formulas expanded, array formulas, error values typed into cells: on the shipped
    example (saved by LibreOffice) and every client sample openpyxl can load."""
    try:
        expected = _openpyxl_cells(workbook)
    except OPENPYXL_FAILURES:
        pytest.skip("openpyxl cannot load this sample; tests/test_reader.py reads it")
    package = inspect_package(workbook)
    compared = 0
    with package.open_zip() as archive:
        for sheet, entry in package.sheet_parts.items():
            if sheet not in expected:
                continue  # a chart sheet
            with archive.open(entry) as stream:
                result = scan(stream)
            formulas, errors = expected[sheet]
            assert result.formulas == formulas, sheet
            assert result.errors == errors, sheet
            compared += len(formulas) + len(errors)
    if workbook.stem in (
        "zhanjiang-xinfang-2023",
        "excel-shared-formula",
        "excel-all-error-values",
    ):
        assert compared > 0


def test_scan_sheet_extent_comes_from_cells_holding_something(scan: Scan) -> None:
    """What LibreOffice writes after a row is deleted: styled empty cells and an empty last row."""
    stream = _sheet(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="G1" s="3"/></row>'
        '<row r="2"><c r="B2" t="str"><f>A1&amp;"x"</f><v></v></c></row>'
        '<row r="1048576" customFormat="false" ht="12.8"></row>'
    )
    result = scan(stream)
    assert (result.max_row, result.max_column) == (2, 2)
    assert result.formulas == {(2, 2): '=A1&"x"'}


@pytest.mark.parametrize(
    ("body", "prefix", "formulas", "errors"),
    [
        pytest.param(
            '<x:row r="3"><x:c r="C3"><x:f>SUM(A1:B2)</x:f><x:v>3</x:v></x:c>'
            '<x:c r="D3" t="e"><x:v>#N/A</x:v></x:c></x:row>',
            "x",
            {(3, 3): "=SUM(A1:B2)"},
            {(3, 4): "#N/A"},
            id="prefixed-as-wps-writes",
        ),
        pytest.param(
            '<row r="2" xmlns:o="urn:other"><o:c r="B2"><o:f>A1*2</o:f><o:v>4</o:v></o:c>'
            '<c r="C2" t="e"><o:v>#N/A</o:v></c></row>',
            "",
            {(2, 2): "=A1*2"},
            {(2, 3): "#N/A"},
            id="another-namespace-by-local-name",
        ),
        pytest.param(
            '<row><c><v>1</v></c><c><f>A1+1</f></c></row><row><c t="e"><v>#REF!</v></c></row>',
            "",
            {(1, 2): "=A1+1"},
            {(2, 1): "#REF!"},
            id="cells-without-references",
        ),
    ],
)
def test_scan_sheet_finds_formulas_and_errors(
    scan: Scan,
    body: str,
    prefix: str,
    formulas: dict[tuple[int, int], str],
    errors: dict[tuple[int, int], str],
) -> None:
    result = scan(_sheet(body, prefix=prefix))
    assert result.formulas == formulas
    assert result.errors == errors


def test_scan_sheet_window_keeps_cells_and_stops_past_it(scan: Scan) -> None:
    body = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="Z{r}"><v>1</v></c></row>'
        for r in range(1, 11)
    )
    result = scan(_sheet(body), window=(4, 3), stop_past_window=True)
    assert [(c.row_number, c.column_number, c.value) for c in result.cells] == [
        (r, 1, str(r)) for r in range(1, 5)
    ]
    assert not result.complete
    assert result.beyond_window
    assert result.max_row == 4  # the scan went no further than row 5's first cell


def test_scan_sheet_keeps_values_as_the_last_child_of_each_cell_gives_them() -> None:
    body = (
        '<row r="1"><c r="A1" t="s" s="3"><v>0</v></c><c r="B1"><f>1+1</f><v>2</v></c>'
        '<c r="C1"><v>2</v><f>1+1</f></c><c r="D1"><f>1+1</f></c><c r="E1" s="2"/>'
        '<c r="F1" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    result = scan_sheet(_sheet(body), keep_values=True)
    assert result.values_problem is None
    assert [v[:5] for v in result.values or []] == [
        (1, 1, "s", "3", "0"),
        (1, 2, None, None, "2"),
        (1, 6, "inlineStr", None, None),
    ]
    assert scan_sheet(_sheet(body)).values is None  # not asked for


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('<row r="1"><c><v>1</v></c></row>', "a cell without a reference"),
        ('<row r="+1"><c r="A1"><v>1</v></c></row>', "row number '+1'"),
        ('<row r="1"><c r="A1"><v>1</v><extLst/></c></row>', "a <extLst> in a cell"),
        ('<row r="1"><c r="A1"><v>1<!-- x --></v></c></row>', "a comment or CDATA section"),
        ('<row r="1"><c r="A1"><v>&#49;</v></c></row>', "a character reference in a <v>"),
    ],
    ids=["no-reference", "row-number", "extension", "comment", "character-reference"],
)
def test_scan_sheet_keeps_no_values_calamine_may_read_otherwise(body: str, problem: str) -> None:
    result = scan_sheet(_sheet(body), keep_values=True)
    assert (result.values, result.values_problem) == (None, problem)


def test_scan_sheet_keeps_no_values_of_a_part_it_streams() -> None:
    result = scan_sheet(
        _sheet('<row r="1"><c r="A1"><v>1</v></c></row>'), keep_values=True, whole_part_bytes=-1
    )
    assert (result.values, result.values_problem) == (None, "a part read in chunks")
    assert result.max_row == 1


def test_scan_sheet_inline_strings_without_phonetic_runs(scan: Scan) -> None:
    stream = _sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><r><t>东</t></r><r><t xml:space="preserve"> 京</t></r>'
        "<rPh><t>とうきょう</t></rPh></is></c></row>"
    )
    (cell,) = scan(stream, window=(1, 1)).cells
    assert cell.inline_text == "东 京"


@pytest.mark.parametrize(
    "body",
    [
        '<row r="0"><c r="A0"><v>1</v></c></row>',
        '<row r="1"><c r="ZZZZ1"><v>1</v></c></row>',
        "<row",
    ],
    ids=["row-zero", "column-past-xfd", "malformed"],
)
def test_scan_sheet_refuses_impossible_sheets(body: str, scan: Scan) -> None:
    with pytest.raises(SheetXmlError):
        scan(_sheet(body))


def test_scan_sheet_reads_references_past_its_bounded_memory_of_them(
    scan: Scan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker keeps the positions of the references it has read, up to a limit: a sheet with
    more distinct references is read as well, and the memory stays at the limit."""
    monkeypatch.setattr(sheet_xml, "_POSITIONS", {})
    monkeypatch.setattr(sheet_xml, "_POSITIONS_LIMIT", 5)
    body = "".join(f'<row r="{n}"><c r="B{n}"><f>A{n}*2</f></c></row>' for n in range(1, 21))

    found = scan(_sheet(body))
    again = scan(_sheet(body))

    expected = {(n, 2): f"=A{n}*2" for n in range(1, 21)}
    assert found.formulas == again.formulas == expected
    assert len(sheet_xml._POSITIONS) == 5


@pytest.mark.parametrize(
    "tail",
    [
        '<mergeCells count="1"><mergeCell ref="A1:B1"></mergeCells></worksheet>',
        "<x:extLst/></worksheet>",
        '<pageMargins left="0.7" left="0.7"/></worksheet>',
        "<pageSetup/></worksheet>junk",
    ],
    ids=["unclosed", "unbound-prefix", "repeated-attribute", "after-the-root"],
)
def test_scan_sheet_refuses_a_part_malformed_after_its_cells(tail: str, scan: Scan) -> None:
    """What follows ``</sheetData>`` is not walked, but a malformed part is refused all the
    same, even right after a well-formed part with the same cells was read."""
    body = '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>'
    good = _sheet(body).getvalue().replace(b"</worksheet>", b"<pageSetup/></worksheet>")
    assert scan(io.BytesIO(good)).formulas == {(1, 1): "=1+1"}
    bad = _sheet(body).getvalue().replace(b"</worksheet>", tail.encode())
    with pytest.raises(SheetXmlError):
        scan(io.BytesIO(bad))


def test_scan_sheet_remembers_a_bounded_number_of_well_formed_tails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sheet_xml, "_WELL_FORMED_TAILS", PartMemo(limit=2, largest=1 << 16))
    for number in range(1, 6):
        part = _sheet(f'<row r="{number}"><c r="A{number}"><v>1</v></c></row>').getvalue()
        part = part.replace(b"</worksheet>", f'<pageMargins left="{number}"/></worksheet>'.encode())
        assert scan_sheet(io.BytesIO(part)).max_row == number
        assert 1 <= len(sheet_xml._WELL_FORMED_TAILS) <= 2
    assert any(b'left="5"' in tail for tail in sheet_xml._WELL_FORMED_TAILS)


def test_scan_sheet_refuses_a_dtd(scan: Scan) -> None:
    with pytest.raises(UnsafeXmlError):
        scan(io.BytesIO(billion_laughs()))


def test_rough_extent_overestimates_a_damaged_sheet() -> None:
    stream = io.BytesIO(
        b'<worksheet><sheetData><row r="2"><c r="B2"><v>1</v></c><c r="XFD7" s="1"/>'
        b'</row><row r="1048576"/><c r="A1"<<</sheetData>'
    )
    assert rough_extent(stream) == (1048576, 16384)


def test_scan_sheet_reads_zip_entry_streams(tmp_path: Path, scan: Scan) -> None:
    """The scan reads a zip entry as it inflates, in chunks: a sheet larger than one chunk."""
    body = "".join(
        f'<row r="{r}"><c r="B{r}"><f>A{r}*2</f><v>0</v></c></row>' for r in range(1, 5001)
    )
    archive_path = tmp_path / "big.zip"
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sheet.xml", _sheet(body).getvalue())
    with zipfile.ZipFile(archive_path) as archive, archive.open("sheet.xml") as stream:
        result = scan(stream)
    assert len(result.formulas) == 5000
    assert result.formulas[(4321, 2)] == "=A4321*2"


def _fixture_workbooks() -> list[Any]:
    return [
        pytest.param(path, id=path.stem)
        for path in sorted((Path(__file__).parent / "fixtures").glob("*.xlsx"))
    ]


@pytest.mark.parametrize("workbook", [*WORKBOOKS, *_fixture_workbooks()])
@pytest.mark.parametrize("window", [None, (40, 8)], ids=["no-window", "window"])
def test_scan_sheet_paths_agree(workbook: Path, window: tuple[int, int] | None) -> None:
    """The tree walk and the expat stream find the same formulas, errors, styles, extent and
    window cells in every sheet of the example, the fixtures and the client samples."""
    package = inspect_package(workbook)
    compared = 0
    with package.open_zip() as archive:
        for entry in package.sheet_parts.values():
            scans = []
            for whole_part_bytes in (WHOLE_PART_BYTES, -1):
                with archive.open(entry) as stream:
                    scans.append(
                        scan_sheet(stream, window=window, whole_part_bytes=whole_part_bytes)
                    )
            assert scans[0] == scans[1], entry
            compared += scans[0].max_row
    assert compared > 0 or not package.sheet_parts


def _fresh_known_rows(monkeypatch: pytest.MonkeyPatch, limit: int = 1024) -> None:
    monkeypatch.setattr(sheet_xml, "_KNOWN_ROWS", PartMemo(limit=limit, largest=2048))


def _outcome(part: bytes, **options: Any) -> SheetScan | str:
    """A tree scan of ``part`` (values kept when no window is given), or the refusal's text."""
    try:
        return scan_sheet(io.BytesIO(part), keep_values="window" not in options, **options)
    except ValueError as exc:
        return f"{type(exc).__name__}: {exc}"


_ROW_2 = '<row r="2"><c r="B2"><v>5</v></c></row>'
_ERROR_ROW_2 = '<row r="2"><c r="B2" t="e"><v>#N/A</v></c></row>'


@pytest.mark.parametrize(
    ("seen", "body"),
    [
        pytest.param(
            '<row r="1"><c r="A1"><f t="shared" si="0" ref="A1:A3">B1*2</f><v>0</v></c></row>'
            '<row r="2"><c r="A2"><f t="shared" si="0"/><v>0</v></c></row>',
            '<row r="1"><c r="A1"><f t="shared" si="0" ref="A1:A3">C1+1</f><v>0</v></c></row>'
            '<row r="2"><c r="A2"><f t="shared" si="0"/><v>0</v></c></row>'
            '<row r="3"><c r="A3"><f t="shared" si="0"/><v>0</v></c></row>',
            id="shared-formula-follower-known",
        ),
        pytest.param(
            '<row r="3"><c r="A3" s="2" t="s"><v>1</v></c></row>',
            '<row r="2"><c r="A2"><v>1</v></c></row><row><c r="A3"><v>2</v></c></row>'
            '<row r="3"><c r="A3" s="2" t="s"><v>1</v></c></row><row><c><v>4</v></c></row>',
            id="rows-numbered-by-the-row-before",
        ),
        pytest.param(
            _ROW_2,
            f'<row r="1"><c r="A1"><v>1</v>{_ROW_2}<row r="3"/></c></row>',
            id="known-row-inside-a-cell",
        ),
        pytest.param(
            _ROW_2,
            f'<row r="1"><c r="A1"><v>1</v></c></row><rowBreak/>{_ROW_2}',
            id="another-element-beginning-row",
        ),
        pytest.param(
            _ROW_2,
            f'<c r="A1"><v>1</v></c>{_ROW_2}',
            id="a-cell-before-the-rows",
        ),
        pytest.param(
            _ROW_2,
            f'<row r="1"><c r="A1"><v>1</v></c></row>{_ROW_2}<row r="3"><c r="A3"></row>',
            id="malformed-beside-a-known-row",
        ),
        pytest.param(
            _ROW_2,
            f'<row r="1"><c r="A1"><v>1</v></c></row>{_ROW_2}<row r="0"/>',
            id="row-off-the-grid-after-a-known-row",
        ),
        pytest.param(
            _ROW_2,
            f'<c/><row r="1"><c r="A1"><v>1</v>{_ROW_2}<row r="3"/></c></row>',
            id="a-cell-before-a-row-holding-a-known-row",
        ),
        pytest.param(
            _ERROR_ROW_2,
            f'<row r="1"><c r="A1"><v>1</v></c></row><!-- {_ERROR_ROW_2}<row --><x:row'
            ' xmlns:x="urn:x" r="3"><x:c r="C3"><x:v>1</x:v></x:c></x:row>',
            id="known-row-in-a-comment",
        ),
        pytest.param(
            '<row r="1"><c r="A1"><v>1</v></c><c r="A3" s="²"><v>1</v></c></row>',
            '<row r="1"><c r="A1"><v>1</v></c><c r="A3" s="²"><v>1</v></c></row>',
            id="style-int-refuses-past-the-window",
        ),
    ],
)
def test_scan_sheet_reads_known_rows_as_it_read_them_first(
    seen: str, body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows a worker has read before, in another part or the same, are not parsed again; the
    scan is the one of the whole part parsed and walked, whatever the part around them, window
    or not."""
    part = _sheet(body).getvalue()
    options: list[dict[str, Any]] = [
        {},
        {"window": (2, 1)},
        {"window": (1, 9), "stop_past_window": True},
    ]
    with monkeypatch.context() as whole:
        whole.setattr(sheet_xml, "_split_rows", lambda *args: None)
        expected = [_outcome(part, **o) for o in options]
    _fresh_known_rows(monkeypatch)
    _outcome(_sheet(seen).getvalue())
    assert [_outcome(part, **o) for o in options] == expected  # the rows of another part known
    assert [_outcome(part, **o) for o in options] == expected  # and the part's own


def test_scan_sheet_stops_past_its_window_before_a_style_int_refuses(scan: Scan) -> None:
    """A cell below the window stops the scan before the next cell's style is read, even one
    ``int`` refuses (a superscript digit)."""
    body = '<row r="1"><c r="A1"><v>1</v></c><c r="A3" s="²"><v>1</v></c><c r="B1" s="²"/></row>'
    result = scan(_sheet(body), window=(1, 9), stop_past_window=True)
    assert (result.complete, result.max_row) == (False, 1)


def test_scan_sheet_reads_known_rows_with_their_part_s_namespaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A row known from a part that binds the prefix it uses is refused in a part that does
    not bind it."""
    _fresh_known_rows(monkeypatch)
    row = '<row r="1" o:x="1"><c r="A1"><v>1</v></c></row>'
    bound = _sheet(row).getvalue().replace(b"<worksheet ", b'<worksheet xmlns:o="urn:o" ')
    assert scan_sheet(io.BytesIO(bound)).max_row == 1
    with pytest.raises(SheetXmlError, match="unbound prefix"):
        scan_sheet(_sheet(row))


def test_scan_sheet_remembers_a_bounded_number_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_known_rows(monkeypatch, limit=3)
    for number in range(1, 8):
        body = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in (1, number))
        assert scan_sheet(_sheet(body)).max_row == number
        assert 1 <= len(sheet_xml._KNOWN_ROWS) <= 3
