"""``xlcheck report draft`` and ``xlcheck report check``: exit codes, streams, JSON = library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import EXAMPLES, correct_seed_values, fill_cells
from xlcheck import api, write_template
from xlcheck.cli import cli
from xlcheck.cli_options import ExitCode
from xlcheck.narrative.report_check import ReportCheckOptions
from xlcheck.narrative.results import to_document

SEED_DOCX = EXAMPLES / "zhanjiang-xinfang-2023-report.docx"
SEED_TEXT = EXAMPLES / "zhanjiang-xinfang-2023-report.md"
WORKBOOK = EXAMPLES / "zhanjiang-xinfang-2023.xlsx"


def run(*args: str, catch: bool = False) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=catch)


def _explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.mark.parametrize(
    "command",
    [["report"], ["report", "draft"], ["report", "check"]],
    ids=["group", "draft", "check"],
)
def test_report_commands_have_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, _explain(result)
    assert "Usage:" in result.stdout


def test_report_check_seed_exits_1_with_its_two_errors(tmp_path: Path) -> None:
    report = tmp_path / "seed.docx"
    report.write_bytes(SEED_DOCX.read_bytes())
    result = run("report", "check", str(report))
    assert result.exit_code == ExitCode.FINDINGS, _explain(result)
    assert "[report-score-above-maximum]" in result.stdout
    assert "[report-rate-wrong-base]" in result.stdout
    assert "第 35 段" in result.stdout and "共 2 个错误" in result.stdout
    assert (tmp_path / "seed.checked.docx").is_file()
    assert result.stderr == ""


def test_report_check_json_equals_the_library_result(tmp_path: Path) -> None:
    result = run("report", "check", str(SEED_TEXT), "--format", "json")
    assert result.exit_code == ExitCode.FINDINGS, _explain(result)
    library = api.check_report(SEED_TEXT, options=ReportCheckOptions())
    assert json.loads(result.stdout) == to_document([library])


def test_report_check_json_has_verifys_shape() -> None:
    result = run("report", "check", str(SEED_TEXT), "--format", "json", "--lang", "en")
    document = json.loads(result.stdout)
    (entry,) = document["results"]
    assert {
        "path",
        "template",
        "status",
        "errors",
        "warnings",
        "annotated",
        "reason",
        "findings",
    } <= set(entry)
    finding = entry["findings"][0]
    assert set(finding) == {
        "code",
        "severity",
        "paragraph",
        "sentence",
        "field",
        "message",
        "expected",
        "actual",
    }
    assert finding["message"].startswith("The stated score")


def test_report_check_clean_report_exits_0(tmp_path: Path) -> None:
    report = tmp_path / "r.txt"
    report.write_text("部门整体支出绩效自评得分为 95 分，自评等级为“优”。\n", encoding="utf-8")
    result = run("report", "check", str(report))
    assert result.exit_code == ExitCode.OK, _explain(result)
    assert "未发现问题" in result.stdout


def test_report_check_unreadable_report_exits_3(tmp_path: Path) -> None:
    report = tmp_path / "r.doc"
    report.write_bytes(b"\xd0\xcf\x11\xe0")
    result = run("report", "check", str(report), catch=True)
    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "另存为 .docx" in result.stderr and result.stdout == ""


def test_report_check_output_for_a_text_report_is_a_usage_error(tmp_path: Path) -> None:
    result = run("report", "check", str(SEED_TEXT), "-o", str(tmp_path / "x.docx"), catch=True)
    assert result.exit_code == ExitCode.USAGE, _explain(result)


def test_report_check_existing_annotated_copy_exits_3(tmp_path: Path) -> None:
    report = tmp_path / "seed.docx"
    report.write_bytes(SEED_DOCX.read_bytes())
    (tmp_path / "seed.checked.docx").write_bytes(b"old")
    result = run("report", "check", str(report), catch=True)
    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "--force" in result.stderr


def test_report_draft_refuses_a_workbook_with_errors(tmp_path: Path) -> None:
    out = tmp_path / "draft.docx"
    result = run("report", "draft", str(WORKBOOK), "-o", str(out))
    assert result.exit_code == ExitCode.FINDINGS, _explain(result)
    assert "[total-above-maximum]" in result.stdout
    assert "--allow-errors" in result.stderr
    assert not out.exists()


def test_report_draft_allow_errors_writes_and_warns(tmp_path: Path) -> None:
    out = tmp_path / "draft.docx"
    result = run("report", "draft", str(WORKBOOK), "-o", str(out), "--allow-errors")
    assert result.exit_code == ExitCode.OK, _explain(result)
    assert result.stdout.strip() == str(out) and out.is_file()
    assert "3 个错误" in result.stderr


def test_report_draft_then_check_against_the_workbook_is_clean(tmp_path: Path) -> None:
    workbook = tmp_path / "填好的.xlsx"
    write_template(workbook)
    fill_cells(workbook, correct_seed_values())
    drafted = run("report", "draft", str(workbook))
    assert drafted.exit_code == ExitCode.OK, _explain(drafted)
    draft = tmp_path / "填好的-自评报告.docx"
    assert drafted.stdout.strip() == str(draft)
    checked = run("report", "check", str(draft), "--workbook", str(workbook), "--no-annotate")
    assert checked.exit_code == ExitCode.OK, _explain(checked)
    assert "未发现问题" in checked.stdout
