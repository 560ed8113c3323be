"""The package check: regular files only, bytes read once within limits, every cap with its
sentence, and DTDs refused wherever they sit in a part."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import EXAMPLES, FillWorkbook
from tests.package_builders import minimal_package, rewrite_package, sheet_entry
from tests.xlsb_builder import write_xlsb
from xlcheck import VerifyOptions, api, package, package_parts, package_xml, verify_workbook
from xlcheck.errors import WorkbookError
from xlcheck.inflated_parts import InflatedParts
from xlcheck.layout import lay_out
from xlcheck.package import MAX_SHEETS, inspect_package
from xlcheck.package_parts import plain_xml, scan_parts
from xlcheck.part_memo import PartMemo
from xlcheck.reader import open_workbook
from xlcheck.spec_loading import load_spec
from xlcheck.workbook_bytes import MAX_FILE_BYTES

LAYOUT = lay_out(load_spec("zhanjiang-overall"))
EXAMPLE = EXAMPLES / "zhanjiang-xinfang-2023.xlsx"
_DOCTYPE = '<!DOCTYPE x [<!ENTITY e "laugh">]>'
_RELATIONSHIPS = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _refusal(path: Path) -> str:
    with pytest.raises(WorkbookError) as caught:
        inspect_package(path)
    return caught.value.render("en")


def _cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    """xlcheck in its own process, with a deadline: a file that hangs the reader fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "xlcheck", "--lang", "en", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(package.__file__).parent.parent)},
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_package_refuses_a_fifo_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "mail.xlsx"
    os.mkfifo(fifo)
    assert "pipe (FIFO), not a regular file" in _refusal(fifo)
    outcome = _cli("verify", str(fifo))
    assert outcome.returncode == 3, outcome.stderr
    assert "not a regular file" in outcome.stderr
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize(
    ("target", "word"),
    [(Path("/dev/zero"), "device"), (None, "folder")],
    ids=["dev-zero", "folder"],
)
def test_package_refuses_what_is_not_a_regular_file(
    tmp_path: Path, target: Path | None, word: str
) -> None:
    if target is None:
        target = tmp_path / "folder.xlsx"
        target.mkdir()
    elif not target.exists():
        pytest.skip(f"{target} does not exist here")
    message = _refusal(target)
    assert word in message and "not a regular file" in message
    assert message.count(".") <= 3  # one sentence and its hint


def test_package_refuses_an_oversized_file_before_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.xlsx"
    with huge.open("wb") as handle:  # sparse: no disk space, nothing to read
        handle.truncate(MAX_FILE_BYTES + 1)
    assert f"larger than the limit of {MAX_FILE_BYTES // 1048576} MB" in _refusal(huge)


def test_package_bytes_are_read_once_and_kept(make_workbook: FillWorkbook) -> None:
    path = make_workbook()
    checked = inspect_package(path)
    assert checked.data == path.read_bytes()


def test_reader_parses_the_bytes_checked_not_a_file_swapped_after(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """After the package check the file is replaced (another unit's figures, then garbage):
    every value and formula read is the checked file's."""
    path = make_workbook(overrides={"budget_basic": 111})
    other = make_workbook(name="other.xlsx", overrides={"budget_basic": 999})
    source = open_workbook(path)
    shutil.copyfile(other, path)
    filled = source.read(LAYOUT)
    path.write_bytes(b"garbage, not a workbook")
    assert filled.cells["budget_basic"].raw == 111
    placed = LAYOUT.by_key["budget_total"]
    assert source.formula_at(placed.sheet, placed.row_number, placed.column_number)


def test_verify_reports_on_the_file_checked_when_it_is_swapped(
    make_workbook: FillWorkbook, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})
    clean = make_workbook(name="clean.xlsx")
    expected = api.verify_workbook(path, options=api.VerifyOptions(annotate=False))
    real_inspect = package.inspect_package

    def inspect_then_swap(target: Path) -> package.Package:
        checked = real_inspect(target)
        shutil.copyfile(clean, target)  # a colleague replaces the file right after the check
        return checked

    monkeypatch.setattr("xlcheck.reader.inspect_package", inspect_then_swap)
    result = api.verify_workbook(path, options=api.VerifyOptions(annotate=False))
    assert "score-above-weight" in [f.code for f in result.findings]
    assert [f.code for f in result.findings] == [f.code for f in expected.findings]


def _with_sheet_prefix(make_workbook: FillWorkbook, tmp_path: Path, prefix: bytes) -> Path:
    """A filled workbook whose 数据表 part starts with ``prefix`` instead of its XML declaration."""
    source = make_workbook()
    entry = sheet_entry(source, "数据表")

    def rewrite(name: str, data: bytes) -> bytes:
        return prefix + re.sub(rb"^<\?xml[^>]*\?>\s*", b"", data) if name == entry else data

    return rewrite_package(source, tmp_path / "prefixed.xlsx", rewrite)


@pytest.mark.parametrize(
    "prefix",
    [
        b'<?xml version="1.0"?>\n<!--' + b"padding " * 4096 + b"-->\n" + _DOCTYPE.encode(),
        b'<?xml version="1.0"?>\n' + b" " * 20_000 + _DOCTYPE.encode(),
        b'<?xml version="1.0"?>\n<!doctype x [<!entity e "laugh">]>',
    ],
    ids=["after-32-kb-of-comment", "after-20-kb-of-spaces", "lower-case"],
)
def test_package_refuses_a_dtd_wherever_it_sits(
    make_workbook: FillWorkbook, tmp_path: Path, prefix: bytes
) -> None:
    path = _with_sheet_prefix(make_workbook, tmp_path, prefix)
    assert "declares a DTD or entities" in _refusal(path)


def test_package_refuses_a_dtd_in_utf16(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    source = make_workbook()
    entry = sheet_entry(source, "数据表")

    def utf16(name: str, data: bytes) -> bytes:
        if name != entry:
            return data
        text = re.sub(r"^<\?xml[^>]*\?>", "", data.decode("utf-8"))
        return ('<?xml version="1.0" encoding="UTF-16"?>' + _DOCTYPE + text).encode("utf-16")

    path = rewrite_package(source, tmp_path / "utf16.xlsx", utf16)
    assert "declares a DTD or entities" in _refusal(path)


@pytest.mark.parametrize("part", ["xl/workbook.xml", "sheet"])
def test_package_never_parses_a_dtd_hidden_by_another_encoding(
    make_workbook: FillWorkbook, tmp_path: Path, part: str
) -> None:
    """A part declaring an encoding in which "<!DOCTYPE" is other bytes (cp500) hides its DTD
    from the byte search: such a part never reaches the C tree builder (``plain_xml``); the
    hardened parsers cannot read it, and the workbook is refused, never misread."""
    source = make_workbook()
    entry = sheet_entry(source, "数据表") if part == "sheet" else part

    def hide(name: str, data: bytes) -> bytes:
        if name != entry:
            return data
        text = _DOCTYPE + re.sub(r"^<\?xml[^>]*\?>", "", data.decode("utf-8"))
        declaration = b'<?xml version="1.0" encoding="cp500"?>'
        return declaration + text.encode("cp500", errors="xmlcharrefreplace")

    path = rewrite_package(source, tmp_path / "cp500.xlsx", hide)
    with pytest.raises(WorkbookError):
        verify_workbook(path, options=VerifyOptions(annotate=False))


@pytest.mark.parametrize(
    ("data", "plain"),
    [
        (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<a/>', True),
        (b"<?xml version='1.0' encoding='us-ascii'?><a/>", True),
        (b"\xef\xbb\xbf<a/>", True),
        (b"<a/>", True),
        (b'<?xml version="1.0" encoding="cp500"?><a/>', False),
        (b'<?xml version="1.0"?><!DOCTYPE a><a/>', False),
        (b'<?xml version="1.0"?><!doctype a><a/>', False),
        (b"<a><!ENTITY x 'y'></a>", False),
        ("<a/>".encode("utf-16"), False),
        (b"PK\x03\x04", False),
        (b"<a><f>S!A1</f>" * 40 + b"<!DOCTYPE a></a>", False),
        (b"<a><f>S!A1</f>" * 40 + b"<!-- x --></a>", True),
        (b"!<!ENTITY x 'y'><a/>", False),
    ],
    ids=[
        "utf-8",
        "ascii",
        "bom",
        "bare",
        "cp500",
        "doctype",
        "lower-case",
        "entity",
        "utf-16",
        "binary",
        "doctype-past-many-bangs",
        "comment-past-many-bangs",
        "entity-after-a-bang",
    ],
)
def test_plain_xml(data: bytes, plain: bool) -> None:
    assert plain_xml(data) is plain


@pytest.mark.parametrize("bangs", [0, 1, 31, 32, 33, 100], ids=str)
@pytest.mark.parametrize("data", [b"<!x", b"<<!x<!", b"!<!x!!<!", b"<a>!</a>", b"!"], ids=repr)
def test_package_parts_find_each_declaration_opener(bangs: int, data: bytes) -> None:
    """The search from each "!" finds where "<!" starts as a search for "<!" itself does."""
    text = b"a!" * bangs + data + b"a!" * bangs + data
    expected = [at for at in range(len(text)) if text.startswith(b"<!", at)]
    assert list(package_parts._ascii_openers(text)) == expected


def test_package_refuses_a_dtd_in_a_part_not_named_xml(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """XML is told from a part's bytes, not its name."""
    path = rewrite_package(
        make_workbook(),
        tmp_path / "renamed.xlsx",
        extra={"xl/custom/data.bin": f'<?xml version="1.0"?>{_DOCTYPE}<x>&e;</x>'.encode()},
    )
    assert "xl/custom/data.bin declares a DTD" in _refusal(path)


def test_package_refuses_two_entries_under_one_name(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    source = make_workbook()
    entry = sheet_entry(source, "数据表")
    path = tmp_path / "twice.xlsx"
    shutil.copyfile(source, path)
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr(entry, b"<worksheet/>")
    assert f"two entries named {entry}" in _refusal(path)


def test_package_refuses_too_many_sheets(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    """Sheets are counted from the workbook part (9,980 empty sheets once took 86 s)."""
    source = make_workbook()

    def more_sheets(name: str, data: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return data
        first = re.search(rb'<sheet [^>]*r:id="([^"]+)"/>', data)
        assert first
        extra = b"".join(
            b'<sheet xmlns:r="%s" name="S%d" sheetId="%d" r:id="%s"/>'
            % (_RELATIONSHIPS, n, 100 + n, first.group(1))
            for n in range(MAX_SHEETS)
        )
        return data.replace(b"</sheets>", extra + b"</sheets>")

    path = rewrite_package(source, tmp_path / "sheets.xlsx", more_sheets)
    template_sheets = len(openpyxl.load_workbook(source).sheetnames)
    expected = f"has {MAX_SHEETS + template_sheets:,} sheets, over the limit of {MAX_SHEETS}"
    assert expected in _refusal(path)


@pytest.mark.parametrize(
    ("limit", "value"),
    [("MAX_SHARED_STRINGS", 10), ("MAX_SHARED_STRINGS_BYTES", 1000)],
    ids=["strings", "bytes"],
)
def test_package_refuses_a_flood_of_shared_strings(
    monkeypatch: pytest.MonkeyPatch, limit: str, value: int
) -> None:
    """The example (saved by LibreOffice) holds about 200 shared strings in 28 KB."""
    inspect_package(EXAMPLE)
    monkeypatch.setattr(package, limit, value)
    assert "shared-strings table holds" in _refusal(EXAMPLE)


def _counted_in_full(path: Path) -> tuple[int, int]:
    """The cells and shared strings of an .xlsx package, every sheet and string counted."""
    data = path.read_bytes()
    parts = InflatedParts(zipfile.ZipFile(io.BytesIO(data)), data)
    names = {name.replace("\\", "/"): name for name in parts.archive.namelist()}
    main_part = package_xml.workbook_part(path, parts, names)
    assert main_part is not None
    sheets = package_xml.sheet_list(path, parts, names, main_part)
    counts = scan_parts(
        parts,
        parts.archive.infolist(),
        sheet_entries=sheets.parts.values(),
        shared_strings=sheets.shared_strings,
    )
    assert counts.cells is not None and counts.shared_strings is not None
    return counts.cells, counts.shared_strings


def test_package_names_each_package_own_application(tmp_path: Path) -> None:
    """What a worker remembers of one app.xml is not lent to a package with another."""

    def saved_by_excel(name: str, data: bytes) -> bytes:
        if name != "docProps/app.xml":
            return data
        return re.sub(
            rb"<Application>[^<]*</Application>", b"<Application>Excel</Application>", data
        )

    excel = rewrite_package(EXAMPLE, tmp_path / "excel.xlsx", saved_by_excel)
    libreoffice = inspect_package(EXAMPLE).application
    assert libreoffice is not None and libreoffice.startswith("LibreOffice/")
    assert inspect_package(excel).application == "Excel 15.0000"
    assert inspect_package(EXAMPLE).application == libreoffice


def test_package_sheet_list_reads_each_package_own_entries(tmp_path: Path) -> None:
    """Two packages with the same workbook part and relationships, one missing a sheet's entry:
    what a worker remembers of the first does not lend the second the missing entry."""
    missing = sheet_entry(EXAMPLE, "基本信息")
    without = rewrite_package(
        EXAMPLE, tmp_path / "without.xlsx", lambda name, data: None if name == missing else data
    )
    whole, partial = inspect_package(EXAMPLE), inspect_package(without)
    assert whole.sheet_names == partial.sheet_names
    assert missing in whole.sheet_parts.values()
    assert missing not in partial.sheet_parts.values()
    assert len(partial.sheet_parts) == len(whole.sheet_parts) - 1


@pytest.mark.parametrize(("over"), [0, 1], ids=["at-the-limit", "one-over"])
@pytest.mark.parametrize(
    ("limit", "refusal"),
    [
        ("MAX_CELLS", "the workbook holds {:,} cells, over the limit"),
        ("MAX_SHARED_STRINGS", "the shared-strings table holds {:,} strings"),
    ],
    ids=["cells", "shared-strings"],
)
def test_package_counts_when_the_parts_could_pass_a_limit(
    monkeypatch: pytest.MonkeyPatch, over: int, limit: str, refusal: str
) -> None:
    """Parts too small to pass a limit are not counted; any that could be, are, exactly."""
    cells, strings = _counted_in_full(EXAMPLE)
    counted = cells if limit == "MAX_CELLS" else strings
    monkeypatch.setattr(package, limit, counted - over)
    if over:
        assert refusal.format(counted) in _refusal(EXAMPLE)
    else:
        inspect_package(EXAMPLE)


def _minimal_ods(path: Path, rows_repeated: int) -> Path:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        '<office:spreadsheet><table:table table:name="数据表">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>项目</text:p>'
        "</table:table-cell></table:table-row>"
        f'<table:table-row table:number-rows-repeated="{rows_repeated}">'
        '<table:table-cell table:number-columns-repeated="3" office:value-type="float"'
        ' office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return path


def test_package_refuses_an_ods_reaching_a_million_rows(tmp_path: Path) -> None:
    """One element repeating a value down a million rows: calamine would allocate every cell."""
    assert inspect_package(_minimal_ods(tmp_path / "small.ods", 10)).kind == "ods"
    message = _refusal(_minimal_ods(tmp_path / "far.ods", 1_000_000))
    assert "sheet '数据表' reaches row 1,000,001, column 3" in message


def test_package_refuses_an_xlsb_reaching_far(tmp_path: Path) -> None:
    near = write_xlsb(tmp_path / "near.xlsb", {"数据表": [["项目", 1.0]]})
    assert inspect_package(near).kind == "xlsb"
    last: list[object] = [None] * 15 + [1.0]
    empty: list[object] = [None]
    rows = [empty] * 1_000_000 + [last]
    far = write_xlsb(tmp_path / "far.xlsb", {"数据表": rows})
    assert "reaches row 1,000,001, column 16" in _refusal(far)


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_inspect_package_reads_the_workbook_part_and_its_date_system(
    date1904: bool, tmp_path: Path
) -> None:
    package = inspect_package(minimal_package(tmp_path / "d.xlsx", "", date1904=date1904))
    assert (package.workbook_part, package.date1904) == ("xl/workbook.xml", date1904)


def test_small_parts_are_parsed_once_per_bytes_and_damaged_ones_refused_each_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A batch worker parses a template's relationships and properties once: the same bytes
    give the same tree, the memory stays bounded, and a damaged part is refused every time."""
    monkeypatch.setattr(package_xml, "_PARSED", PartMemo(limit=2, largest=1 << 16))
    part = b"<Properties><Application>Microsoft Excel</Application></Properties>"
    first = package_xml.parse_xml(tmp_path, "docProps/app.xml", part)
    assert package_xml.parse_xml(tmp_path, "docProps/app.xml", part) is first
    for number in range(5):
        package_xml.parse_xml(tmp_path, "docProps/app.xml", part.replace(b"Excel", b"%d" % number))
        assert len(package_xml._PARSED) <= 2
    for _ in range(2):
        with pytest.raises(WorkbookError, match=re.escape("docProps/app.xml")):
            package_xml.parse_xml(tmp_path, "docProps/app.xml", b"<Properties><Application>")
