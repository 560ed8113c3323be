"""The shipped example: the seed's unit as it filled the tables, and the findings it must give."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from tests.conftest import EXAMPLES
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.cli import cli

EXAMPLE = EXAMPLES / "zhanjiang-xinfang-2023.xlsx"
SHIPPED_ANNOTATED = EXAMPLES / "zhanjiang-xinfang-2023.checked.xlsx"


def test_example_reports_the_seeds_two_mistakes_and_nothing_else() -> None:
    result = verify_workbook(EXAMPLE, options=VerifyOptions(annotate=False))
    found = {(f.code, str(f.location)) for f in result.findings}
    assert found == {
        ("formula-replaced", "数据表!B30"),
        ("ratio-wrong-base", "数据表!B30"),
        ("score-above-weight", "评分表!F25"),
        ("total-above-maximum", "评分表!F28"),
    }
    wrong_base = next(f for f in result.findings if f.code == "ratio-wrong-base")
    assert (wrong_base.expected, wrong_base.actual) == (0.9972, 0.9993)
    assert (
        "99.72%" in wrong_base.message
        and "99.93%" in wrong_base.message
        and "实际收入" in wrong_base.message
    )
    total = next(f for f in result.findings if f.code == "total-above-maximum")
    assert (total.expected, total.actual) == (100, 101)


def test_example_was_saved_by_a_spreadsheet_app() -> None:
    result = verify_workbook(EXAMPLE, options=VerifyOptions(annotate=False))
    assert result.application and "LibreOffice" in result.application


def test_shipped_annotated_copy_lists_the_current_findings(tmp_path: Path) -> None:
    shipped = openpyxl.load_workbook(SHIPPED_ANNOTATED)["校验结果"]
    fresh_path = verify_workbook(
        EXAMPLE, options=VerifyOptions(output=tmp_path / "fresh.xlsx")
    ).annotated
    assert fresh_path is not None
    fresh = openpyxl.load_workbook(fresh_path)["校验结果"]

    def rows(sheet: object) -> list[tuple[object, ...]]:
        return [row for row in sheet.iter_rows(min_row=4, values_only=True)]  # type: ignore[attr-defined]

    assert rows(shipped) == rows(fresh), "rebuild with: python examples/build_example.py"


def test_readme_quickstart_verify_runs_on_the_example(tmp_path: Path) -> None:
    copy = tmp_path / EXAMPLE.name
    shutil.copyfile(EXAMPLE, copy)
    result = CliRunner().invoke(cli, ["verify", str(copy), "--force"], catch_exceptions=False)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "总分 101 超过了满分 100 分" in result.stdout
    assert copy.with_name("zhanjiang-xinfang-2023.checked.xlsx").is_file()


NATIONAL_EXAMPLE = EXAMPLES / "national-project-2022.xlsx"
NATIONAL_ANNOTATED = EXAMPLES / "national-project-2022.checked.xlsx"


def test_national_example_reports_the_typed_zero_totals_of_both_published_forms() -> None:
    result = verify_workbook(NATIONAL_EXAMPLE, options=VerifyOptions(annotate=False))
    found = {(f.code, str(f.location)) for f in result.findings}
    expected = {
        (code, f"{sheet}!{cell}")
        for sheet in ("委托业务项目", "村级补助及运转经费")
        for cell in ("D6", "E6", "F6", "H6", "I6")
        for code in ("derived-mismatch", "formula-replaced")
    } | {
        ("too-many-decimals", f"{sheet}!{cell}")
        for sheet in ("委托业务项目", "村级补助及运转经费")
        for cell in ("E7", "F7")
    }
    assert found == expected
    score = next(
        f
        for f in result.findings
        if f.code == "derived-mismatch" and f.field == "project[1].funds.total.score"
    )
    assert (score.expected, score.actual) == (10, 0)
    assert result.application and "LibreOffice" in result.application


def test_national_shipped_annotated_copy_lists_the_current_findings(tmp_path: Path) -> None:
    shipped = openpyxl.load_workbook(NATIONAL_ANNOTATED)["校验结果"]
    fresh_path = verify_workbook(
        NATIONAL_EXAMPLE, options=VerifyOptions(output=tmp_path / "fresh.xlsx")
    ).annotated
    assert fresh_path is not None
    fresh = openpyxl.load_workbook(fresh_path)["校验结果"]
    rows = [row for row in shipped.iter_rows(min_row=4, values_only=True)]
    assert rows == [row for row in fresh.iter_rows(min_row=4, values_only=True)], (
        "rebuild with: python examples/build_national_example.py"
    )
