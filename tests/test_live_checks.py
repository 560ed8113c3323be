"""The 自查 sheet generated from the spec, and the conditional formats that mark problems on the
cells: what each template gets, and how verify treats their formulas."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.conftest import FillWorkbook
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.formulas import template_formulas
from xlcheck.layout import Layout, lay_out
from xlcheck.layout.self_check import SELF_CHECK_ROLE
from xlcheck.live_marks import conditional_formats
from xlcheck.spec_loading import load_spec

ZHANJIANG = lay_out(load_spec("zhanjiang-overall"))
NATIONAL = lay_out(load_spec("national-project"))


def _checks(layout: Layout) -> dict[str, str]:
    """自查 field key → its description (the label path's last part)."""
    return {
        f.key: f.label_path.split("/", 1)[1] for f in layout.fields if f.role == SELF_CHECK_ROLE
    }


def test_self_check_sheet_comes_after_the_specs_sheets() -> None:
    assert [s.name for s in ZHANJIANG.sheets][-1] == "自查"
    assert ZHANJIANG.sheets[-1].generated
    assert not any(s.generated for s in ZHANJIANG.sheets[:-1])


def test_self_check_has_a_row_per_spec_check() -> None:
    checks = _checks(ZHANJIANG)
    spec = ZHANJIANG.spec
    assert sorted(k for k in checks if k.startswith("check.spec")) == [
        f"check.spec{n}" for n in range(1, len(spec.checks) + 1)
    ]
    assert checks["check.spec1"] == "项目支出“合计实际支出” = 数据表“项目支出”"
    assert checks["check.spec3"] == "数据表“实际支出” ≤ 数据表“可用资金”"


def test_self_check_has_a_row_per_total_a_unit_can_type_over() -> None:
    checks = _checks(ZHANJIANG)
    derived = {
        f.key
        for f in ZHANJIANG.fields
        if f.spec.derive is not None
        and f.spec.derive.verb in ("sum", "ratio", "copy")
        and not (f.table_row or 0)
        and not f.key.startswith(("subtotal_weight.", "total_weight", "check."))
    }
    assert {f"check.formula.{key}" for key in derived} <= set(checks)
    assert checks["check.formula.exec_rate"] == "数据表：预算执行率 = 实际支出 ÷ 预算数"
    # Sums of fixed 分值 cannot disagree with anything a unit types: no rows for them.
    assert "check.formula.subtotal_weight.planning" not in checks
    assert "check.formula.total_weight" not in checks


def test_self_check_covers_scores_total_and_grade() -> None:
    checks = _checks(ZHANJIANG)
    parts = [k for k in checks if k.startswith("check.scores.")]
    assert len(parts) == 4  # one per part of the 评分表
    assert checks["check.maximum.total_score"] == "评分表：总分不超过满分 100 分"
    assert checks["check.grade.grade"].startswith("评分表：等级与总分相符")


def test_self_check_of_each_project_sheet_checks_its_indicator_weights() -> None:
    layout = lay_out(load_spec("national-project"), (("project", ("甲", "乙")),))
    checks = _checks(layout)
    for n, name in ((1, "甲"), (2, "乙")):
        assert checks[f"check.weights.project[{n}].indicators.output"] == (
            f"{name}：产出指标各行分值合计为 50 分"
        )
        assert f"check.weights.project[{n}].total" in checks
        assert f"check.maximum.project[{n}].total_score" in checks
    # The spec's own check (the fill date in the following year), once per project.
    assert {"check.spec1", "check.spec1[2]"} <= set(checks)


def test_self_check_formulas_are_template_formulas() -> None:
    formulas = template_formulas(ZHANJIANG)
    for key in _checks(ZHANJIANG):
        assert formulas[key].startswith("=IF("), key
    equal = formulas["check.spec1"]
    assert "'项目支出'!E24" in equal and "'数据表'!B25" in equal and '"通过"' in equal


@pytest.mark.parametrize(
    ("layout", "sheet", "cells"),
    [
        (ZHANJIANG, "评分表", {"F4:F7", "F22:F26", "F28", "F29"}),
        (ZHANJIANG, "数据表", {"B15", "B30", "B25"}),
        (ZHANJIANG, "项目支出", {"E24", "F4:F23"}),
        (NATIONAL, "项目支出绩效自评表", {"I6", "H13:H25", "G13:G20", "H27"}),
    ],
    ids=["scores-total-grade", "totals-ratios-cross-sheet", "table", "national"],
)
def test_conditional_formats_mark_the_cells_the_checks_are_about(
    layout: Layout, sheet: str, cells: set[str]
) -> None:
    marked = {m.cells for m in conditional_formats(layout, layout.by_sheet[sheet])}
    assert cells <= marked


def test_conditional_format_of_a_score_compares_it_with_its_own_weight() -> None:
    marks = conditional_formats(ZHANJIANG, ZHANJIANG.by_sheet["评分表"])
    assert next(m.formula for m in marks if m.cells == "F4:F7") == "AND(ISNUMBER(F4),F4>D4)"


def test_verify_reports_an_altered_self_check_formula(
    make_workbook: FillWorkbook, tmp_path: Path
) -> None:
    path = make_workbook()
    placed = ZHANJIANG.by_key["check.maximum.total_score"]
    book = openpyxl.load_workbook(path)
    book["自查"][placed.cell_ref] = '="通过"'
    book.save(path)
    result = verify_workbook(path, options=VerifyOptions(annotate=False))
    assert [(f.code, str(f.location)) for f in result.findings] == [
        ("formula-altered", f"自查!{placed.cell_ref}")
    ]


def test_verify_does_not_recompute_self_check_results(make_workbook: FillWorkbook) -> None:
    # openpyxl saves no results: the 自查 cells hold formulas without a value, and that is fine.
    result = verify_workbook(make_workbook(), options=VerifyOptions(annotate=False))
    assert result.findings == ()
    assert not any(key.startswith("check.") for key in result.all_values)


def test_verify_a_deleted_self_check_sheet_is_only_a_warning(make_workbook: FillWorkbook) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    del book["自查"]
    book.save(path)
    result = verify_workbook(path, options=VerifyOptions(annotate=False))
    assert [(f.code, f.severity.value) for f in result.findings] == [("sheet-missing", "warning")]
