"""Checks across the workbooks of one run: the 部门整体 项目支出 list against each project's sheet."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import EXAMPLES, FillWorkbook, correct_seed_values
from xlcheck import VerifyOptions, load_spec, verify_paths, write_template
from xlcheck.api import prefill_values
from xlcheck.cli import cli
from xlcheck.cross_workbook import (
    add_cross_workbook_findings,
    cross_workbook_findings,
    link_patterns,
)
from xlcheck.findings import CellRef, TemplateIdentity, VerificationResult
from xlcheck.verification import verify_workbook

OVERALL = load_spec("zhanjiang-overall")
NATIONAL = load_spec("national-project")
SPECS = {OVERALL.id: OVERALL, NATIONAL.id: NATIONAL}
UNIT = "池州市贵池区棠溪镇人民政府"
CODES = {"project-amount-differs", "project-sheet-missing", "project-total-differs"}


def _overall(projects: list[tuple[str, float]], *, unit: str = UNIT) -> VerificationResult:
    values: dict[str, Any] = {"unit_name": unit, "year": 2022}
    locations = {}
    for row, (name, amount) in enumerate(projects, 1):
        values[f"projects[{row}].name"] = name
        values[f"projects[{row}].actual"] = amount
        locations[f"projects[{row}].name"] = CellRef(2, 3 + row, 2, "项目支出")
        locations[f"projects[{row}].actual"] = CellRef(2, 3 + row, 5, "项目支出")
    values["projects.total.actual"] = round(sum(a for _, a in projects), 2)
    locations["projects.total.actual"] = CellRef(2, 24, 5, "项目支出")
    return VerificationResult(
        Path("部门整体.xlsx"),
        TemplateIdentity(OVERALL.id, OVERALL.version),
        all_values=values,
        locations=locations,
    )


def _projects(
    projects: list[tuple[str, float]], *, unit: str = "219001-" + UNIT
) -> VerificationResult:
    values: dict[str, Any] = {}
    locations = {}
    for number, (name, amount) in enumerate(projects, 1):
        prefix = f"project[{number}]."
        values.update(
            {prefix + "project_name": name, prefix + "unit_name": unit, prefix + "year": 2022}
        )
        values[prefix + "funds.total.executed"] = amount
        locations[prefix + "funds.total.executed"] = CellRef(number - 1, 6, 6, name)
    return VerificationResult(
        Path("项目表.xlsx"),
        TemplateIdentity(NATIONAL.id, NATIONAL.version),
        all_values=values,
        locations=locations,
    )


def _codes(found: dict[int, list[Any]]) -> dict[int, list[tuple[str, str]]]:
    return {i: sorted((f.code, str(f.location)) for f in fs) for i, fs in found.items()}


def test_listed_projects_equal_to_their_sheets_give_nothing() -> None:
    listed = [("委托业务项目", 89.97), ("村级补助及运转经费", 132.91)]
    assert cross_workbook_findings([_overall(listed), _projects(listed)], SPECS) == {}


def test_a_differing_amount_is_reported_in_both_workbooks_naming_the_other_place() -> None:
    found = cross_workbook_findings(
        [
            _overall([("委托业务项目", 89.97), ("村级补助及运转经费", 132.91)]),
            _projects([("委托业务项目", 90.0), ("村级补助及运转经费", 132.91)]),
        ],
        SPECS,
    )
    assert _codes(found) == {
        0: [("project-amount-differs", "项目支出!E4")],
        1: [("project-amount-differs", "委托业务项目!F6")],
    }
    listed_side, sheet_side = found[0][0], found[1][0]
    assert "项目表.xlsx" in listed_side.message and "委托业务项目!F6" in listed_side.message
    assert "部门整体.xlsx" in sheet_side.message and "项目支出!E4" in sheet_side.message
    assert (sheet_side.expected, sheet_side.actual) == (89.97, 90.0)
    assert sheet_side.field == "project[1].funds.total.executed"


def test_a_listed_project_without_its_sheet_is_a_warning_and_the_total_is_not_compared() -> None:
    found = cross_workbook_findings(
        [
            _overall([("委托业务项目", 89.97), ("村级补助及运转经费", 132.91)]),
            _projects([("委托业务项目", 89.97)]),
        ],
        SPECS,
    )
    assert _codes(found) == {0: [("project-sheet-missing", "项目支出!B5")]}
    assert found[0][0].severity.value == "warning"
    assert "村级补助及运转经费" in found[0][0].message


def test_a_project_sheet_missing_from_the_list_makes_the_total_differ() -> None:
    found = cross_workbook_findings(
        [
            _overall([("委托业务项目", 89.97)]),
            _projects([("委托业务项目", 89.97), ("村级补助及运转经费", 132.91)]),
        ],
        SPECS,
    )
    assert _codes(found) == {0: [("project-total-differs", "项目支出!E24")]}
    assert "村级补助及运转经费" in found[0][0].message
    assert (found[0][0].expected, found[0][0].actual) == (222.88, 89.97)


def test_names_match_across_full_and_half_width_brackets_and_spaces() -> None:
    found = cross_workbook_findings(
        [_overall([("村级补助（运转）经费", 10.0)]), _projects([("村级补助 (运转) 经费", 10.0)])],
        SPECS,
    )
    assert found == {}


@pytest.mark.parametrize(
    "overall",
    [
        _overall([("委托业务项目", 1.0)], unit="另一个单位"),
        _overall([("委托业务项目", 1.0)], unit=""),
    ],
    ids=["other-unit", "no-unit"],
)
def test_workbooks_of_another_unit_are_not_linked(overall: VerificationResult) -> None:
    assert cross_workbook_findings([overall, _projects([("委托业务项目", 2.0)])], SPECS) == {}


def test_add_cross_workbook_findings_keeps_results_without_links_as_they_are() -> None:
    alone = _projects([("委托业务项目", 2.0)])
    assert add_cross_workbook_findings([alone]) == [alone]


def _unit_workbooks(make_workbook: FillWorkbook, tmp_path: Path) -> tuple[Path, Path]:
    """A unit's 部门整体 workbook and its project workbook, one project's amount differing."""
    data = json.loads((EXAMPLES / "national-project-2022.json").read_text(encoding="utf-8"))
    projects = tmp_path / "projects.xlsx"
    write_template(projects, template="national-project", prefill=prefill_values(data, NATIONAL))
    values = correct_seed_values()
    values.update(
        {
            "unit_name": UNIT,
            "year": 2022,
            "projects[1].name": "委托业务项目",
            "projects[1].actual": 89.97,
            "projects[2].name": "村级补助及运转经费",
            "projects[2].budget_full": 132.91,
            "projects[2].actual": 132.0,
        }
    )
    return make_workbook(values, name="overall.xlsx"), projects


def test_verify_paths_checks_a_units_overall_and_project_workbooks_together(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    overall, projects = _unit_workbooks(make_workbook, tmp_path)
    results = verify_paths([overall, projects], options=VerifyOptions(annotate=False))
    linked = [
        (r.path.name, f.code, str(f.location))
        for r in results
        for f in r.findings
        if f.code in CODES
    ]
    assert sorted(linked) == [
        ("overall.xlsx", "project-amount-differs", "项目支出!E5"),
        ("projects.xlsx", "project-amount-differs", "村级补助及运转经费!F6"),
    ]


def test_a_batch_worker_keeps_only_the_values_the_links_read(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """Not blank, and with their cells; a template the links do not read keeps none."""
    overall, _ = _unit_workbooks(make_workbook, tmp_path)
    patterns = link_patterns([OVERALL, NATIONAL])
    linked = re.compile(patterns[OVERALL.id])
    options = VerifyOptions(annotate=False)

    every = verify_workbook(overall, options=options)
    kept = verify_workbook(overall, options=options, linked_only=patterns)
    unlinked = verify_workbook(overall, options=options, linked_only={NATIONAL.id: ".*"})

    expected = {
        key: value
        for key, value in every.all_values.items()
        if value not in (None, "") and linked.fullmatch(key)
    }
    assert "projects[2].actual" in expected
    assert any(linked.fullmatch(k) and v in (None, "") for k, v in every.all_values.items())
    assert kept.all_values == expected
    assert list(kept.locations) == list(expected)
    assert kept.locations == {key: every.locations[key] for key in expected}
    assert kept.findings == every.findings
    assert (unlinked.all_values, unlinked.locations) == ({}, {})


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_streaming_batch_reports_the_findings_across_workbooks_after_the_last_result(
    make_workbook: FillWorkbook, tmp_path: Path, jobs: str
) -> None:
    """The CLI streams results; what the links find comes after them, in the report, the counts,
    the exit code and the summary (the workers send back only the values the links read)."""
    overall, projects = _unit_workbooks(make_workbook, tmp_path)
    summary = tmp_path / "汇总.json"
    args = ["verify", str(overall), str(projects), "--no-annotate", "-j", jobs]
    text = CliRunner().invoke(cli, [*args, "--summary", str(summary)])
    document = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).output)

    assert text.exit_code == 1, text.output
    assert "与本批其他工作簿核对后另有" in text.output
    assert text.output.index("与本批其他工作簿核对后另有") > text.output.index(str(projects))
    added = {
        (Path(entry["path"]).name, finding["code"], f"{finding['sheet']}!{finding['cell']}")
        for entry in document["across_workbooks"]
        for finding in entry["findings"]
    }
    assert added == {
        ("overall.xlsx", "project-amount-differs", "项目支出!E5"),
        ("projects.xlsx", "project-amount-differs", "村级补助及运转经费!F6"),
    }
    rows = json.loads(summary.read_text(encoding="utf-8"))
    codes = {(Path(f["file"]).name, f["code"]) for f in rows["findings"]}
    assert ("projects.xlsx", "project-amount-differs") in codes
    statuses = {Path(r["file"]).name: r["status"] for r in rows["workbooks"]}
    assert statuses["projects.xlsx"] == "errors"


def test_a_reply_carries_the_findings_across_the_workbooks_of_its_mail(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    """The reply to a mail with both workbooks waits for the links, and lists what they found."""
    import email
    import email.policy

    from tests.test_sources import make_mail, write_eml

    overall, projects = _unit_workbooks(make_workbook, tmp_path)
    mail = write_eml(
        tmp_path / "in.eml",
        make_mail({"部门整体.xlsx": overall.read_bytes(), "项目.xlsx": projects.read_bytes()}),
    )
    out = tmp_path / "out"

    result = CliRunner().invoke(cli, ["verify", str(mail), "--out-dir", str(out), "--reply"])

    assert result.exit_code == 1, result.output
    [draft] = list(out.glob("*.reply.eml"))
    reply = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)
    body = reply.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "项目支出!E5" in text and "村级补助及运转经费!F6" in text, text
