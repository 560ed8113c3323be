"""Golden report cases: every ``tests/report_cases/*`` folder is a report and the findings it gives.

A case folder holds ``case.yaml``:

    description: what the case shows
    report: report.md                # the report text in the folder (.md or .txt)
    template: national-project       # optional: read it by this template (-t) instead of the default
    workbook: correct | seed         # optional: compare with this golden workbook (--workbook)
              | national             #   (national: examples/national-project-2022.json, one sheet
                                     #   per project, as the national golden cases build it)
    values: {field key: value}       # optional: typed into the workbook over the base values

and ``expected.json``, the findings as ``report check --format json`` lists them. Run pytest with
``--update-golden`` to rewrite the expected files, then review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, correct_seed_values, fill_cells, seed_values
from xlcheck import api, load_spec, write_template
from xlcheck.api import prefill_values
from xlcheck.narrative.report_check import ReportCheckOptions

CASES = Path(__file__).resolve().parent / "report_cases"
NATIONAL_DATA = EXAMPLES / "national-project-2022.json"
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file())


def _national_workbook(path: Path, values: dict[str, Any]) -> Path:
    spec = load_spec("national-project")
    prefill = prefill_values(json.loads(NATIONAL_DATA.read_text(encoding="utf-8")), spec)
    write_template(path, template="national-project", prefill=prefill)
    return fill_cells(path, values, template="national-project", layout=prefill.layout(spec))


def _findings(case_dir: Path, tmp_path: Path) -> list[dict[str, Any]]:
    case: dict[str, Any] = yaml.safe_load((case_dir / "case.yaml").read_text(encoding="utf-8"))
    workbook = None
    if case.get("workbook") == "national":
        workbook = _national_workbook(tmp_path / "workbook.xlsx", case.get("values", {}))
    elif "workbook" in case:
        base = {"correct": correct_seed_values, "seed": seed_values}[case["workbook"]]()
        workbook = tmp_path / "workbook.xlsx"
        write_template(workbook)
        fill_cells(workbook, {**base, **case.get("values", {})})
    options = ReportCheckOptions(workbook=workbook, template=case.get("template"), annotate=False)
    result = api.check_report(case_dir / case["report"], options=options)
    findings: list[dict[str, Any]] = result.to_dict()["findings"]
    return findings


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_report_case(case_dir: Path, tmp_path: Path, update_golden: bool) -> None:
    findings = _findings(case_dir, tmp_path)
    expected_path = case_dir / "expected.json"
    if update_golden:
        expected_path.write_text(
            json.dumps(findings, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    assert expected_path.is_file(), f"run pytest --update-golden to create {expected_path}"
    assert findings == json.loads(expected_path.read_text(encoding="utf-8"))


def test_report_cases_cover_every_report_code() -> None:
    from xlcheck.narrative.catalogue import all_report_rules

    seen = {
        f["code"]
        for case in CASE_DIRS
        for f in json.loads((case / "expected.json").read_text(encoding="utf-8"))
    }
    # report-bonus-used needs a template with bonus points: tests/test_report_check.py covers it.
    missing = {r.code for r in all_report_rules()} - seen - {"report-bonus-used"}
    assert not missing, f"add a tests/report_cases folder that triggers {sorted(missing)}"
