"""xlsx_values: an .xlsx sheet's values taken from its scan equal python-calamine's
(sheet_values.read_sheets), cell by cell and type by type (int or float, datetime, time,
timedelta, bool), on every .xlsx the suite has and on packages crafted for each way calamine
reads a cell; what the scan cannot vouch for goes to calamine, and the reader then gives
calamine's values or its refusal, as before."""

from __future__ import annotations

import itertools
import math
import random
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, SHARED_SAMPLES
from tests.package_builders import minimal_package
from tests.test_golden_cases import CASE_DIRS
from tests.test_golden_cases import _build as build_golden_case
from xlcheck import xlsx_values
from xlcheck.errors import WorkbookError
from xlcheck.package import Package, inspect_package
from xlcheck.part_memo import PartMemo
from xlcheck.reader import open_workbook
from xlcheck.sheet_values import Grid, read_sheets
from xlcheck.sheet_xml import SheetScan, scan_sheet
from xlcheck.xlsx_values import WorkbookValues, format_kind, sheet_grid, workbook_values

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _scan(package: Package, sheet: str) -> SheetScan:
    with package.open_zip() as archive, archive.open(package.sheet_parts[sheet]) as stream:
        return scan_sheet(stream, keep_values=True)


def _scan_grid(package: Package, sheet: str = "S") -> Grid | None:
    """The sheet's values from its scan, or None when they are left to calamine."""
    scan = _scan(package, sheet)
    values = workbook_values(package)
    if scan.values is None or values is None:
        return None
    return sheet_grid(scan.values, values)


def _typed(grid: Grid) -> list[list[tuple[str, Any]]]:
    """Each value with its type; NaN made comparable."""
    return [
        [(type(v).__name__, "nan" if isinstance(v, float) and math.isnan(v) else v) for v in row]
        for row in grid
    ]


def _calamine(package: Package, sheets: list[str]) -> dict[str, Grid] | str:
    """calamine's values of ``sheets``, or its refusal's message."""
    try:
        return read_sheets(package.path, package.data, sheets)
    except WorkbookError as exc:
        return str(exc)


def _compare_workbook(path: Path) -> tuple[int, int]:
    """Compare every sheet of ``path`` read both ways: (sheets compared, sheets left to
    calamine)."""
    try:
        package = inspect_package(path)
    except WorkbookError as exc:
        pytest.skip(f"xlcheck refuses this workbook: {exc}")
    sheets = [name for name in package.sheet_names if name in package.sheet_parts]
    theirs = _calamine(package, sheets)
    if isinstance(theirs, str):
        pytest.skip(f"calamine cannot read this workbook: {theirs}")
    compared = left = 0
    for sheet in sheets:
        ours = _scan_grid(package, sheet)
        if ours is None:
            left += 1
            continue
        assert _typed(ours) == _typed(theirs[sheet]), f"{path.name} {sheet}"
        compared += 1
    return compared, left


def _workbooks() -> list[Any]:
    paths = sorted(FIXTURES.glob("*.xlsx")) + sorted(EXAMPLES.glob("*.xlsx"))
    if SHARED_SAMPLES.is_dir():
        paths += sorted(SHARED_SAMPLES.glob("*.xlsx"))
    return [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in paths]


@pytest.mark.parametrize("path", _workbooks())
def test_xlsx_values_equal_calamine_on_every_workbook(path: Path) -> None:
    _compare_workbook(path)


def test_xlsx_values_read_nearly_every_sheet_of_the_workbooks() -> None:
    """The scan is no bypass that never runs: it reads all but the odd sheet itself."""
    compared = left = 0
    for param in _workbooks():
        try:
            counts = _compare_workbook(param.values[0])
        except pytest.skip.Exception:
            continue
        compared, left = compared + counts[0], left + counts[1]
    assert compared >= 10 * max(left, 1), (compared, left)


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[c.name for c in CASE_DIRS])
def test_xlsx_values_equal_calamine_on_golden_cases(case_dir: Path, tmp_path: Path) -> None:
    compared, left = _compare_workbook(build_golden_case(case_dir, tmp_path))
    assert compared and not left


# --- crafted packages ---------------------------------------------------------------------------

#: Cases the scan reads: (id, the sheet's rows, package options).

#: Shared strings each one plain ``<t>``: trimmed and kept spaces, references, line ends,
#: Excel's escapes, an empty one.
PLAIN_SHARED_STRINGS = (
    "<si><t>plain</t></si><si><t> trimmed </t></si>"
    '<si><t xml:space="preserve"> kept </t></si><si><t>a&amp;b &lt;c&gt; &quot;d&apos;</t></si>'
    "<si><t>line&#10;feed&#x41;&#13;</t></si><si><t>cr\r\nlf\rcr</t></si>"
    "<si><t></t></si><si><t>SH_x005F_x000D_Z</t></si><si><t>_x000D_</t></si>"
    "<si><t>漢字</t></si>"
)

_READ: list[tuple[str, str, dict[str, Any]]] = [
    (
        "numbers",
        '<row r="1">'
        + "".join(
            f'<c r="{column}1"><v>{text}</v></c>'
            for column, text in zip(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                [
                    "1",
                    "1.5",
                    "-0",
                    "+1",
                    "1.",
                    ".5",
                    "+.5",
                    "1e5",
                    "1E+05",
                    "1.e5",
                    "00012",
                    "1e-300",
                    "-1e-400",
                    "1e400",
                    "123456789012345678901234567890",
                    "64.95999999999999",
                    "0.1",
                    "9007199254740993",
                    "-2.5E-3",
                ],
                strict=False,
            )
        )
        + '</row><row r="2"><c r="A2" t="n"><v>7</v></c><c r="B2" t="n"><v>7.25</v></c></row>',
        {},
    ),
    (
        "number-in-text-format",
        '<row r="1"><c r="A1" s="1"><v>12</v></c><c r="B1" s="2"><v>0.985</v></c>'
        '<c r="C1" s="3"><v>5</v></c><c r="D1" s="99"><v>3.5</v></c></row>',
        {"cell_formats": [0, 49, 10, 164], "number_formats": {164: "@"}},
    ),
    (
        "booleans",
        '<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="b"><v>0</v></c>'
        '<c r="E1" t="b"><v/></c></row><row r="2"><c r="A2" t="b"><f>1=1</f><v>1</v></c></row>',
        {},
    ),
    (
        "errors",
        '<row r="1">'
        + "".join(
            f'<c r="{column}1" t="e"><v>{error}</v></c>'
            for column, error in zip(
                "ABCDEFG",
                ["#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"],
                strict=True,
            )
        )
        + '</row><row r="3"><c r="C3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>',
        {},
    ),
    (
        "formula-text",
        '<row r="1"><c r="A1" t="str"><f>"a"&amp;"b"</f><v>a&amp;b</v></c>'
        '<c r="B1" t="str"><v> spaced </v></c><c r="C1" t="str"><v></v></c>'
        '<c r="D1" t="str"><v>#N/A</v></c><c r="E1" t="str"><v>line\r\nbreak</v></c></row>',
        {},
    ),
    (
        "formulas-without-cached-values",
        '<row r="1"><c r="A1"><f>1+1</f></c><c r="B1"><f>1+1</f><v>2</v></c>'
        '<c r="C1"><v>2</v><f>1+1</f></c><c r="D1" t="s"><f>X1</f></c></row>'
        '<row r="4"><c r="E4"><f>1+1</f></c></row>',
        {},
    ),
    (
        "empty-values",
        '<row r="1"><c r="A1"><v/></c><c r="B1" t="n"><v></v></c><c r="C1" t="s"><v/></c>'
        '<c r="D1" t="e"><v/></c><c r="E1" t="inlineStr"><v>x</v></c></row>'
        '<row r="2"><c r="A2" t="str"><v/></c></row><row r="5"><c r="H5" s="1"/></row>',
        {"cell_formats": [0, 14]},
    ),
    (
        "inline-strings",
        '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t> trimmed\t</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t xml:space="preserve"> kept </t></is></c>'
        '<c r="D1" t="inlineStr"><is><r><t>a</t></r><r><t xml:space="preserve"> b</t></r></is></c>'
        '<c r="E1" t="inlineStr"><is><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></is></c>'
        '<c r="F1" t="inlineStr"><is/></c><c r="G1" t="inlineStr"><is><t>A_x000D_B</t></is></c>'
        '<c r="H1" t="inlineStr"><is><t>_x0020_x</t></is></c><c r="I1"><is><t>no t</t></is></c>'
        '<c r="J1" t="inlineStr"><is><t> </t></is></c></row>',
        {},
    ),
    (
        "shared-strings",
        '<row r="1">'
        + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEFGHIJ"))
        + "</row>",
        {
            "shared_strings": "<si><t>plain</t></si><si><t> trimmed </t></si>"
            '<si><t xml:space="preserve"> kept </t></si>'
            '<si><r><rPr><b/></rPr><t>rich</t></r><r><t xml:space="preserve"> text</t></r></si>'
            '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>'
            "<si/><si><t></t></si><si><t>SH_x005F_x000D_Z</t></si><si><t>_x00+A_</t></si>"
            "<si><t>a&amp;b &lt;c&gt;</t></si>"
        },
    ),
    (
        "plain-shared-strings",
        '<row r="1">'
        + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEFGHIJ"))
        + "</row>",
        {"shared_strings": PLAIN_SHARED_STRINGS},
    ),
    (
        "iso-dates",
        '<row r="1">'
        + "".join(
            f'<c r="{column}1" t="d"><v>{text}</v></c>'
            for column, text in zip(
                "ABCDEFGH",
                [
                    "2023-01-05",
                    "2023-01-05T10:20:30",
                    "2023-01-05T10:20:30.123456789",
                    "10:20:30",
                    "10:20:30.5",
                    "2023-02-30",
                    "0000-01-01",
                    "",
                ],
                strict=True,
            )
        )
        + "</row>",
        {},
    ),
    (
        "cells-out-of-order-and-repeated",
        '<row r="3"><c r="C3"><v>3</v></c><c r="A3"><v>1</v></c></row>'
        '<row r="1"><c r="B1"><v>2</v></c><c r="B1"><v>5</v></c></row>',
        {},
    ),
    (
        "only-blank-values-still-reach",
        '<row r="2"><c r="B2" t="str"><v></v></c></row><row r="4"><c r="D4" t="e"><v>#N/A</v></c></row>',
        {},
    ),
]


def _dates_sheet(values: list[float], styles: int) -> str:
    return "".join(
        f'<row r="{r + 1}">'
        + "".join(f'<c r="{chr(65 + s)}{r + 1}" s="{s}"><v>{v!r}</v></c>' for s in range(styles))
        + "</row>"
        for r, v in enumerate(values)
    )


_SERIALS = [
    0.0,
    0.5,
    0.999999999,
    0.99999999999,
    1.0,
    1.5,
    59.0,
    59.75,
    60.0,
    60.5,
    61.0,
    366.0,
    43831.0,
    43831.0423726852,
    43831.5,
    43831.00000000579,
    2958465.0,
    2958465.99999,
    2958466.0,
    1e6,
    -0.25,
    -1.0,
    -700000.5,
    0.1234567891,
    0.0000057870,
]
random.seed(20240501)
_SERIALS += [round(random.uniform(-10, 3e6), random.randint(0, 12)) for _ in range(60)]
_SERIALS += [
    random.randint(0, 50000) + random.randint(0, 86_400_000) / 86_400_000 for _ in range(60)
]
#: Formats: general, built-in date, datetime, time, duration, CJK date, custom date, custom
#: duration, AM/PM time, a percentage, and text.
_DATE_FORMATS = {
    "cell_formats": [0, 14, 22, 21, 46, 57, 164, 165, 166, 10, 49, 45, 47, 31],
    "number_formats": {164: "yyyy-mm-dd", 165: "[h]:mm", 166: "h:mm AM/PM"},
}
_READ += [
    ("dates", _dates_sheet(_SERIALS, 14), _DATE_FORMATS),
    ("dates-1904", _dates_sheet(_SERIALS, 14), {**_DATE_FORMATS, "date1904": True}),
]

#: Cases left to calamine: (id, the sheet's rows, or the whole part, and package options).
_LEFT: list[tuple[str, str, dict[str, Any]]] = [
    *(
        (f"number-{name}", f'<row r="1"><c r="A1"><v>{text}</v></c></row>', {})
        for name, text in [
            ("leading-space", " 1"),
            ("trailing-space", "1 "),
            ("inf", "inf"),
            ("nan", "nan"),
            ("underscore", "1_0"),
            ("hex", "0x1"),
            ("bare-exponent", "1e"),
            ("arabic-digit", "٣"),
            ("text", "abc"),
        ]
    ),
    ("number-typed-text", '<row r="1"><c r="A1" t="n"><v>abc</v></c></row>', {}),
    ("style-leading-zero", '<row r="1"><c r="A1" s="01"><v>1</v></c></row>', {}),
    ("style-not-a-number", '<row r="1"><c r="A1" s="x"><v>1</v></c></row>', {}),
    ("string-index-leading-zero", '<row r="1"><c r="A1" t="s"><v>00</v></c></row>', {}),
    ("string-index-spaced", '<row r="1"><c r="A1" t="s"><v> 0</v></c></row>', {}),
    ("string-index-past-the-table", '<row r="1"><c r="A1" t="s"><v>5</v></c></row>', {}),
    *(
        (f"boolean-{name}", f'<row r="1"><c r="A1" t="b"><v>{text}</v></c></row>', {})
        for name, text in [
            ("true", "true"),
            ("false", "FALSE"),
            ("two", "2"),
            ("spaced", " 1"),
            ("with-entity", "0&amp;"),
        ]
    ),
    ("unknown-error", '<row r="1"><c r="A1" t="e"><v>#SPILL!</v></c></row>', {}),
    ("unknown-type", '<row r="1"><c r="A1" t="x"><v>1</v></c></row>', {}),
    ("iso-date-written-otherwise", '<row r="1"><c r="A1" t="d"><v>2023-1-5</v></c></row>', {}),
    ("date-far-out", '<row r="1"><c r="A1" s="1"><v>-2e7</v></c></row>', {"cell_formats": [0, 14]}),
    ("cell-without-reference", '<row r="1"><c><v>1</v></c><c><v>2</v></c></row>', {}),
    ("row-number-spaced", '<row r=" 1"><c r="A1"><v>1</v></c></row>', {}),
    ("extension-in-a-cell", '<row r="1"><c r="A1"><v>1</v><extLst/></c></row>', {}),
    ("comment-in-a-value", '<row r="1"><c r="A1"><v>1<!--x-->2</v></c></row>', {}),
    ("cdata-in-a-value", '<row r="1"><c r="A1"><v><![CDATA[12]]></v></c></row>', {}),
    ("instruction-in-a-value", '<row r="1"><c r="A1"><v>1<?pi x?>2</v></c></row>', {}),
    ("character-reference-in-a-value", '<row r="1"><c r="A1"><v>1&#48;</v></c></row>', {}),
    (
        "comment-past-many-dashes",
        "".join(f'<row r="{i}"><c r="A{i}" t="str"><v>-{i}-</v></c></row>' for i in range(1, 40))
        + '<row r="50"><c r="A50"><v>1<!---->2</v></c></row>',
        {},
    ),
    (
        "odd-dimension",
        "",
        {
            "sheet_xml": '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<dimension ref="A0"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'
        },
    ),
    (
        "latin-1",
        "",
        {
            "sheet_xml": '<?xml version="1.0" encoding="ISO-8859-1"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="str"><v>x</v></c></row></sheetData></worksheet>'
        },
    ),
]


def _both(path: Path) -> tuple[Package, Grid | None, Grid | str]:
    package = inspect_package(path)
    theirs = _calamine(package, ["S"])
    return package, _scan_grid(package), theirs if isinstance(theirs, str) else theirs["S"]


@pytest.mark.parametrize(("rows", "options"), [c[1:] for c in _READ], ids=[c[0] for c in _READ])
def test_xlsx_values_equal_calamine_on_crafted_cells(
    rows: str, options: dict[str, Any], tmp_path: Path
) -> None:
    _, ours, theirs = _both(minimal_package(tmp_path / "crafted.xlsx", rows, **options))
    assert not isinstance(theirs, str), theirs
    assert ours is not None, "the scan left the sheet to calamine"
    assert _typed(ours) == _typed(theirs)


@pytest.mark.parametrize(("rows", "options"), [c[1:] for c in _LEFT], ids=[c[0] for c in _LEFT])
def test_xlsx_values_leave_to_calamine_what_it_reads_its_own_way(
    rows: str, options: dict[str, Any], tmp_path: Path
) -> None:
    path = minimal_package(tmp_path / "crafted.xlsx", rows, **options)
    _, ours, theirs = _both(path)
    assert ours is None
    # The reader then gives calamine's values, or its refusal.
    source = open_workbook(path)
    if isinstance(theirs, str):
        with pytest.raises(WorkbookError) as raised:
            source.sheet_values(["S"])
        assert str(raised.value) == theirs
    else:
        assert _typed(source.sheet_values(["S"])["S"]) == _typed(theirs)


def test_xlsx_values_read_the_built_in_formats_as_calamine(tmp_path: Path) -> None:
    """Every built-in number format id, and a few written otherwise, as the installed calamine
    tells dates, times and durations from numbers."""
    ids: list[Any] = [*range(400), "014", "+14", " 14", "46 "]
    rows = "".join(
        f'<row r="{i + 1}"><c r="A{i + 1}" s="{i}"><v>43831.5</v></c></row>'
        for i in range(len(ids))
    )
    path = minimal_package(tmp_path / "builtin.xlsx", rows, cell_formats=ids)
    _, ours, theirs = _both(path)
    assert ours is not None and not isinstance(theirs, str)
    assert _typed(ours) == _typed(theirs)


def test_xlsx_values_read_custom_formats_as_calamine(tmp_path: Path) -> None:
    """calamine's own test formats and random ones, date or not as calamine decides."""
    codes = [
        "DD/MM/YY",
        "H:MM:SS;@",
        "#,##0\\ [$\\u20bd-46D]",
        'm"M"d"D";@',
        "[h]:mm:ss",
        '"Y: "0.00"m";"Y: "-0.00"m";"Y: <num>m";@',
        '"$"#,##0_);[Red]("$"#,##0)',
        '[$-404]e"\\xfc"m"\\xfc"d"\\xfc"',
        "0_ ;[Red]\\-0\\ ",
        "\\Y000000",
        '#,##0.0####" YMD"',
        "[h]",
        "[ss]",
        "[s].000",
        "[mm]",
        "[Blue]\\+[h]:mm;[Red]\\-[h]:mm;[Green][h]:mm",
        "[>=100][Magenta][s].00",
        "[>=100][Magenta].00",
        "[>=100][Magenta]General",
        "ha/p\\\\m",
        '#,##0.00\\ _M"H"_);[Red]#,##0.00\\ _M"S"_)',
        "#,##0*y",
        '0"x"*d',
        "*-yyyy-mm-dd",
        '[DBNum1]上午/下午h"时"mm"分"',
        'yyyy"年"m"月"d"日"',
        "0.00%",
        "@",
        "General",
    ]
    alphabet = list('dmhysDMHYSaApP/"\\_*;[]0#.,: e@-$H')
    generator = random.Random(7)
    codes += ["".join(generator.choices(alphabet, k=generator.randint(1, 8))) for _ in range(1500)]
    codes = list(dict.fromkeys(codes))
    rows = "".join(
        f'<row r="{i + 1}"><c r="A{i + 1}" s="{i}"><v>43831.5</v></c></row>'
        for i in range(len(codes))
    )
    path = minimal_package(
        tmp_path / "custom.xlsx",
        rows,
        cell_formats=[200 + i for i in range(len(codes))],
        number_formats={200 + i: code for i, code in enumerate(codes)},
    )
    _, ours, theirs = _both(path)
    assert ours is not None and not isinstance(theirs, str)
    assert _typed(ours) == _typed(theirs)
    assert format_kind("[h]:mm") == 2 and format_kind("yyyy") == 1 and format_kind("0.0") == 0


#: The spelling of a number both calamine and Python's float() read, to the same double.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def test_xlsx_values_read_a_number_only_in_the_spelling_both_parsers_share() -> None:
    """Every string of up to four characters from a tricky alphabet (and longer random ones) is
    read here exactly when it has that spelling."""
    workbook = WorkbookValues({}, {}, False)
    alphabet = "01.eE+-_ \tia\n٣x"
    texts = ["".join(t) for n in range(1, 5) for t in itertools.product(alphabet, repeat=n)]
    generator = random.Random(3)
    texts += ["".join(generator.choices(alphabet, k=generator.randint(5, 9))) for _ in range(5000)]
    for text in texts:
        grid = sheet_grid([(1, 1, None, None, text, None)], workbook)
        assert (grid is not None) == (_NUMBER.fullmatch(text) is not None), repr(text)
        if grid is not None:
            number = float(text)
            assert grid == [[int(number) if number.is_integer() else number]]


def test_xlsx_values_leave_a_leap_second_to_calamine() -> None:
    # calamine reads it as 23:59:59 and warns (pyo3 ignores the leap second).
    assert sheet_grid([(1, 1, "d", None, "23:59:60", None)], WorkbookValues({}, {}, False)) is None


def test_xlsx_values_take_a_window_of_the_cells(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c><c r="Z1"><v>2</v></c></row><row r="900"><c r="B900"><v>3</v></c></row>'
    package = inspect_package(minimal_package(tmp_path / "w.xlsx", rows))
    scan = _scan(package, "S")
    values = workbook_values(package)
    assert scan.values is not None and values is not None
    assert sheet_grid(scan.values, values, (10, 3)) == [[1]]
    assert sheet_grid(scan.values, values, (900, 2)) == [[1, None]] + [[None, None]] * 898 + [
        [None, 3]
    ]


_SST = '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{n}">'


def _strings_part(items: str, root: str = _SST, n: int = 3) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>{root.format(n=n)}{items}</sst>'.encode()


def _strings_as_parsed_whole(data: bytes) -> dict[str, str | None] | None:
    root = xlsx_values._parse(data)
    return xlsx_values._shared_strings(root) if root is not None else None


_RICH_SHARED_STRINGS = (
    '<si><r><rPr><b/></rPr><t>rich</t></r><r><t xml:space="preserve"> text</t></r></si>'
    '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>'
    "<si/><si><t>_x00+A_</t></si>\n"
)


@pytest.mark.parametrize(
    ("seen", "items"),
    [
        pytest.param(PLAIN_SHARED_STRINGS, PLAIN_SHARED_STRINGS, id="plain"),
        pytest.param(_RICH_SHARED_STRINGS, _RICH_SHARED_STRINGS, id="rich"),
        pytest.param(
            "<si><t>a</t></si><si><t>b</t></si>",
            "<si><t>b</t></si><si><t>new</t></si> <si><t>a</t></si>",
            id="some-known-elsewhere",
        ),
        pytest.param(
            "<si><t>b</t></si>",
            "<si><t>a</t><si><t>b</t></si><si><t>c</t></si></si>",
            id="known-string-inside-another",
        ),
        pytest.param("<si><t>b</t></si>", "<x/><si><t>b</t></si>", id="another-element"),
        pytest.param(
            "<si><t>b</t></si>", "<sir/><si><t>b</t></si>", id="another-element-beginning-si"
        ),
        pytest.param("<si><t>b</t></si>", "<si><t>a</t><si><t>b</t></si>", id="malformed"),
        pytest.param(
            "<si><t>b</t></si>",
            '<si><t>a</t></si><!-- <si><t>b</t></si><si> --><x:si xmlns:x="urn:x"><t>c</t></x:si>',
            id="known-string-in-a-comment",
        ),
        pytest.param(
            "<si><t>b</t></si>",
            '<si><t>a</t></si><?pi <si><t>b</t></si><si> ?><x:si xmlns:x="urn:x"><t>c</t></x:si>',
            id="known-string-in-a-processing-instruction",
        ),
    ],
)
def test_xlsx_values_read_known_shared_strings_as_read_first(
    seen: str, items: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shared strings a worker has read before, in another part or the same, are not parsed
    again; the strings are those of the part parsed whole, whatever the part around them."""
    monkeypatch.setattr(xlsx_values, "_KNOWN_STRINGS", PartMemo(limit=64, largest=2048))
    part = _strings_part(items)
    expected = _strings_as_parsed_whole(part)
    xlsx_values._read_shared_strings(_strings_part(seen, n=7))
    assert xlsx_values._read_shared_strings(part) == expected  # another part's strings known
    assert xlsx_values._read_shared_strings(part) == expected  # and the part's own


def test_xlsx_values_read_known_shared_strings_with_their_part_s_namespaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A string known from a part that binds the prefix it uses leaves a part that does not
    bind it unread (to calamine), as when it is parsed whole."""
    monkeypatch.setattr(xlsx_values, "_KNOWN_STRINGS", PartMemo(limit=64, largest=2048))
    item = '<si o:x="1"><t>a</t></si>'
    bound = _SST.replace("<sst ", '<sst xmlns:o="urn:o" ')
    assert xlsx_values._read_shared_strings(_strings_part(item, bound)) == {"0": "a"}
    assert xlsx_values._read_shared_strings(_strings_part(item)) is None


def test_xlsx_values_remember_a_bounded_number_of_shared_strings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(xlsx_values, "_KNOWN_STRINGS", PartMemo(limit=3, largest=2048))
    for number in range(1, 8):
        part = _strings_part(f"<si><t>a</t></si><si><t>{number}</t></si>")
        assert xlsx_values._read_shared_strings(part) == {"0": "a", "1": str(number)}
        assert 1 <= len(xlsx_values._KNOWN_STRINGS) <= 3
