"""Golden cases: every ``tests/cases/*`` folder is a filled workbook and the findings it must give.

A case folder holds ``case.yaml``:

    description: what the case shows
    base: correct | seed | empty      # the seed's numbers with a total of 100 | 101 | nothing
                                      # | national: examples/national-project-2022.json as data
    spec: spec.yaml                   # optional: a spec beside the case instead of the default
    template: national-project        # optional: a built-in template instead of the default
    data: {…}                         # optional: ``template --data`` values (a list per repeat key)
    values: {field key: value}        # typed into the field's cell with openpyxl (formulas too)
    cells: {"Sheet!B7": value}        # typed into any cell
    delete_sheets: [Sheet]            # sheets removed after filling
    edits:                            # then, in order, what units do to a template:
      - {rename_sheet: [Sheet, New name]}             # as Excel does: references follow
      - {copy_sheet: [Sheet, Name of the copy]}
      - {move_sheet: [Sheet, offset]}
      - {insert_rows: [Sheet, row_number, count]}   # as Excel does: references follow
      - {delete_rows: [Sheet, row_number, count]}
      - {cells: {"Sheet!B7": value}}                # typed after the edits above

and ``expected.json``, the findings as ``verify --format json`` lists them. Run pytest with
``--update-golden`` to rewrite the expected files, then review the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from tests import sheet_edits
from tests.conftest import EXAMPLES, correct_seed_values, fill_cells, seed_values
from xlcheck import VerifyOptions, load_spec, verify_workbook, write_template
from xlcheck.api import prefill_values
from xlcheck.verification import verify_with_layout

CASES = Path(__file__).resolve().parent / "cases"
NATIONAL_DATA = EXAMPLES / "national-project-2022.json"
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file())


def _template(case: dict[str, Any], case_dir: Path) -> str:
    if "spec" in case:
        return str(case_dir / case["spec"])
    return str(case.get("template", "zhanjiang-overall"))


def _build(case_dir: Path, tmp_path: Path) -> Path:
    case: dict[str, Any] = yaml.safe_load((case_dir / "case.yaml").read_text(encoding="utf-8"))
    template = _template(case, case_dir)
    name = case.get("base", "correct")
    base = {"correct": correct_seed_values, "seed": seed_values}.get(name, dict)()
    data = json.loads(NATIONAL_DATA.read_text(encoding="utf-8")) if name == "national" else None
    data = case.get("data", data)
    path = tmp_path / f"{case_dir.name}.xlsx"
    prefill = prefill_values(data, load_spec(template)) if data is not None else None
    write_template(path, template=template, prefill=prefill)
    fill_cells(
        path,
        {**base, **case.get("values", {})},
        template=template,
        cells=case.get("cells"),
        layout=prefill.layout(load_spec(template)) if prefill else None,
    )
    if case.get("delete_sheets"):
        book = openpyxl.load_workbook(path)
        for name in case["delete_sheets"]:
            del book[name]
        book.save(path)
    if case.get("edits"):
        book = openpyxl.load_workbook(path)
        for edit in case["edits"]:
            _edit(book, edit)
        book.save(path)
    return path


def _edit(book: Any, edit: dict[str, Any]) -> None:
    """One of a case's ``edits``, done to the workbook as a unit would in Excel."""
    (action, arguments), *_ = edit.items()
    if action == "rename_sheet":
        sheet_edits.rename_sheet(book, *arguments)
    elif action == "copy_sheet":
        book.copy_worksheet(book[arguments[0]]).title = arguments[1]
    elif action == "move_sheet":
        book.move_sheet(arguments[0], offset=arguments[1])
    elif action == "insert_rows":
        sheet_edits.insert_rows(book, *arguments)
    elif action == "delete_rows":
        sheet_edits.delete_rows(book, *arguments)
    elif action == "cells":
        for address, value in arguments.items():
            sheet, cell = address.rsplit("!", 1)
            book[sheet][cell].value = value
    else:
        raise AssertionError(f"unknown edit {action}")


def _findings(case_dir: Path, tmp_path: Path) -> list[dict[str, Any]]:
    case = yaml.safe_load((case_dir / "case.yaml").read_text(encoding="utf-8"))
    template = _template(case, case_dir) if "spec" in case or "template" in case else None
    result = verify_workbook(
        _build(case_dir, tmp_path), options=VerifyOptions(template=template, annotate=False)
    )
    findings: list[dict[str, Any]] = result.to_dict()["findings"]
    return findings


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_golden_case(case_dir: Path, tmp_path: Path, update_golden: bool) -> None:
    findings = _findings(case_dir, tmp_path)
    expected_path = case_dir / "expected.json"
    if update_golden:
        expected_path.write_text(
            json.dumps(findings, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    assert expected_path.is_file(), f"run pytest --update-golden to create {expected_path}"
    assert findings == json.loads(expected_path.read_text(encoding="utf-8"))


#: Rule codes whose trigger no openpyxl fill can produce, and the test that covers each instead.
COVERED_ELSEWHERE: dict[str, str] = {
    # Needs results saved by a spreadsheet app; openpyxl saves none.
    "shown-value-wrong": "tests/test_roundtrip_libreoffice.py",
    # Package-level quirks: the fixtures rewrite the zip package or its XML, which a fill cannot.
    "external-links": "tests/test_robustness.py",
    "formulas-unread": "tests/test_robustness.py",
    "macros-present": "tests/test_robustness.py",
    "sheet-hidden": "tests/test_robustness.py",
    # Across the workbooks of one run, not within one workbook.
    "project-amount-differs": "tests/test_cross_workbook.py",
    "project-sheet-missing": "tests/test_cross_workbook.py",
    "project-total-differs": "tests/test_cross_workbook.py",
}


def test_golden_cases_cover_every_rule_code() -> None:
    from xlcheck.rules import all_rules

    seen = {
        f["code"]
        for case in CASE_DIRS
        for f in json.loads((case / "expected.json").read_text(encoding="utf-8"))
    }
    missing = {r.code for r in all_rules()} - seen - set(COVERED_ELSEWHERE)
    assert not missing, f"add a tests/cases folder that triggers {sorted(missing)}"


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _spec_words(layout: Any) -> list[str]:
    """Words an English message may quote from the spec: units, choices, grades, labels."""
    words: set[str] = set()
    for placed in layout.fields:
        words.update(filter(None, (placed.spec.unit, *placed.spec.choices)))
        words.update(placed.label_path.split("/"))
    for grade in layout.spec.grading.grades:
        words.update((grade.name, *grade.aliases))
    return sorted(words, key=len, reverse=True)


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_golden_case_english_messages_are_english(case_dir: Path, tmp_path: Path) -> None:
    """--lang en: no Chinese but what the message quotes from the workbook or the spec."""
    case = yaml.safe_load((case_dir / "case.yaml").read_text(encoding="utf-8"))
    template = str(case_dir / case["spec"]) if "spec" in case else case.get("template")
    result, layout = verify_with_layout(_build(case_dir, tmp_path), template=template)
    spec_words = _spec_words(layout)
    for finding in result.findings:
        # Quoted words from the workbook (names, values, targets) and formulas are data.
        text = re.sub(r"'[^']*[^\x00-\x7f][^']*'|=\S+", "", finding.message_en)
        for word in spec_words:
            text = text.replace(word, "")
        assert not _CJK.search(text), finding.message_en
