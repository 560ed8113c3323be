"""The built-in ``national-project`` template from the command line: one sheet per project,
field keys of repeated sheets, each project verified on its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from tests import sheet_edits
from tests.conftest import EXAMPLES
from xlcheck.cli import cli

DATA = EXAMPLES / "national-project-2022.json"


def test_cli_fields_shows_how_keys_of_repeated_sheets_are_formed() -> None:
    result = CliRunner().invoke(cli, ["fields", "-t", "national-project"], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "project[1].…、project[2].…" in result.stdout
    assert "project[n].funds.total.executed" in result.stdout
    assert "项目支出绩效自评表/资金/年度资金总额/全年执行数" in result.stdout


def test_cli_fields_json_names_the_repeat_key() -> None:
    result = CliRunner().invoke(
        cli, ["fields", "-t", "national-project", "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    fields = {f["key"]: f for f in json.loads(result.stdout)}
    assert fields["project[n].project_name"]["repeat"] == {
        "key": "project",
        "name_field": "project_name",
    }
    assert fields["project[n].indicators.quantity[1].score"]["max"] == 50


def test_cli_template_data_writes_one_sheet_per_project(tmp_path: Path) -> None:
    out = tmp_path / "projects.xlsx"
    result = CliRunner().invoke(
        cli,
        ["template", "-t", "national-project", "--data", str(DATA), "-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    book = openpyxl.load_workbook(out, data_only=True)
    # One sheet per project, then the 自查 sheet that checks them all.
    assert book.sheetnames == ["委托业务项目", "村级补助及运转经费", "自查"]
    assert book["村级补助及运转经费"]["F7"].value == 132.912
    # The title names the project's unit and year (a formula over its own cells).
    assert book["委托业务项目"]["A1"].value == (
        "219001-池州市贵池区棠溪镇人民政府　项目支出绩效自评表（2022 年度）"
    )


def test_cli_verify_checks_each_project_sheet_on_its_own(tmp_path: Path) -> None:
    out = tmp_path / "projects.xlsx"
    runner = CliRunner()
    runner.invoke(
        cli,
        ["template", "-t", "national-project", "--data", str(DATA), "-o", str(out)],
        catch_exceptions=False,
    )
    book = openpyxl.load_workbook(out)
    book["村级补助及运转经费"]["H25"] = 11  # 满意度 scored above its 10 points
    book.save(out)
    result = runner.invoke(
        cli, ["verify", str(out), "--no-annotate", "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 1, result.stdout + result.stderr
    findings = json.loads(result.stdout)["results"][0]["findings"]
    assert {(f["code"], f["sheet"], f["cell"], f["field"]) for f in findings} >= {
        (
            "score-above-weight",
            "村级补助及运转经费",
            "H25",
            "project[2].indicators.served[1].score",
        )
    }
    # Besides the published amounts' three decimals (a warning on both sheets), only that sheet.
    errors = [f for f in findings if f["code"] != "too-many-decimals"]
    assert all(f["sheet"] == "村级补助及运转经费" for f in errors)


def test_renamed_and_reordered_project_sheets_are_still_verified(tmp_path: Path) -> None:
    out = tmp_path / "projects.xlsx"
    CliRunner().invoke(
        cli,
        ["template", "-t", "national-project", "--data", str(DATA), "-o", str(out)],
        catch_exceptions=False,
    )
    book = openpyxl.load_workbook(out)
    sheet_edits.rename_sheet(book, "委托业务项目", "项目一")
    book.move_sheet("村级补助及运转经费", offset=-1)
    book.save(out)
    copy = tmp_path / "copy.xlsx"
    shutil.copyfile(out, copy)
    result = CliRunner().invoke(
        cli, ["verify", str(copy), "--no-annotate", "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    findings = json.loads(result.stdout)["results"][0]["findings"]
    # The published amounts' three decimals are warnings; nothing about the sheets' names or order.
    assert {f["code"] for f in findings} <= {"too-many-decimals"}


def test_cli_template_year_and_unit_fill_every_project_sheet(tmp_path: Path) -> None:
    out = tmp_path / "projects.xlsx"
    result = CliRunner().invoke(
        cli,
        [
            *("template", "-t", "national-project", "--data", str(DATA), "-o", str(out)),
            *("--year", "2023", "--unit", "某单位"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    book = openpyxl.load_workbook(out, data_only=True)
    projects = book.worksheets[:2]
    assert [(s["H3"].value, s["F4"].value) for s in projects] == [(2023, "某单位")] * 2
    assert all(str(s["A1"].value).endswith("（2023 年度）") for s in book.worksheets)
