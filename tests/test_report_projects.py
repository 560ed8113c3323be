"""The 自评报告 of a workbook with one sheet per project (national-project): a report part per
project in the draft, each figure checked against its own project's cells."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result

from tests.conftest import EXAMPLES, ROOT
from tests.test_golden_cases import CASES, _build
from tests.test_report_cases import _national_workbook
from xlcheck import api
from xlcheck.cli import cli
from xlcheck.cli_options import ExitCode
from xlcheck.errors import SpecError
from xlcheck.narrative.outline import load_report_template
from xlcheck.narrative.report_check import ReportCheckOptions
from xlcheck.spec_loading import load_spec

WORKBOOK = EXAMPLES / "national-project-2022.xlsx"
OUTLINE = ROOT / "workbook_templates" / "reports" / "national-project.yaml"


def _paragraphs(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def _tables(path: Path) -> list[list[list[str]]]:
    document = docx.Document(str(path))
    return [[[c.text for c in row.cells] for row in table.rows] for table in document.tables]


def _check(report: Path, workbook: Path | None = None) -> list[tuple[str, str | None]]:
    options = ReportCheckOptions(
        workbook=workbook, template="national-project" if workbook is None else None, annotate=False
    )
    return [(f.code, f.field) for f in api.check_report(report, options=options).findings]


@pytest.fixture(scope="module")
def example_draft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("draft") / "draft.docx"
    api.draft_report(WORKBOOK, out, allow_errors=True)
    return out


def test_project_draft_writes_one_part_per_project(example_draft: Path) -> None:
    text = _paragraphs(example_draft)
    document = docx.Document(str(example_draft))
    titles = [p.text for p in document.paragraphs if p.style and p.style.name == "Title"]
    assert titles == [
        "项目支出绩效自评报告", "委托业务项目绩效自评报告", "村级补助及运转经费绩效自评报告",
    ]  # fmt: skip
    assert "自评项目共 2 个：“委托业务项目”、“村级补助及运转经费”" in text
    first, second = (text.index(t) for t in titles[1:])
    # Each part states its own project's figures, recomputed (the workbook's typed 0s are not).
    assert any("全年执行数 89.97 万元，执行率 100.00%" in p for p in text[first:second])
    assert any("全年执行数 132.91 万元，执行率 100.00%" in p for p in text[second:])
    assert text.count("一、项目基本情况") == 2 and text.count("五、偏差原因及改进措施") == 2


def test_project_draft_writes_each_projects_funds_table(example_draft: Path) -> None:
    tables = _tables(example_draft)
    assert [t[1] for t in tables] == [
        ["年度资金总额", "90.00", "89.97", "89.97", "100.00%"],
        ["年度资金总额", "202.64", "132.91", "132.91", "100.00%"],
    ]
    assert tables[0][0] == [
        "资金",
        "年初预算数（万元）",
        "全年预算数（万元）",
        "全年执行数（万元）",
        "执行率",
    ]
    # Rows the project leaves blank (上年结转资金, 其他资金) are left out.
    assert [row[0] for row in tables[1]] == ["资金", "年度资金总额", "其中：当年财政拨款"]


def test_project_draft_writes_every_indicator_row_with_target_actual_and_scores(
    example_draft: Path,
) -> None:
    text = _paragraphs(example_draft)
    assert (
        "1. 数量指标“补助村（社区）数量”：年度指标值 =8个，实际完成值 8，分值 8 分，得分 8 分。"
        in text
    )
    assert (
        "1. 服务对象满意度指标“公众满意度”：年度指标值 ≥90%，实际完成值 90%，分值 10 分，得分 10 分。"
        in text
    )
    assert text.count("各项绩效指标均得满分，未出现偏差。") == 2


def test_project_draft_lists_rows_scored_below_their_weight_with_their_reason(
    tmp_path: Path,
) -> None:
    workbook = _national_workbook(
        tmp_path / "filled.xlsx",
        {
            "project[2].indicators.cost[1].score": 7,
            "project[2].indicators.cost[1].reason": "部分村级事务补助延至次年拨付。",
            "project[1].indicators.quality[1].score": 6,
        },
    )
    out = tmp_path / "draft.docx"
    api.draft_report(workbook, out, allow_errors=True)
    text = _paragraphs(out)
    assert (
        "“项目总成本”得分 7 分（分值 10 分），扣 3 分。偏差原因及改进措施：部分村级事务补助延至次年拨付。"
        in text
    )
    missing = "“委托业务报告合格率”得分 6 分（分值 8 分），扣 2 分。偏差原因及改进措施：【待补："
    assert any(p.startswith(missing) for p in text)
    assert text.count("各项绩效指标均得满分，未出现偏差。") == 0


def test_project_draft_includes_the_rows_a_unit_inserted(tmp_path: Path) -> None:
    workbook = _build(CASES / "national-rows-inserted", tmp_path)
    out = tmp_path / "draft.docx"
    api.draft_report(workbook, out, allow_errors=True)
    text = _paragraphs(out)
    assert (
        "2. 数量指标“新增委托业务数量”：年度指标值 ≥10个，实际完成值 12，分值 4 分，得分 4 分。"
        in text
    )
    assert any(p.startswith("3. 数量指标“培训人次”") for p in text)


def test_project_draft_of_the_example_checks_clean_against_it(example_draft: Path) -> None:
    assert _check(example_draft, WORKBOOK) == []


def test_shipped_project_draft_is_the_current_draft(example_draft: Path) -> None:
    shipped = EXAMPLES / "national-project-2022-draft.docx"
    assert (_paragraphs(shipped), _tables(shipped)) == (
        _paragraphs(example_draft),
        _tables(example_draft),
    ), "rebuild with: python examples/build_report_example.py"
    assert _check(shipped, WORKBOOK) == []


def test_project_draft_checks_clean_without_the_workbook(example_draft: Path) -> None:
    """Read by the template alone, each part is still its own project's (by its title)."""
    assert _check(example_draft) == []


def test_project_check_attributes_figures_by_the_projects_name(tmp_path: Path) -> None:
    """The second project's figures under its name are checked against the second sheet; the
    same figures under the first project's name differ from the workbook."""
    report = tmp_path / "report.txt"
    line = "全年预算数 132.91 万元，全年执行数 132.91 万元。"
    report.write_text(f"村级补助及运转经费绩效自评报告\n\n{line}\n", encoding="utf-8")
    assert _check(report, WORKBOOK) == []
    report.write_text(f"委托业务项目绩效自评报告\n\n{line}\n", encoding="utf-8")
    assert _check(report, WORKBOOK) == [
        ("report-differs-from-workbook", "project[1].funds.total.full"),
        ("report-differs-from-workbook", "project[1].funds.total.executed"),
    ]


def test_project_check_leaves_figures_of_no_project_unchecked(tmp_path: Path) -> None:
    """Before any project is named, a figure of a workbook with two projects is nobody's."""
    report = tmp_path / "report.txt"
    report.write_text("全年执行数 1.00 万元。\n", encoding="utf-8")
    assert _check(report, WORKBOOK) == []


def test_project_check_reads_a_single_project_report_without_markers(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text(
        "项目年初预算数 202.64 万元，全年预算数 132.91 万元，全年执行数 132.91 万元，执行率 65.59%。\n",
        encoding="utf-8",
    )
    assert _check(report) == [("report-rate-wrong-base", "project[1].funds.total.rate")]


def test_project_check_adds_up_the_funds_table(example_draft: Path, tmp_path: Path) -> None:
    """年度资金总额 in the drafted table over the 其中 row the table has: a changed part breaks it."""
    document = docx.Document(str(example_draft))
    document.tables[0].cell(2, 3).paragraphs[0].runs[0].text = "79.97"
    changed = tmp_path / "changed.docx"
    document.save(str(changed))
    assert _check(changed) == [
        ("report-sum-mismatch", "project[1].funds.total.executed"),
        ("report-rate-mismatch", "project[1].funds.appropriation.rate"),
    ]
    assert _check(changed, WORKBOOK) == [
        ("report-sum-mismatch", "project[1].funds.total.executed"),
        ("report-differs-from-workbook", "project[1].funds.appropriation.executed"),
        ("report-rate-mismatch", "project[1].funds.appropriation.rate"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("each: indicators\n        part: output", "each: indicator\n        part: output", "each"),
        ("part: benefit", "part: benefits", "part"),
        ("年度指标值 {*.target}", "年度指标值 {*.goal}", "outline"),
        ("{project[*].department}；", "{project[*].departement}；", "outline"),
        ("project[*].funds.other: [其他资金]", "project[*].funds.others: [其他资金]", "contexts"),
        ('["project[*].funds.total.initial"]', '["project[*].funds.total.start"]', "alt_bases"),
    ],
    ids=["each", "part", "row-column", "instance-key", "context-key", "alt-base"],
)
def test_project_outline_errors_name_the_file_and_key_path(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    source = OUTLINE.read_text(encoding="utf-8")
    assert old in source
    outline = tmp_path / "outline.yaml"
    outline.write_text(source.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SpecError, match=where):
        load_report_template(load_spec("national-project"), outline)


def test_project_outline_star_outside_a_repetition_is_an_error(tmp_path: Path) -> None:
    source = OUTLINE.read_text(encoding="utf-8")
    outline = tmp_path / "outline.yaml"
    outline.write_text(
        source.replace("  - {title: 项目支出绩效自评报告}", '  - {title: "{*.name}"}', 1),
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match=r"outline\[0\].*只能用在 each 块里"):
        load_report_template(load_spec("national-project"), outline)


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_drafts_the_national_example_and_checks_it_clean(tmp_path: Path) -> None:
    out = tmp_path / "项目自评报告.docx"
    drafted = _run("report", "draft", str(WORKBOOK), "-o", str(out), "--allow-errors")
    assert drafted.exit_code == ExitCode.OK, drafted.stdout + drafted.stderr
    assert drafted.stdout.strip() == str(out) and out.is_file()
    assert "10 个错误" in drafted.stderr
    refused = _run("report", "draft", str(WORKBOOK), "-o", str(tmp_path / "again.docx"))
    assert refused.exit_code == ExitCode.FINDINGS, refused.stdout + refused.stderr
    checked = _run("report", "check", str(out), "--workbook", str(WORKBOOK), "--no-annotate")
    assert checked.exit_code == ExitCode.OK, checked.stdout + checked.stderr
    assert "未发现问题" in checked.stdout


def test_project_draft_renders_through_libreoffice(
    example_draft: Path, tmp_path: Path, libreoffice_available: bool
) -> None:
    """Writer prints both parts: titles, the funds tables and the placeholders."""
    if not libreoffice_available or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice and pdftotext are needed to render the draft")
    from tests.libreoffice import printed_text

    text = printed_text(example_draft, tmp_path)
    for expected in (
        "委托业务项目绩效自评报告", "村级补助及运转经费绩效自评报告", "其中：当年财政拨款",
        "202.64", "132.91", "【由单位填写", "自评等级为“优”",
    ):  # fmt: skip
        assert expected in text, expected
