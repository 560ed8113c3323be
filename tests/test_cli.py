"""The command line: every command, every exit code, JSON equal to the library's result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import SEED_VALUES, FillWorkbook
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.cli import cli
from xlcheck.cli_options import ExitCode, exit_code_for
from xlcheck.report import to_document


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.mark.parametrize(
    "command",
    [[], ["template"], ["fields"], ["verify"]],
    ids=["group", "template", "fields", "verify"],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, _explain(result)
    assert "Usage:" in result.stdout


def test_help_lists_the_exit_codes() -> None:
    result = run("--help")
    for code in ExitCode:
        assert f"  {int(code)}  " in result.stdout


def test_template_writes_the_workbook(tmp_path: Path) -> None:
    out = tmp_path / "自评 模板.xlsx"
    result = run(
        "template",
        "-o",
        str(out),
        "--year",
        "2023",
        "--unit",
        "湛江市信访局",
        "--data",
        str(SEED_VALUES),
    )
    assert result.exit_code == 0, _explain(result)
    assert out.is_file()
    assert result.stdout.strip() == str(out)


def test_template_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"keep me")
    result = run("template", "-o", str(out))
    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "--force" in result.stderr
    assert out.read_bytes() == b"keep me"
    assert run("template", "-o", str(out), "--force").exit_code == 0


def test_template_rejects_an_unknown_prefill_key(tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_text('{"budget_totl": 1}', encoding="utf-8")
    result = run("template", "-o", str(tmp_path / "t.xlsx"), "--data", str(data))
    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "budget_totl" in result.stderr and "xlcheck fields" in result.stderr
    assert "Traceback" not in result.stderr


def test_template_rejects_an_unknown_template(tmp_path: Path) -> None:
    result = run("template", "-t", "nowhere", "-o", str(tmp_path / "t.xlsx"))
    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "zhanjiang-overall" in result.stderr


def test_fields_json_lists_every_cell_with_its_bounds() -> None:
    result = run("fields", "--format", "json")
    assert result.exit_code == 0, _explain(result)
    fields = {f["key"]: f for f in json.loads(result.stdout)}
    wages = fields["spend_wages"]
    assert wages["label"] == "数据表/实际支出/基本支出/工资福利支出"
    assert (wages["sheet"], wages["kind"], wages["type"], wages["unit"], wages["min"]) == (
        "数据表",
        "input",
        "amount",
        "万元",
        0,
    )
    assert fields["score.exec_rate"]["max"] == 10
    # Whole bounds are JSON integers (a year's minimum is 2000, not 2000.0).
    assert (fields["year"]["min"], fields["year"]["max"]) == (2000, 2100)
    assert all(type(f[b]) is int for f in (fields["year"], wages) for b in ("min",))
    assert '"min": 2000.0' not in result.stdout
    assert fields["grade"]["choices"] == ["优", "良", "中", "差"]
    assert fields["exec_rate"]["kind"] == "derived"
    assert {"key", "label", "sheet", "cell", "kind", "type", "unit"} <= set(wages)


def test_fields_text_is_one_line_per_cell() -> None:
    result = run("fields")
    assert result.exit_code == 0
    assert any(
        "数据表!B21" in line and "spend_wages" in line for line in result.stdout.splitlines()
    )


def test_verify_clean_workbook_exits_0(make_workbook: FillWorkbook) -> None:
    path = make_workbook()
    result = run("verify", str(path))
    assert result.exit_code == ExitCode.OK, _explain(result)
    assert "未发现问题" in result.stdout
    assert path.with_name("filled.checked.xlsx").is_file()


def test_verify_errors_exit_1_and_speak_english_on_request(make_workbook: FillWorkbook) -> None:
    path = make_workbook(overrides={"score.petition_handling": 6})
    result = run("verify", str(path), "--lang", "en")
    assert result.exit_code == ExitCode.FINDINGS, _explain(result)
    assert "The total score 101 is above the maximum of 100" in result.stdout


def test_verify_refuses_to_overwrite_the_annotated_copy(make_workbook: FillWorkbook) -> None:
    path = make_workbook()
    assert run("verify", str(path)).exit_code == 0
    result = run("verify", str(path))
    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "--force" in result.stderr
    assert run("verify", str(path), "--force").exit_code == 0


def test_verify_unreadable_file_exits_3_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_text("<html>not a workbook</html>", encoding="utf-8")
    result = run("verify", str(path))
    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.count("\n") == 1


def test_verify_workbook_without_template_mark_says_to_use_t(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(path)
    result = run("verify", str(path))
    assert result.exit_code == ExitCode.CANNOT_VERIFY, _explain(result)
    assert "-t" in result.stderr


def test_verify_bad_option_is_a_usage_error(make_workbook: FillWorkbook) -> None:
    result = run("verify", str(make_workbook()), "--format", "xml")
    assert result.exit_code == ExitCode.USAGE


def test_verify_json_equals_the_library_result(make_workbook: FillWorkbook, tmp_path: Path) -> None:
    path = make_workbook(overrides={"exec_rate": 0.9993})
    out = tmp_path / "annotated.xlsx"
    result = run("verify", str(path), "--format", "json", "-o", str(out))
    assert result.exit_code == ExitCode.FINDINGS, _explain(result)
    document = json.loads(result.stdout)
    library = to_document([verify_workbook(path, options=VerifyOptions(output=out, force=True))])
    assert document == library
    entry = document["results"][0]
    assert {"path", "template", "status", "errors", "warnings", "annotated", "findings"} <= set(
        entry
    )
    assert entry["template"] == {"id": "zhanjiang-overall", "version": "2023.2"}
    assert {"code", "severity", "sheet", "cell", "field", "message", "expected", "actual"} == set(
        entry["findings"][0]
    )


@pytest.mark.parametrize(
    ("statuses", "code"),
    [([], 0), (["ok", "warnings"], 0), (["ok", "errors"], 1), (["errors", "unreadable"], 3)],
    ids=["nothing", "warnings", "errors", "unreadable-wins"],
)
def test_exit_code_for_takes_the_worst(statuses: list[str], code: int) -> None:
    assert exit_code_for(statuses) == code


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "xlcheck", "--version"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0
    assert "xlcheck" in completed.stdout


@pytest.mark.parametrize(
    ("lang", "joint"), [("zh", "工作簿。请"), ("en", "workbook. Open")], ids=["zh", "en"]
)
def test_verify_unreadable_reason_is_whole_sentences(tmp_path: Path, lang: str, joint: str) -> None:
    path = tmp_path / "page.xlsx"
    path.write_text("<html>not a workbook</html>", encoding="utf-8")
    result = run("verify", str(path), "--format", "json", "--lang", lang)
    reason = json.loads(result.stdout)["results"][0]["reason"]
    assert joint in reason
    assert reason.endswith(("。", "."))


def test_verify_json_stays_clean_when_openpyxl_prints(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """openpyxl prints "0 is out of range" to stdout when a named style's format is missing."""
    import re
    import zipfile

    source = make_workbook()
    damaged = tmp_path / "no-style-formats.xlsx"
    with (
        zipfile.ZipFile(source) as zin,
        zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/styles.xml":
                empty = b'<cellStyleXfs count="0"/>'
                data = re.sub(rb"<cellStyleXfs.*?</cellStyleXfs>", empty, data, flags=re.S)
            zout.writestr(item, data)
    result = run("verify", str(damaged), "--format", "json", "--no-annotate")
    document = json.loads(result.stdout)  # nothing but the JSON document on stdout
    assert document["results"][0]["path"] == str(damaged)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unreadable_file_is_named_once_on_each_line(tmp_path: Path, lang: str) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_text("单位,金额\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--lang", lang, "verify", str(fake)])

    assert result.exit_code == ExitCode.CANNOT_VERIFY
    assert result.stderr.count("fake.xlsx") == 1, result.stderr
    reason_line = next(line for line in result.stdout.splitlines() if line.startswith("  "))
    assert "fake.xlsx" not in reason_line, result.stdout


def test_text_output_aligns_columns_by_terminal_width_with_chinese_sheet_names(
    make_workbook: FillWorkbook,
) -> None:
    """A CJK character takes two terminal columns: the cells' column is padded by width."""
    from xlcheck.terminal_columns import columns

    fields = CliRunner().invoke(cli, ["fields"]).output.splitlines()
    starts = {
        columns(line[: line.index(" 填写" if " 填写" in line else " 计算")])
        for line in fields
        if not line.startswith("#")
    }
    assert len(starts) == 1, starts
    assert len({line.split("!")[0] for line in fields}) > 2  # sheet names of different widths

    overrides = {"spend_basic": 999.0, "year": 1800}  # findings on 数据表 and 基本信息
    report = CliRunner().invoke(cli, ["verify", "--no-annotate", str(make_workbook(overrides))])
    lines = [line for line in report.output.splitlines() if line.endswith("]") and "!" in line]
    assert {line.split("!")[0].split()[-1] for line in lines} >= {"数据表", "基本信息"}, (
        report.output
    )

    def message_column(line: str) -> int:
        where_end = line.index(" ", line.index("!"))
        return columns(line[: len(line) - len(line[where_end:].lstrip())])

    assert len({message_column(line) for line in lines}) == 1, report.output
