"""The national 项目支出绩效自评表 through a real LibreOffice: the template with one sheet per
project, filled, recalculated and saved by LibreOffice, verifies clean; planted errors are found
exactly; rows inserted inside an indicator group in LibreOffice are read as indicator rows.

The filled workbooks go through ONE headless LibreOffice start (``recalculate_many``); the row
insertion is done by LibreOffice itself through UNO (``tests.libreoffice_uno``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import libreoffice_uno as lo
from tests.conftest import EXAMPLES, fill_cells
from tests.libreoffice import recalculate_many
from xlcheck import VerifyOptions, load_spec, verify_workbook, write_template
from xlcheck.api import prefill_values
from xlcheck.findings import VerificationResult
from xlcheck.formula_text import normalise_formula
from xlcheck.formulas import template_formulas
from xlcheck.reader import open_workbook

pytestmark = pytest.mark.libreoffice

SPEC = load_spec("national-project")


def _to_cents(value: object) -> object:
    """The example's amounts to the two decimals a 万元 cell takes: the published forms' 89.974
    would add a too-many-decimals warning to every case, which is not what these cases test."""
    return round(value, 2) if isinstance(value, float) else value


_DATA = json.loads((EXAMPLES / "national-project-2022.json").read_text(encoding="utf-8"))
_DATA["project"] = [{k: _to_cents(v) for k, v in item.items()} for item in _DATA["project"]]
PREFILL = prefill_values(_DATA, SPEC)
LAYOUT = PREFILL.layout(SPEC)
FIRST, SECOND = "委托业务项目", "村级补助及运转经费"

#: (code, sheet, cell) of one finding.
Planted = tuple[str, str, str]


@dataclass(frozen=True)
class Case:
    overrides: dict[str, Any]
    expected: frozenset[Planted]


def _typed_zero() -> Case:
    columns = {"initial": "D6", "full": "E6", "executed": "F6", "rate": "H6", "score": "I6"}
    return Case(
        {f"project[1].funds.total.{column}": 0 for column in columns},
        frozenset(
            (code, FIRST, cell)
            for cell in columns.values()
            for code in ("derived-mismatch", "formula-replaced")
        ),
    )


CASES: dict[str, Case] = {
    "correct": Case({}, frozenset()),
    # As both published forms have it: 年度资金总额 typed as 0 over its formulas.
    "typed-zero": _typed_zero(),
    "indicators": Case(
        {
            "project[1].indicators.cost[2].weight": 12,
            "project[2].indicators.served[1].actual": "85%",
            "project[2].indicators.cost[1].score": 7,
        },
        frozenset(
            {
                ("indicator-weights-wrong", FIRST, "G13"),
                ("indicator-score-below-rule", FIRST, "H20"),
                ("reason-missing", FIRST, "I20"),
                ("indicator-score-above-rule", SECOND, "H25"),
                ("indicator-score-below-rule", SECOND, "H19"),
                ("reason-missing", SECOND, "I19"),
            }
        ),
    ),
    "no-satisfaction": Case(
        {
            f"project[1].indicators.served[1].{column}": None
            for column in ("name", "target", "actual", "weight", "score")
        },
        frozenset({("weights-total-wrong", FIRST, "G26")}),
    ),
}
#: Two rows inserted inside 数量指标 by LibreOffice, two indicators written there (the second
#: scored 4 where 15 of ≥20 earns 3), 单项业务成本 lowered to 2 so 产出 still adds up to 50.
_INSERTED_CELLS: dict[str, str | float] = {
    "D14": "新增委托业务数量",
    "E14": "≥10个",
    "F14": "12",
    "G14": 4,
    "H14": 4,
    "D15": "培训人次",
    "E15": "≥20人次",
    "F15": "15",
    "G15": 4,
    "H15": 4,
    "G22": 2,
    "H22": 2,
}
#: Two rows inserted by LibreOffice itself inside the first project's 数量指标 group, typed in.
INSERTED_ROWS: list[lo.Operation] = [
    lo.insert_rows(FIRST, 14, 2),
    *(
        lo.set_string(FIRST, cell, value)
        if isinstance(value, str)
        else lo.set_value(FIRST, cell, value)
        for cell, value in _INSERTED_CELLS.items()
    ),
]


@pytest.fixture(scope="module")
def saved(libreoffice_available: bool, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every case filled with openpyxl, then recalculated and saved by one LibreOffice run."""
    if not libreoffice_available:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("national")
    jobs: dict[Path, Path] = {}
    for name, case in CASES.items():
        filled = folder / f"{name}.xlsx"
        write_template(filled, template=SPEC.id, prefill=PREFILL)
        fill_cells(filled, case.overrides, template=SPEC.id, layout=LAYOUT)
        jobs[filled] = folder / f"{name}.libreoffice.xlsx"
    recalculate_many(jobs)
    return {source.stem: target for source, target in jobs.items()}


@functools.cache
def _verify(path: Path) -> VerificationResult:
    return verify_workbook(path, options=VerifyOptions(annotate=False))


def _planted(result: VerificationResult) -> set[Planted]:
    return {
        (f.code, f.location.sheet, f.location.cell_ref)
        for f in result.findings
        if f.location is not None
    }


def test_roundtrip_national_correct_fill_has_no_findings(saved: dict[str, Path]) -> None:
    result = _verify(saved["correct"])
    assert result.application and "LibreOffice" in result.application
    assert result.findings == ()


@pytest.mark.parametrize("name", [n for n in CASES if n != "correct"])
def test_roundtrip_national_reports_exactly_the_planted_findings(
    saved: dict[str, Path], name: str
) -> None:
    assert _planted(_verify(saved[name])) == CASES[name].expected


def test_roundtrip_national_formulas_survive_libreoffice(saved: dict[str, Path]) -> None:
    expected = template_formulas(LAYOUT)
    with open_workbook(saved["correct"]) as source:
        for key, formula in expected.items():
            placed = LAYOUT.by_key[key]
            kept = source.formula_at(placed.sheet, placed.row_number, placed.column_number)
            assert kept is not None and normalise_formula(kept) == normalise_formula(formula), key


def test_roundtrip_national_recalculated_total_and_grade(saved: dict[str, Path]) -> None:
    result = _verify(saved["correct"])
    assert result.values["total_score"] == 100
    assert result.values["grade"] == "优"
    assert result.all_values["project[2].funds.total.rate"] == 1.0


def test_roundtrip_rows_inserted_in_libreoffice_are_indicator_rows(tmp_path: Path) -> None:
    if not lo.available():
        pytest.skip("LibreOffice with python3-uno is not installed")
    source = tmp_path / "projects.xlsx"
    write_template(source, template=SPEC.id, prefill=PREFILL)
    edited = lo.edit_workbook(source, tmp_path / "edited.xlsx", INSERTED_ROWS)
    result = _verify(edited)
    assert _planted(result) == {("indicator-score-above-rule", FIRST, "H15")}
    assert result.all_values["project[1].indicators.quantity[2].name"] == "新增委托业务数量"
    assert result.all_values["project[1].total_score"] == 100  # the SUM grew over the new rows
