"""``report check`` on the seed report, on drafts, and the annotated copy of a .docx."""

from __future__ import annotations

import hashlib
from pathlib import Path

import docx
import pytest

from tests.conftest import EXAMPLES
from xlcheck import api
from xlcheck.errors import FileProblemError
from xlcheck.narrative.report_check import ReportCheckOptions
from xlcheck.output_files import OutputRefusedError

SEED_DOCX = EXAMPLES / "zhanjiang-xinfang-2023-report.docx"
SEED_TEXT = EXAMPLES / "zhanjiang-xinfang-2023-report.md"
SEED_PDF = Path(__file__).resolve().parent / "fixtures" / "seed-report.pdf"
WORKBOOK = EXAMPLES / "zhanjiang-xinfang-2023.xlsx"


def _codes(path: Path, **options: object) -> list[tuple[str, str | None]]:
    result = api.check_report(path, options=ReportCheckOptions(annotate=False, **options))  # type: ignore[arg-type]
    return [(f.code, f.field) for f in result.findings]


@pytest.mark.parametrize("path", [SEED_DOCX, SEED_TEXT, SEED_PDF], ids=["docx", "md", "pdf"])
def test_check_seed_reports_the_101_and_the_99_93_and_nothing_else(path: Path) -> None:
    assert _codes(path) == [
        ("report-score-above-maximum", "total_score"),
        ("report-rate-wrong-base", "exec_rate"),
    ]


def test_check_seed_rate_finding_names_both_bases() -> None:
    result = api.check_report(SEED_DOCX, options=ReportCheckOptions(annotate=False))
    rate = next(f for f in result.findings if f.code == "report-rate-wrong-base")
    assert (rate.expected, rate.actual) == (0.9972, 0.9993)
    assert "实际支出 ÷ 实际收入" in rate.message and "99.72%" in rate.message
    assert rate.paragraph == 35 and "整体支出 99.93%" in rate.sentence


def test_check_seed_names_the_figures_it_gets_right() -> None:
    from xlcheck.layout import lay_out
    from xlcheck.narrative.mentions import Labeller
    from xlcheck.narrative.outline import load_report_template
    from xlcheck.narrative.report_text import read_report
    from xlcheck.spec_loading import load_spec

    spec = load_spec("zhanjiang-overall")
    labeller = Labeller(lay_out(spec), load_report_template(spec))
    named = {(m.key, m.written) for m in labeller.mentions(read_report(SEED_DOCX))}
    assert {
        ("budget_total", "1133.49 万元"),
        ("spend_basic", "818.78 万元"),
        ("spend_total", "1130.30 万元"),
        ("share_basic", "72.44%"),
        ("share_project", "27.56%"),
        ("budget_basic", "489.82 万元"),
        ("budget_project", "356.69 万元"),
        ("spend_project", "311.52 万元"),
    } <= named


def test_check_draft_of_example_workbook_finds_only_the_workbooks_own_errors(
    tmp_path: Path,
) -> None:
    draft = tmp_path / "draft.docx"
    api.draft_report(WORKBOOK, draft, allow_errors=True)
    result = api.check_report(draft, options=ReportCheckOptions(workbook=WORKBOOK, annotate=False))
    assert result.workbook_errors == 3
    assert {(f.code, f.field) for f in result.findings} == {
        ("report-score-above-maximum", "total_score"),  # the workbook's 101
        ("report-score-above-weight", "subtotal.effectiveness"),  # its 群众信访办理情况 6 of 5
    }
    assert result.figures_named == result.figures_read


def test_check_annotated_copy_comments_each_finding_and_keeps_the_input(tmp_path: Path) -> None:
    report = tmp_path / "报告.docx"
    report.write_bytes(SEED_DOCX.read_bytes())
    before = hashlib.sha256(report.read_bytes()).hexdigest()
    result = api.check_report(report)
    assert result.annotated == tmp_path / "报告.checked.docx"
    assert hashlib.sha256(report.read_bytes()).hexdigest() == before
    comments = list(docx.Document(str(result.annotated)).comments)
    assert len(comments) == len(result.findings) == 2
    assert all(c.author == "xlcheck" for c in comments)
    assert "99.72%" in comments[1].text and "report-rate-wrong-base" in comments[1].text


def test_check_annotated_comment_spans_the_sentence(tmp_path: Path) -> None:
    out = tmp_path / "checked.docx"
    api.check_report(SEED_DOCX, options=ReportCheckOptions(output=out))
    body = docx.Document(str(out)).element.body
    start = body.find(".//{*}commentRangeStart")
    end = body.find(".//{*}commentRangeEnd")
    assert start is not None and end is not None
    texts, inside = [], False
    for element in body.iter():
        if element is start:
            inside = True
        elif element is end:
            break
        elif inside and element.tag.endswith("}t") and element.text:
            texts.append(element.text)
    assert "".join(texts) == "根据年初设定的绩效目标，部门整体支出绩效自评得分为101分，自评优秀。"


def test_check_refuses_to_write_onto_the_report(tmp_path: Path) -> None:
    report = tmp_path / "r.docx"
    report.write_bytes(SEED_DOCX.read_bytes())
    with pytest.raises(OutputRefusedError):
        api.check_report(report, options=ReportCheckOptions(output=report, force=True))


def test_check_bonus_within_the_templates_allowance_is_a_warning(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    spec = tmp_path / "bonus.yaml"
    text = (ROOT / "workbook_templates" / "zhanjiang-overall.yaml").read_text(encoding="utf-8")
    spec.write_text(text.replace("bonus_max: 0", "bonus_max: 5"), encoding="utf-8")
    report = tmp_path / "r.txt"
    report.write_text("部门整体支出绩效自评得分为 103 分，自评等级为“优”。\n", encoding="utf-8")
    result = api.check_report(report, options=ReportCheckOptions(template=spec))
    assert [(f.code, f.severity.value) for f in result.findings] == [
        ("report-bonus-used", "warning")
    ]


def test_check_reads_a_gb18030_text_file(tmp_path: Path) -> None:
    report = tmp_path / "r.txt"
    report.write_bytes("部门整体支出绩效自评得分为 101 分。\n".encode("gb18030"))
    assert _codes(report) == [("report-score-above-maximum", "total_score")]


@pytest.mark.parametrize("name", ["报告.doc", "报告.wps", "报告"], ids=["doc", "wps", "no-suffix"])
def test_check_refuses_formats_it_cannot_read(tmp_path: Path, name: str) -> None:
    report = tmp_path / name
    report.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(FileProblemError, match="不是可以核对的报告格式"):
        api.check_report(report)


def test_check_damaged_docx_is_a_file_problem(tmp_path: Path) -> None:
    report = tmp_path / "r.docx"
    report.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FileProblemError, match="Word"):
        api.check_report(report, options=ReportCheckOptions(annotate=False))
