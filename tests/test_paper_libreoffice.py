"""The templates through real LibreOffice: every printed page names the unit and the year and
carries its page number, and the 自查 sheet turns from 通过 to what is wrong when a planted error
is recalculated, and back when it is put right.

One LibreOffice start converts the templates to PDF, one recalculates the planted workbooks, one
the repaired ones.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import EXAMPLES, SEED_VALUES, FillWorkbook, fill_cells
from tests.libreoffice import pdf_pages, recalculate_many
from xlcheck import load_prefill, load_spec, write_template
from xlcheck.formulas import template_formulas
from xlcheck.layout import Layout, lay_out
from xlcheck.layout.self_check import SELF_CHECK_ROLE

pytestmark = pytest.mark.libreoffice

UNIT = "湛江市信访局"
NATIONAL_UNIT = "219001-池州市贵池区棠溪镇人民政府"
ZHANJIANG = lay_out(load_spec("zhanjiang-overall"))
PAGE_NUMBER = re.compile(r"第\s*(\d+)\s*页\s*，\s*共\s*(\d+)\s*页")


@pytest.fixture(scope="module")
def printed(
    libreoffice_available: bool, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[str]]:
    """Each built-in template, written with a unit and a year (and the examples' data), printed
    to PDF by LibreOffice: template → the text of each page."""
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("printed")
    zhanjiang = write_template(
        folder / "zhanjiang.xlsx",
        prefill=load_prefill(SEED_VALUES, load_spec("zhanjiang-overall")),
        year=2023,
        unit=UNIT,
    )
    blank = write_template(folder / "blank.xlsx", year=2023, unit=UNIT)
    national_spec = load_spec("national-project")
    national = write_template(
        folder / "national.xlsx",
        template="national-project",
        prefill=load_prefill(EXAMPLES / "national-project-2022.json", national_spec),
    )
    sources = {"zhanjiang": zhanjiang, "blank": blank, "national": national}
    jobs = {path: path.with_suffix(".pdf") for path in sources.values()}
    recalculate_many(jobs, convert_to="pdf")
    return {name: pdf_pages(jobs[path]) for name, path in sources.items()}


@pytest.mark.parametrize(
    ("template", "unit", "year"),
    [("zhanjiang", UNIT, "2023"), ("blank", UNIT, "2023"), ("national", NATIONAL_UNIT, "2022")],
    ids=["zhanjiang-filled", "zhanjiang-blank", "national-two-projects"],
)
def test_every_printed_page_names_the_unit_and_year_and_numbers_itself(
    printed: dict[str, list[str]], template: str, unit: str, year: str
) -> None:
    pages = printed[template]
    assert len(pages) > 1
    for number, page in enumerate(pages, 1):
        compact = "".join(page.split())
        assert unit in compact, f"page {number} does not name the unit"
        assert f"（{year}年度）" in compact, f"page {number} does not name the year"
        found = PAGE_NUMBER.search(page)
        assert found is not None, f"page {number} has no page number"
        assert (int(found.group(1)), int(found.group(2))) == (number, len(pages))
        assert "zhanjiang-overall" not in page and "national-project" not in page


def test_blank_template_prints_blanks_not_zeros_in_its_totals(
    printed: dict[str, list[str]],
) -> None:
    score_page = next(p for p in printed["blank"] if "评分标准" in p)
    total_line = next(line for line in score_page.splitlines() if "总分" in line)
    # The 分值 total (fixed weights) prints; the score total is blank until scores are typed.
    assert "100.00" in total_line and total_line.count("0.00") == 1


def _results(path: Path, layout: Layout) -> dict[str, Any]:
    """The 自查 results LibreOffice computed: check key → the text its cell shows."""
    sheet = openpyxl.load_workbook(path, data_only=True)["自查"]
    return {
        f.key: sheet.cell(f.row_number, f.column_number).value
        for f in layout.fields
        if f.role == SELF_CHECK_ROLE
    }


#: Planted errors: a score above its weight, a rate typed over its formula (the seed's 99.93%),
#: a project list that no longer adds up to the 数据表's 项目支出.
PLANTED = {"score.key_tasks": 7, "exec_rate": 0.9993, "projects[1].actual": 300.0}


@pytest.fixture(scope="module")
def recalculated(
    libreoffice_available: bool, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Correct, planted and repaired workbooks as LibreOffice recalculated them: name → 自查."""
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    from tests.conftest import correct_seed_values

    folder = tmp_path_factory.mktemp("self-check")
    correct = folder / "correct.xlsx"
    write_template(correct)
    fill_cells(correct, correct_seed_values())
    planted = folder / "planted.xlsx"
    shutil.copyfile(correct, planted)
    fill_cells(planted, PLANTED)
    first = recalculate_many(
        {correct: folder / "correct-lo.xlsx", planted: folder / "planted-lo.xlsx"}
    )
    # Put right in the workbook LibreOffice saved: the values typed back, the formula restored.
    repaired = folder / "repaired.xlsx"
    shutil.copyfile(first[planted], repaired)
    good = correct_seed_values()
    fill_cells(
        repaired,
        {
            "score.key_tasks": good["score.key_tasks"],
            "projects[1].actual": good["projects[1].actual"],
            "exec_rate": template_formulas(ZHANJIANG)["exec_rate"],
        },
    )
    second = recalculate_many({repaired: folder / "repaired-lo.xlsx"})
    return {
        "correct": _results(first[correct], ZHANJIANG),
        "planted": _results(first[planted], ZHANJIANG),
        "repaired": _results(second[repaired], ZHANJIANG),
        "files": {"planted": first[planted]},
    }


def test_self_check_passes_a_correct_workbook(recalculated: dict[str, dict[str, Any]]) -> None:
    results = recalculated["correct"]
    assert set(results.values()) <= {"通过", "未填写"}
    for key in ("check.spec1", "check.formula.exec_rate", "check.grade.grade"):
        assert results[key] == "通过", key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("check.scores.score.public3_control", "有 1 项得分超过分值"),
        ("check.maximum.total_score", "总分 102.00 超过满分 100 分"),
        ("check.formula.exec_rate", "表上为 99.93%，按公式应为 99.72%"),
        ("check.spec1", "相差 -11.52 万元"),
    ],
    ids=["score-above-weight", "total-above-maximum", "rate-typed-over", "projects-disagree"],
)
def test_self_check_says_what_is_wrong_after_recalculation(
    recalculated: dict[str, dict[str, Any]], key: str, message: str
) -> None:
    assert recalculated["correct"][key] == "通过"
    assert message in str(recalculated["planted"][key])
    assert recalculated["repaired"][key] == "通过"


def test_self_check_flags_nothing_else_than_the_planted_errors(
    recalculated: dict[str, dict[str, Any]],
) -> None:
    flagged = {k for k, v in recalculated["planted"].items() if v not in ("通过", "未填写")}
    # The 效益 part's subtotal and the total follow the score typed above its weight.
    assert flagged == {
        "check.scores.score.public3_control",
        "check.maximum.total_score",
        "check.formula.exec_rate",
        "check.spec1",
    }
    assert set(recalculated["repaired"].values()) <= {"通过", "未填写"}


def test_conditional_formats_survive_libreoffice(recalculated: dict[str, dict[str, Any]]) -> None:
    sheet = openpyxl.load_workbook(recalculated["files"]["planted"])["评分表"]
    ranges = {str(r.sqref) for r in sheet.conditional_formatting}
    assert {"F22:F26", "F28"} <= ranges


def test_grade_typed_against_the_score_is_flagged(
    make_workbook: FillWorkbook, libreoffice_available: bool, tmp_path: Path
) -> None:
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = make_workbook(overrides={"grade": "良"})
    saved = recalculate_many({path: tmp_path / "grade-lo.xlsx"})[path]
    result = _results(saved, ZHANJIANG)["check.grade.grade"]
    assert str(result).startswith("等级为“良”，总分 100.00 应为“优”")


def test_self_check_shows_at_once_in_libreoffice_that_keeps_cached_results(
    libreoffice_available: bool, tmp_path: Path
) -> None:
    """LibreOffice's default keeps an .xlsx's cached results, but computes a formula whose cached
    result is empty, as the template leaves every 自查 cell: they show before anything is typed."""
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    template = write_template(
        tmp_path / "seed.xlsx", prefill=load_prefill(SEED_VALUES, load_spec("zhanjiang-overall"))
    )
    plain_profile = tmp_path / "profile"  # LibreOffice's own defaults: no recalculation on load
    plain_profile.mkdir()
    saved = recalculate_many({template: tmp_path / "seed-lo.xlsx"}, profile=plain_profile)
    results = _results(saved[template], ZHANJIANG)
    assert results["check.maximum.total_score"] == "总分 101.00 超过满分 100 分"
    assert results["check.formula.budget_total"] == "通过"
    assert results["check.formula.public3_budget"] == "未填写"
