"""Formula text the template writes, and formula text compared as Excel means it."""

from __future__ import annotations

import pytest

from xlcheck.formula_text import normalise_formula
from xlcheck.formulas import excel_formula
from xlcheck.layout import lay_out
from xlcheck.spec_loading import load_spec


@pytest.fixture(scope="module")
def formulas() -> dict[str, str | None]:
    spec = load_spec("zhanjiang-overall")
    layout = lay_out(spec)
    grades = spec.grading.grades
    return {f.key: excel_formula(f, layout, grades) for f in layout.fields if not f.is_input}


def test_excel_formula_sums_a_contiguous_run_as_a_range(formulas: dict[str, str | None]) -> None:
    assert formulas["budget_total"] == '=IF(COUNT(B5:B14)=0,"",SUM(B5:B14))'


def test_excel_formula_leaves_a_sum_of_fixed_weights_unguarded(
    formulas: dict[str, str | None],
) -> None:
    # 分值 are fixed values: their sums always show a number, so no blank guard.
    assert formulas["subtotal_weight.planning"] == "=SUM(D4:D7)"
    assert formulas["total_weight"] == "=SUM(D8,D14,D21,D27)"


def test_excel_formula_guards_ratios_against_division_by_zero(
    formulas: dict[str, str | None],
) -> None:
    # N(): the numerator is a sum that shows "" while its parts are blank.
    assert formulas["exec_rate"] == '=IF(N(B15)=0,"",N(B26)/B15)'
    assert formulas["project_exec_rate"] == '=IF(N(B14)=0,"",B25/B14)'


def test_excel_formula_quotes_other_sheets(formulas: dict[str, str | None]) -> None:
    assert formulas["projects.total.actual"] == '=IF(COUNT(E4:E23)=0,"",SUM(E4:E23))'
    assert formulas["total_score"] == '=IF(COUNT(F8,F14,F21,F27)=0,"",SUM(F8,F14,F21,F27))'


def test_excel_formula_writes_grade_bands_from_the_spec(formulas: dict[str, str | None]) -> None:
    assert (
        formulas["grade"]
        == '=IF(N(F28)=0,"",IF(F28>=90,"优",IF(F28>=80,"良",IF(F28>=60,"中","差"))))'
    )


def test_excel_formula_writes_weights_as_values(formulas: dict[str, str | None]) -> None:
    assert formulas["weight.exec_rate"] is None


@pytest.mark.parametrize(
    ("written", "saved"),
    [
        ("=SUM('数据表'!B5:B14)", "=SUM(数据表!B5:B14)"),
        ("=SUM(B5:B14)", "=sum($B$5:$B$14)"),
        ('=IF(N(B15)=0,"",B26/B15)', '=IF( N(B15) = 0, "", B26 / B15 )'),
        ("='It''s'!A1", "=It's!A1"),
    ],
    ids=["libreoffice-drops-quotes", "absolute-and-case", "spaces", "escaped-quote"],
)
def test_normalise_formula_absorbs_app_rewrites(written: str, saved: str) -> None:
    assert normalise_formula(written) == normalise_formula(saved)


@pytest.mark.parametrize(
    ("written", "altered"),
    [("=SUM(B5:B14)", "=SUM(B5:B13)"), ('=IF(F28>=90,"优","良")', '=IF(F28>=90,"优秀","良")')],
    ids=["range-shortened", "string-literal"],
)
def test_normalise_formula_keeps_real_changes(written: str, altered: str) -> None:
    assert normalise_formula(written) != normalise_formula(altered)
