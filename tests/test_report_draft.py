"""``report draft``: every figure from the verified workbook, placeholders marked, errors refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_COLOR_INDEX

from tests.conftest import EXAMPLES, ROOT, correct_seed_values, fill_cells
from tests.test_golden_cases import CASE_DIRS, _build
from xlcheck import api, write_template
from xlcheck.errors import OutputExistsError, SpecError
from xlcheck.narrative.outline import load_report_template
from xlcheck.narrative.report_check import ReportCheckOptions
from xlcheck.spec_loading import load_spec

WORKBOOK = EXAMPLES / "zhanjiang-xinfang-2023.xlsx"


def _text(path: Path) -> str:
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


@pytest.fixture
def correct_workbook(tmp_path: Path) -> Path:
    path = tmp_path / "filled.xlsx"
    write_template(path)
    return fill_cells(path, correct_seed_values())


def test_draft_writes_figures_from_the_verified_values(
    correct_workbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "draft.docx"
    result = api.draft_report(correct_workbook, out)
    assert result.written == out and not result.refused
    text = _text(out)
    assert "预算数 1133.49 万元" in text
    assert "预算执行率 99.72%" in text  # recomputed: spending ÷ budget
    assert "基本支出 818.78 万元，占 72.44%" in text
    assert "自评得分为 100 分，自评等级为“优”" in text
    assert "主要支出项目共 1 项" in text


def test_draft_marks_what_only_the_unit_can_write(correct_workbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.docx"
    api.draft_report(correct_workbook, out)
    highlighted = [
        run.text
        for paragraph in docx.Document(str(out)).paragraphs
        for run in paragraph.runs
        if run.font.highlight_color == WD_COLOR_INDEX.YELLOW
    ]
    assert "【由单位填写：单位的主要职责（按三定方案逐项列出）】" in highlighted
    assert all(text.startswith("【") and text.endswith("】") for text in highlighted)


def test_draft_uses_the_outlines_headings(correct_workbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.docx"
    api.draft_report(correct_workbook, out)
    headings = [
        p.text
        for p in docx.Document(str(out)).paragraphs
        if p.style is not None and (p.style.name or "").startswith("Heading 1")
    ]
    assert headings == [
        "一、单位基本情况", "二、自评工作开展情况", "三、绩效自评情况", "四、部门整体支出绩效管理存在问题及改进措施",
    ]  # fmt: skip


def test_draft_refuses_a_workbook_with_errors(tmp_path: Path) -> None:
    out = tmp_path / "draft.docx"
    result = api.draft_report(WORKBOOK, out)
    assert result.refused and not out.exists()
    assert {f.code for f in result.verification.findings} >= {
        "total-above-maximum",
        "ratio-wrong-base",
    }


def test_draft_existing_output_needs_force(correct_workbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.docx"
    out.write_bytes(b"old")
    with pytest.raises(OutputExistsError):
        api.draft_report(correct_workbook, out)
    assert api.draft_report(correct_workbook, out, force=True).written == out


def test_draft_blank_figure_is_a_placeholder_not_a_zero(tmp_path: Path) -> None:
    path = tmp_path / "filled.xlsx"
    write_template(path)
    values = correct_seed_values()
    del values["staff_contract"]
    fill_cells(path, values)
    out = tmp_path / "draft.docx"
    api.draft_report(path, out)
    assert "无编合同制工作人员 【待补：基本信息/人员情况/无编合同制人员】 人" in _text(out)


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        ("{budget_total}", "outline"),
        ("template: zhanjiang-overall", "template"),
    ],
    ids=["unknown-key", "other-template"],
)
def test_outline_errors_name_the_file_and_key_path(tmp_path: Path, edit: str, where: str) -> None:
    source = (ROOT / "workbook_templates" / "reports" / "zhanjiang-overall.yaml").read_text(
        encoding="utf-8"
    )
    replacement = {
        "{budget_total}": "{budget_totl}",
        "template: zhanjiang-overall": "template: national-project",
    }[edit]
    outline = tmp_path / "outline.yaml"
    outline.write_text(source.replace(edit, replacement, 1), encoding="utf-8")
    with pytest.raises(SpecError, match=where):
        load_report_template(load_spec("zhanjiang-overall"), outline)


GOLDEN = [c for c in CASE_DIRS if not (c / "spec.yaml").exists()]
#: What a draft may state wrongly: only what the workbook itself gets wrong (its scores).
WORKBOOKS_OWN = {"report-score-above-maximum", "report-score-above-weight", "report-grade-mismatch"}


@pytest.mark.parametrize("case_dir", GOLDEN, ids=[c.name for c in GOLDEN])
def test_every_golden_workbooks_draft_checks_clean_against_it(
    case_dir: Path, tmp_path: Path
) -> None:
    workbook = _build(case_dir, tmp_path)
    draft = tmp_path / "draft.docx"
    drafted = api.draft_report(workbook, draft, allow_errors=True)
    result = api.check_report(draft, options=ReportCheckOptions(workbook=workbook, annotate=False))
    codes = {f.code for f in result.findings}
    # Parts holding more decimals than they show: the draft writes them as shown, so its total
    # may differ from their sum by a rounding difference (a warning, as in the workbook itself).
    rounded = {f.code for f in drafted.verification.findings} & {"too-many-decimals"}
    allowed = WORKBOOKS_OWN | ({"report-sum-rounding"} if rounded else set())
    assert codes <= allowed, [f.message for f in result.findings]
    if codes - {"report-sum-rounding"}:
        assert drafted.verification.errors


def test_draft_renders_through_libreoffice(
    correct_workbook: Path, tmp_path: Path, libreoffice_available: bool
) -> None:
    """The draft opens in LibreOffice Writer: headings, placeholders and the project table print."""
    if not libreoffice_available or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice and pdftotext are needed to render the draft")
    from tests.libreoffice import printed_text

    out = tmp_path / "draft.docx"
    api.draft_report(correct_workbook, out)
    text = printed_text(out, tmp_path)
    for expected in ("一、单位基本情况", "【由单位填写", "预算执行率 99.72%", "311.52", "87.34%"):
        assert expected in text
