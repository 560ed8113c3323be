"""Round trips through real LibreOffice: template → openpyxl fill → LibreOffice recalculates and
saves → ``verify_workbook`` reports nothing for a correct fill and exactly what was planted.

Every workbook of this module goes through ONE headless LibreOffice start (``recalculate_many``):
starting LibreOffice costs about two seconds, converting one more workbook a fraction of that.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from tests.conftest import EXAMPLES, correct_seed_values, fill_cells
from tests.libreoffice import XLS_FILTER, recalculate_many
from xlcheck import TemplateMismatchError, write_template
from xlcheck.api import VerifyOptions, verify_workbook
from xlcheck.findings import (
    PROPERTY_SPEC_HASH,
    PROPERTY_TEMPLATE,
    PROPERTY_VERSION,
    VerificationResult,
)
from xlcheck.formula_text import normalise_formula
from xlcheck.formulas import excel_formula
from xlcheck.layout import Layout, lay_out
from xlcheck.spec_loading import load_spec

pytestmark = pytest.mark.libreoffice

TEMPLATE = "zhanjiang-overall"
SPEC = load_spec(TEMPLATE)
LAYOUT: Layout = lay_out(SPEC)

#: (code, sheet, cell) of one finding.
Planted = tuple[str, str, str]


@dataclass(frozen=True)
class Case:
    """One workbook of the round trip: what is typed over the correct fill, what verify must say."""

    overrides: dict[str, Any]
    expected: frozenset[Planted]
    #: Findings that exist only once an app has recalculated and saved results (openpyxl saves none).
    after_recalculation: frozenset[Planted] = frozenset()

    @property
    def expected_after_recalculation(self) -> frozenset[Planted]:
        return self.expected | self.after_recalculation


CORRECT = "correct"
CASES: dict[str, Case] = {
    # correct_seed_values(): the seed's numbers, the fill date as a date, scores totalling 100.
    CORRECT: Case({}, frozenset()),
    # A typed number over the SUM of the ten budget lines (1133.49): the cell keeps the number
    # after LibreOffice recalculates, and verify recomputes 1133.49 from the inputs.
    "overwritten-formula": Case(
        {"budget_total": 1200},
        frozenset({("formula-replaced", "数据表", "B15"), ("derived-mismatch", "数据表", "B15")}),
    ),
    # The project list adds up to 300.00 while 数据表 says 项目支出 is 311.52.
    "wrong-sum": Case(
        {"projects[1].actual": 300.0},
        frozenset({("cross-check-mismatch", "项目支出", "E24")}),
    ),
    # 重点工作完成率 scored 7 of its 5 points. The correct fill totals exactly 100, so the 2 extra
    # points push the (recomputed) total to 102: total-above-maximum is a consequence of the same
    # plant, at the total's cell, and nothing else moves (subtotals and grade keep their formulas).
    "score-above-weight": Case(
        {"score.key_tasks": 7},
        frozenset(
            {("score-above-weight", "评分表", "F23"), ("total-above-maximum", "评分表", "F28")}
        ),
    ),
    # 实际收入 typed as text with a thousands separator (its correct value) and a word in
    # 无编合同制人员 (not required, used by no formula). LibreOffice's SUM skips the text, so the
    # recalculated sheet shows 可用资金 (B19) as 0.00: the displayed total is wrong.
    "text-in-number-cells": Case(
        {"income_actual": "1,131.12", "staff_contract": "abc"},
        frozenset({("number-as-text", "数据表", "B18"), ("not-a-number", "基本信息", "B13")}),
        after_recalculation=frozenset({("shown-value-wrong", "数据表", "B19")}),
    ),
    # 评价单位 left blank: required, text, used by no formula.
    "blank-required": Case(
        {"unit_name": None},
        frozenset({("required-missing", "基本信息", "B6")}),
    ),
    # 填报日期 typed as the text "2024-07-28" (as it stands in the seed's JSON): only a warning.
    "date-as-text": Case(
        {"fill_date": "2024-07-28"},
        frozenset({("date-as-text", "评分表", "G32")}),
    ),
}
WRONG = [name for name in CASES if name != CORRECT]

#: Formula text LibreOffice has to keep meaning the same; sheet names that need quotes or not.
FORMULA_PROBES: dict[str, str] = {
    "C1": "='项目 支出'!E1+数据表!B2",
    "C2": "=SUM('项目 支出'!E1:E4)",
    "C3": "='数据表'!B1*2",
    "C4": "=SUM($B$1:$B$4)",
    "C5": '=IF(N(B1)=0,"",B2/B1)',
    "C6": "='It''s'!A1",
    "C7": "=sum( B1 , B2 )",
    "C8": '=IF(B1=0,"",IF(B1>=90,"优",IF(B1>=80,"良","差")))',
}


@dataclass(frozen=True)
class RoundTrip:
    """A workbook as filled with openpyxl and the same workbook as LibreOffice saved it."""

    filled: Path
    saved: Path


@functools.cache
def _verify(path: Path) -> VerificationResult:
    """Verify once per file (results are frozen data; several tests look at the same file)."""
    return verify_workbook(path, options=VerifyOptions(annotate=False))


def _planted(result: VerificationResult) -> set[Planted]:
    return {
        (f.code, f.location.sheet, f.location.cell_ref)
        for f in result.findings
        if f.location is not None
    }


def _write_formula_probe(path: Path) -> Path:
    book = openpyxl.Workbook()
    data = book.active
    assert data is not None
    data.title = "数据表"
    projects, quoted = book.create_sheet("项目 支出"), book.create_sheet("It's")
    for row_number in range(1, 5):
        data.cell(row_number, 2).value = row_number
        projects.cell(row_number, 5).value = row_number * 10
        quoted.cell(row_number, 1).value = row_number
    for cell_ref, formula in FORMULA_PROBES.items():
        data[cell_ref] = formula
    book.save(path)
    return path


@pytest.fixture(scope="module")
def round_trips(
    libreoffice_available: bool, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, RoundTrip]:
    """Every case workbook (plus the formula probe), recalculated by one LibreOffice run."""
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("libreoffice")
    trips: dict[str, RoundTrip] = {}
    for name, case in CASES.items():
        filled = folder / f"{name}.xlsx"
        write_template(filled, template=TEMPLATE)
        fill_cells(filled, {**correct_seed_values(), **case.overrides}, template=TEMPLATE)
        trips[name] = RoundTrip(filled, folder / f"{name}.libreoffice.xlsx")
    probe = _write_formula_probe(folder / "formulas.xlsx")
    trips["formulas"] = RoundTrip(probe, folder / "formulas.libreoffice.xlsx")
    recalculate_many({trip.filled: trip.saved for trip in trips.values()})
    return trips


def test_roundtrip_correct_fill_has_no_findings(round_trips: dict[str, RoundTrip]) -> None:
    result = _verify(round_trips[CORRECT].saved)

    assert result.findings == (), [f.to_dict("en") for f in result.findings]
    assert result.status == "ok"


@pytest.mark.parametrize("name", WRONG, ids=WRONG)
def test_roundtrip_wrong_fill_reports_exactly_the_planted_findings(
    round_trips: dict[str, RoundTrip], name: str
) -> None:
    result = _verify(round_trips[name].saved)

    expected = CASES[name].expected_after_recalculation
    assert _planted(result) == expected, [f.to_dict("en") for f in result.findings]
    assert len(result.findings) == len(expected)


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_roundtrip_libreoffice_save_changes_no_finding(
    round_trips: dict[str, RoundTrip], name: str
) -> None:
    """What LibreOffice writes back (formula text, cached values, number formats) adds nothing
    but the wrong displayed results a case declares."""
    before, after = _verify(round_trips[name].filled), _verify(round_trips[name].saved)
    added = {
        (f.code, f.location.sheet, f.location.cell_ref) for f in after.findings if f.location
    } - {(f.code, f.location.sheet, f.location.cell_ref) for f in before.findings if f.location}
    assert added == CASES[name].after_recalculation
    kept = [f.to_dict("en") for f in after.findings if f.code != "shown-value-wrong"]
    assert kept == [f.to_dict("en") for f in before.findings]


def test_roundtrip_date_typed_as_text_is_only_a_warning(round_trips: dict[str, RoundTrip]) -> None:
    result = _verify(round_trips["date-as-text"].saved)

    assert _planted(result) == set(CASES["date-as-text"].expected)
    assert (result.errors, result.warnings) == (0, 1)


@pytest.mark.parametrize(
    ("name", "code", "expected", "actual"),
    [
        ("overwritten-formula", "derived-mismatch", 1133.49, 1200),
        ("wrong-sum", "cross-check-mismatch", 311.52, 300),
        ("score-above-weight", "score-above-weight", 5, 7),
        ("score-above-weight", "total-above-maximum", 100, 102),
        ("text-in-number-cells", "number-as-text", 1131.12, "1,131.12"),
        ("text-in-number-cells", "not-a-number", None, "abc"),
    ],
    ids=["typed-total", "project-total", "score", "total", "thousands-separator", "word"],
)
def test_roundtrip_planted_finding_values(
    round_trips: dict[str, RoundTrip], name: str, code: str, expected: Any, actual: Any
) -> None:
    (finding,) = [f for f in _verify(round_trips[name].saved).findings if f.code == code]

    assert (finding.expected, finding.actual) == (expected, actual)


def test_roundtrip_keeps_template_identity(round_trips: dict[str, RoundTrip]) -> None:
    saved = round_trips[CORRECT].saved
    book = openpyxl.load_workbook(saved)
    # types-openpyxl does not declare custom_doc_props (openpyxl 3.1 has it).
    properties = {p.name: p.value for p in book.custom_doc_props.props}  # type: ignore[attr-defined]

    assert properties[PROPERTY_TEMPLATE] == SPEC.id
    assert properties[PROPERTY_VERSION] == SPEC.version
    assert properties[PROPERTY_SPEC_HASH] == SPEC.spec_hash
    result = _verify(saved)
    assert result.template is not None
    assert (result.template.id, result.template.version) == (SPEC.id, SPEC.version)


def test_roundtrip_reports_libreoffice_as_application(round_trips: dict[str, RoundTrip]) -> None:
    filled, saved = _verify(round_trips[CORRECT].filled), _verify(round_trips[CORRECT].saved)

    assert filled.application is not None
    assert "LibreOffice" not in filled.application  # openpyxl saved the filled copy
    assert saved.application is not None
    assert saved.application.startswith("LibreOffice")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("budget_total", 1133.49),
        ("spend_total", 1130.30),
        ("exec_rate", 1130.30 / 1133.49),
        ("total_score", 100),
        ("grade", "优"),
    ],
    ids=["budget-total", "spend-total", "exec-rate", "total-score", "grade"],
)
def test_roundtrip_libreoffice_recalculated_the_formulas(
    round_trips: dict[str, RoundTrip], key: str, expected: Any
) -> None:
    """openpyxl saves formulas without results; only a real recalculation can fill them in."""
    placed = LAYOUT.by_key[key]

    def cached(path: Path) -> Any:
        frame = pd.read_excel(
            path, sheet_name=placed.sheet, header=None, dtype=object, engine="calamine"
        )
        value = frame.iat[placed.row_number - 1, placed.column_number - 1]
        return None if isinstance(value, float) and math.isnan(value) else value

    assert cached(round_trips[CORRECT].filled) is None
    if isinstance(expected, float):
        assert cached(round_trips[CORRECT].saved) == pytest.approx(expected)
    else:
        assert cached(round_trips[CORRECT].saved) == expected


def test_roundtrip_template_formulas_survive_libreoffice(round_trips: dict[str, RoundTrip]) -> None:
    book = openpyxl.load_workbook(round_trips[CORRECT].saved)
    grades = SPEC.grading.grades
    changed: list[tuple[str, str, object]] = []
    checked: set[str] = set()
    for placed in LAYOUT.fields:
        formula = excel_formula(placed, LAYOUT, grades)
        if formula is None:
            continue
        saved = book[placed.sheet].cell(placed.row_number, placed.column_number).value
        checked.add(placed.key)
        if not isinstance(saved, str) or normalise_formula(saved) != normalise_formula(formula):
            changed.append((placed.key, formula, saved))

    assert {"budget_total", "exec_rate", "projects[1].rate", "total_score", "grade"} <= checked
    assert changed == []


@pytest.mark.parametrize("cell_ref", list(FORMULA_PROBES), ids=list(FORMULA_PROBES.values()))
def test_normalise_formula_absorbs_libreoffice_rewrites(
    round_trips: dict[str, RoundTrip], cell_ref: str
) -> None:
    """LibreOffice drops needless sheet-name quotes and upper-cases function names."""
    sheet = openpyxl.load_workbook(round_trips["formulas"].saved)["数据表"]
    saved = sheet[cell_ref].value

    assert isinstance(saved, str)
    assert normalise_formula(saved) == normalise_formula(FORMULA_PROBES[cell_ref])


def test_roundtrip_legacy_xls_reports_the_examples_findings_from_values_alone(
    libreoffice_available: bool, tmp_path: Path
) -> None:
    """A legacy .xls (saved by LibreOffice) carries no template mark and no readable formulas:
    with -t it is verified on its values, giving the example's own findings and nothing more
    (formula text results come back from .xls as 0 and must not count as wrong)."""
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    legacy = tmp_path / "example.xls"
    recalculate_many({EXAMPLES / "zhanjiang-xinfang-2023.xlsx": legacy}, convert_to=XLS_FILTER)
    with pytest.raises(TemplateMismatchError) as caught:
        verify_workbook(legacy, options=VerifyOptions(annotate=False))
    assert "-t" in (caught.value.hint or "")
    result = verify_workbook(
        legacy, options=VerifyOptions(template="zhanjiang-overall", annotate=False)
    )
    assert {(f.code, str(f.location) if f.location else None) for f in result.findings} == {
        ("formulas-unread", None),
        ("ratio-wrong-base", "数据表!B30"),
        ("score-above-weight", "评分表!F25"),
        ("total-above-maximum", "评分表!F28"),
    }
