"""Files that are not what they seem, hostile packages, and the guarantees around them."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

import xlcheck
from tests.conftest import FillWorkbook
from tests.package_builders import (
    add_far_cell,
    billion_laughs,
    fake_ole,
    rewrite_package,
    sha256,
    zip_bomb,
)
from xlcheck import annotator, api, cell_values
from xlcheck.cli import cli
from xlcheck.errors import OutputExistsError, WorkbookError
from xlcheck.findings import VerificationResult
from xlcheck.package import MAX_CELLS, MAX_UNCOMPRESSED_BYTES, inspect_package


def _verify(path: Path, **options: object) -> VerificationResult:
    return api.verify_paths([path], options=api.VerifyOptions(**options))[0]  # type: ignore[arg-type]


def _is_sentence(reason: str | None) -> bool:
    return (
        bool(reason)
        and "Traceback" not in (reason or "")
        and (reason or "").rstrip().endswith(("。", ".", "）", ")"))
    )


def _docx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")


def _ods(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")


Build = Callable[[Path], object]

NOT_WORKBOOKS: dict[str, tuple[Build, str]] = {
    "pdf-renamed": (
        lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
        "PDF",
    ),
    "docx-renamed": (_docx, "Word"),
    "html-saved-as-xls": (
        lambda p: p.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>"),
        "HTML",
    ),
    "csv": (lambda p: p.write_text("项目,预算数\n基本支出,1000\n", encoding="utf-8"), "CSV"),
    "empty": (lambda p: p.write_bytes(b""), "0"),
    "ods": (_ods, "ods"),
    "encrypted": (lambda p: fake_ole(p, encrypted=True), "encrypted"),
    "random-bytes": (lambda p: p.write_bytes(bytes(range(256)) * 8), "unrecognised"),
    "spreadsheetml-2003": (
        lambda p: p.write_text(
            '<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>'
        ),
        "2003",
    ),
}


@pytest.mark.parametrize("kind", list(NOT_WORKBOOKS), ids=list(NOT_WORKBOOKS))
def test_robustness_not_a_workbook_is_one_sentence_and_exit_3(tmp_path: Path, kind: str) -> None:
    build, word = NOT_WORKBOOKS[kind]
    path = tmp_path / f"{kind}.xlsx"
    build(path)
    before = sha256(path)
    result = _verify(path, lang="en")
    assert result.status == "unreadable"
    assert _is_sentence(result.unreadable_reason), result.unreadable_reason
    assert word.lower() in (result.unreadable_reason or "").lower()
    assert sha256(path) == before
    assert not (tmp_path / f"{kind}.checked.xlsx").exists()
    outcome = CliRunner().invoke(cli, ["verify", str(path)])
    assert outcome.exit_code == 3, outcome.output
    assert "Traceback" not in outcome.output


def test_robustness_truncated_download_says_incomplete(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    whole = make_workbook().read_bytes()
    for cut in (len(whole) // 3, len(whole) - 30):
        path = tmp_path / f"cut-{cut}.xlsx"
        path.write_bytes(whole[:cut])
        result = _verify(path, lang="en")
        assert result.status == "unreadable"
        assert _is_sentence(result.unreadable_reason)
        assert "incomplete" in (result.unreadable_reason or "") or "damaged" in (
            result.unreadable_reason or ""
        )


def test_robustness_zip_bomb_refused_before_inflating(tmp_path: Path) -> None:
    path = zip_bomb(tmp_path / "bomb.xlsx", size=MAX_UNCOMPRESSED_BYTES + (8 << 20))
    assert path.stat().st_size < 2 << 20
    started = time.perf_counter()
    with pytest.raises(WorkbookError, match="zip bomb"):
        try:
            inspect_package(path)
        except WorkbookError as exc:
            raise WorkbookError(path, exc.message_en) from exc
    assert time.perf_counter() - started < 1.0
    assert _verify(path).status == "unreadable"


def test_robustness_high_compression_ratio_refused(tmp_path: Path) -> None:
    path = zip_bomb(tmp_path / "ratio.xlsx", size=20 << 20)
    result = _verify(path, lang="en")
    assert result.status == "unreadable"
    assert "compressed" in (result.unreadable_reason or "")


@pytest.mark.parametrize(
    "part", ["xl/worksheets/sheet1.xml", "xl/styles.xml", "docProps/custom.xml", "xl/workbook.xml"]
)
def test_robustness_billion_laughs_refused(
    make_workbook: FillWorkbook, tmp_path: Path, part: str
) -> None:
    source = make_workbook()
    path = rewrite_package(
        source,
        tmp_path / "laughs.xlsx",
        lambda name, data: billion_laughs() if name == part else data,
    )
    started = time.perf_counter()
    result = _verify(path, lang="en")
    assert result.status == "unreadable"
    assert "entit" in (result.unreadable_reason or "")
    assert time.perf_counter() - started < 5


def test_robustness_openpyxl_itself_refuses_entities(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """The second line of defence: openpyxl parses through defusedxml when it is installed."""
    import defusedxml  # type: ignore[import-untyped]

    path = rewrite_package(
        make_workbook(),
        tmp_path / "laughs.xlsx",
        lambda name, data: billion_laughs() if name == "xl/worksheets/sheet1.xml" else data,
    )
    with path.open("rb") as handle, pytest.raises(ValueError) as caught:
        openpyxl.load_workbook(handle)
    assert isinstance(caught.value.__context__, defusedxml.DefusedXmlException)


@pytest.mark.parametrize("cell_ref", ["XFD1048576", "A1048576", "XFD1"])
def test_robustness_far_cell_reads_in_bounded_time(
    make_workbook: FillWorkbook, tmp_path: Path, cell_ref: str
) -> None:
    source = make_workbook()
    path = add_far_cell(source, tmp_path / "far.xlsx", "数据表", cell_ref)
    baseline = _verify(source, annotate=False)
    started = time.perf_counter()
    result = _verify(path, annotate=False)
    assert time.perf_counter() - started < 10
    assert [f.code for f in result.findings] == [f.code for f in baseline.findings]
    assert result.status == baseline.status


def test_robustness_too_many_cells_refused(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    row = "".join(f'<c t="n"><v>{i}</v></c>' for i in range(100)).encode()
    rows = b"".join(
        b'<row r="%d">' % r + row + b"</row>" for r in range(30, 30 + MAX_CELLS // 100 + 2)
    )

    def rewrite(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b"</sheetData>", rows + b"</sheetData>", 1)
        return data

    path = rewrite_package(make_workbook(), tmp_path / "huge.xlsx", rewrite)
    started = time.perf_counter()
    result = _verify(path, lang="en")
    assert result.status == "unreadable"
    assert "cells" in (result.unreadable_reason or "")
    assert time.perf_counter() - started < 10


def test_robustness_very_long_strings_fit_the_annotated_copy(make_workbook: FillWorkbook) -> None:
    long_text = "=" + "长" * 40_000
    path = make_workbook(
        overrides={"staff_in_service": "x" * 40_000, "reason.goal_reasonable": long_text}
    )
    result = _verify(path)
    assert result.annotated is not None
    book = openpyxl.load_workbook(result.annotated)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert len(cell.value) <= cell_values.MAX_CELL_TEXT
                if cell.comment is not None:
                    assert len(cell.comment.text) <= cell_values.MAX_CELL_TEXT


def test_robustness_chinese_file_name_with_spaces(make_workbook: FillWorkbook) -> None:
    path = make_workbook(name="湛江市 信访局 2023 自评（终稿）.xlsx")
    result = _verify(path)
    assert result.status in ("ok", "warnings")
    assert result.annotated == path.with_name("湛江市 信访局 2023 自评（终稿）.checked.xlsx")
    assert result.annotated.is_file()
    outcome = CliRunner().invoke(cli, ["verify", "--force", str(path)])
    assert outcome.exit_code == 0, outcome.output


def test_robustness_read_only_folder_puts_copy_in_working_directory(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    real_mkstemp = tempfile.mkstemp

    def refuse_input_folder(*args: object, **kwargs: object) -> tuple[int, str]:
        if Path(str(kwargs.get("dir"))).resolve() == path.parent.resolve():
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(tempfile, "mkstemp", refuse_input_folder)
    before = sha256(path)
    result = _verify(path)
    assert result.annotated == elsewhere / "filled.checked.xlsx"
    assert result.annotated.is_file()
    assert sha256(path) == before


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions"
)
def test_robustness_read_only_folder_for_real(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook()
    monkeypatch.chdir(tmp_path.parent)
    path.parent.chmod(0o555)
    try:
        result = _verify(path)
    finally:
        path.parent.chmod(0o755)
    assert result.annotated is not None
    assert result.annotated.parent != path.parent


def test_robustness_explicit_output_in_read_only_place_is_exit_3(
    make_workbook: FillWorkbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook()

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = _verify(path, output=tmp_path / "out" / "copy.xlsx", lang="en")
    assert result.status == "unreadable"
    assert "annotated copy" in (result.unreadable_reason or "")


def test_robustness_existing_output_is_not_overwritten(make_workbook: FillWorkbook) -> None:
    path = make_workbook()
    existing = path.with_name("filled.checked.xlsx")
    existing.write_bytes(b"mine")
    with pytest.raises(OutputExistsError):
        api.verify_workbook(path)
    assert existing.read_bytes() == b"mine"
    outcome = CliRunner().invoke(cli, ["verify", str(path)])
    assert outcome.exit_code == 3
    assert "--force" in outcome.output
    assert existing.read_bytes() == b"mine"


def test_robustness_input_bytes_never_change(make_workbook: FillWorkbook) -> None:
    path = make_workbook(overrides={"budget_basic": "1,000.5"})
    before = sha256(path)
    stat = path.stat()
    _verify(path)
    _verify(path, force=True, lang="en")
    assert sha256(path) == before
    assert path.stat().st_mtime_ns == stat.st_mtime_ns


def test_robustness_interrupted_save_leaves_no_file(
    make_workbook: FillWorkbook, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook()
    real_fdopen = os.fdopen

    class FullDisk:
        """A file that takes half of what is written, then reports a full disk."""

        def __init__(self, stream: Any) -> None:
            self.stream = stream

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc_info: object) -> None:
            self.stream.close()

        def write(self, data: bytes) -> int:
            self.stream.write(data[: len(data) // 2])
            raise OSError(28, "No space left on device")

    def half_written(fd: int, *args: Any, **kwargs: Any) -> Any:
        return FullDisk(real_fdopen(fd, *args, **kwargs))

    monkeypatch.setattr(os, "fdopen", half_written)
    result = _verify(path, lang="en")
    assert result.status == "unreadable"
    assert "No space left" in (result.unreadable_reason or "")
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_robustness_macros_are_reported_and_dropped_from_xlsx_copy(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = rewrite_package(
        make_workbook(),
        tmp_path / "macro.xlsm",
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not run"},
    )
    result = _verify(path)
    assert "macros-present" in [f.code for f in result.findings]
    assert result.annotated is not None
    with zipfile.ZipFile(result.annotated) as archive:
        assert "xl/vbaProject.bin" not in archive.namelist()


def test_robustness_macros_kept_in_xlsm_copy(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    path = rewrite_package(
        make_workbook(),
        tmp_path / "macro.xlsm",
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not run"},
    )
    result = _verify(path, output=tmp_path / "macro.checked.xlsm")
    assert result.annotated is not None
    with zipfile.ZipFile(result.annotated) as archive:
        assert archive.read("xl/vbaProject.bin") == b"\xd0\xcf\x11\xe0 not run"


def test_robustness_external_links_reported(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    path = rewrite_package(
        make_workbook(),
        tmp_path / "links.xlsx",
        extra={
            "xl/externalLinks/externalLink1.xml": b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
        },
    )
    result = _verify(path)
    assert "external-links" in [f.code for f in result.findings]


def test_robustness_backslash_zip_paths_read_whole(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """Entry names with backslashes (some tools write them): values and formulas both read, the
    same findings as the package with ordinary names."""
    source = make_workbook(overrides={"score.petition_handling": 6})
    path = rewrite_package(
        source, tmp_path / "backslash.xlsx", rename=lambda name: name.replace("/", "\\")
    )
    result = _verify(path, annotate=False)
    codes = [(f.code, str(f.location)) for f in result.findings]
    assert result.status == "errors", result.unreadable_reason
    assert codes == [(f.code, str(f.location)) for f in _verify(source, annotate=False).findings]
    assert "score-above-weight" in [code for code, _ in codes]
    # The copy is made at the package level, with '/' in its entry names: apps can open it.
    copied = _verify(path, output=tmp_path / "copy.xlsx")
    assert copied.annotated is not None
    with zipfile.ZipFile(copied.annotated) as archive:
        assert not any("\\" in name for name in archive.namelist())
    assert openpyxl.load_workbook(copied.annotated)["评分表"]["F25"].comment is not None


def test_robustness_hidden_sheet_is_a_warning(make_workbook: FillWorkbook) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    book["项目支出"].sheet_state = "hidden"
    book.save(path)
    result = _verify(path)
    hidden = [f for f in result.findings if f.code == "sheet-hidden"]
    assert [str(f.location) for f in hidden] == ["项目支出!A1"]
    assert result.status == "warnings"


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"],
    ids=["equals", "plus", "minus-dde", "at", "tab", "carriage-return"],
)
def test_annotator_safe_text_neutralises_formula_triggers(text: str) -> None:
    safe = cell_values.safe_text(text)
    assert safe == "'" + text


def test_annotator_results_sheet_never_holds_a_formula(make_workbook: FillWorkbook) -> None:
    path = make_workbook(
        overrides={
            "staff_in_service": "-2+3+cmd|' /C calc'!A0",
            "reason.goal_reasonable": "@SUM(1)",
        }
    )
    result = _verify(path)
    assert result.annotated is not None
    book = openpyxl.load_workbook(result.annotated)
    sheet = book[annotator.RESULTS_SHEET]
    texts = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)
    assert any("cmd|" in t for t in texts)


def _read_only_run(
    folder: Path, cwd: Path, tmp: Path, workbook: str
) -> subprocess.CompletedProcess[str]:
    """``xlcheck verify`` on ``folder/workbook`` with ``folder`` mounted read-only for the run: a
    read-only file system stops root too (chmod does not), so CI, which runs as root, takes the
    same path a user's read-only share does."""
    script = (
        f"mount --bind {shlex.quote(str(folder))} {shlex.quote(str(folder))} && "
        f"mount -o remount,bind,ro {shlex.quote(str(folder))} && "
        f"cd {shlex.quote(str(cwd))} && "
        f"{shlex.quote(sys.executable)} -m xlcheck verify {shlex.quote(str(folder / workbook))}"
    )
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "TMPDIR": str(tmp),
            "PYTHONPATH": str(Path(xlcheck.__file__).parents[1]),
        },
        check=False,
    )


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="mounting a folder read-only needs root and unshare",
)
@pytest.mark.parametrize("cwd_is_the_folder", [False, True], ids=["cwd", "private-folder"])
def test_robustness_read_only_folder_under_root(
    make_workbook: FillWorkbook, tmp_path: Path, cwd_is_the_folder: bool
) -> None:
    share = tmp_path / "share"  # mounted read-only; the working and temporary folders are not
    share.mkdir()
    path = make_workbook().rename(share / "filled.xlsx")
    before = sha256(path)
    cwd = path.parent if cwd_is_the_folder else tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    temp = tmp_path / "temp"
    temp.mkdir()

    run = _read_only_run(path.parent, cwd, temp, path.name)

    if "mount" in run.stderr and run.returncode not in (0, 1):
        pytest.skip(f"this machine does not let root mount: {run.stderr.strip()}")
    assert run.returncode == 0, run.stdout + run.stderr  # the workbook is correct
    expected = (temp / "xlcheck-0" if cwd_is_the_folder else cwd) / path.with_suffix("").name
    copy = expected.with_name(expected.name + ".checked.xlsx")
    assert copy.is_file(), run.stdout
    assert str(copy) in run.stdout or copy.name in run.stdout
    if cwd_is_the_folder:
        assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    assert sha256(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
