"""Written figures as intervals: rounding (舍位) told apart from error."""

from __future__ import annotations

import pytest

from tests.conftest import FillWorkbook, correct_seed_values
from xlcheck import VerifyOptions, verify_workbook
from xlcheck.findings import Severity, VerificationResult
from xlcheck.rounding import (
    Agreement,
    Interval,
    agreement,
    decimals_written,
    exact,
    ratio_of,
    stated,
    sum_of,
    total_agreement,
)


def test_stated_figure_stands_for_half_a_last_digit_either_side() -> None:
    interval = stated(333.33, 2)
    assert interval.low == pytest.approx(333.325)
    assert interval.high == pytest.approx(333.335)


def test_stated_percentage_scales_to_a_fraction() -> None:
    interval = stated(99.93, 2, 0.01)
    assert interval.low == pytest.approx(0.99925)
    assert interval.high == pytest.approx(0.99935)


@pytest.mark.parametrize(
    ("total", "decimals", "parts", "expected"),
    [
        (
            1133.49,
            2,
            [
                (v, 2)
                for v in (489.82, 57.85, 64.33, 32.16, 0.30, 17.63, 2.27, 64.96, 47.48, 356.69)
            ],
            Agreement.EXACT,
        ),
        (1000.00, 2, [(333.33, 2)] * 3, Agreement.ROUNDING),
        (20.08, 2, [(10.00, 2), (10.00, 2)], Agreement.MISMATCH),
        (818.78, 2, [(708.63, 2), (65.45, 2), (44.78, 2)], Agreement.MISMATCH),
        (1130, 0, [(818.78, 2), (311.52, 2)], Agreement.EXACT),
    ],
    ids=[
        "seed-budget-lines",
        "thirds-of-a-thousand",
        "two-parts-0.08-off",
        "breakdown-0.08-off",
        "total-in-whole-units",
    ],
)
def test_total_agreement(
    total: float, decimals: int, parts: list[tuple[float, int]], expected: Agreement
) -> None:
    assert total_agreement(total, decimals, parts) is expected


def test_ratio_of_rounded_figures_is_an_interval() -> None:
    rate = ratio_of(stated(1130.30, 2), stated(1133.49, 2))
    assert rate is not None
    assert rate.contains(1130.30 / 1133.49)
    assert agreement(99.72, 2, rate.scaled(100)) is Agreement.EXACT
    assert agreement(99.93, 2, rate.scaled(100)) is Agreement.MISMATCH


def test_ratio_of_a_base_that_may_be_zero_is_unknown() -> None:
    assert ratio_of(exact(5.0), stated(0, 0)) is None


def test_interval_sum_and_difference() -> None:
    assert sum_of([Interval(1, 2), Interval(3, 4)]) == Interval(4, 6)
    assert Interval(5, 6) - Interval(1, 2) == Interval(3, 5)


@pytest.mark.parametrize(("text", "decimals"), [("1,133.49", 2), ("101", 0), ("0.3", 1)])
def test_decimals_written(text: str, decimals: int) -> None:
    assert decimals_written(text) == decimals


# A typed total in a workbook: the same interval reasoning as in a report.


def _codes_at(result: VerificationResult, key: str) -> set[str]:
    return {f.code for f in result.findings if f.field == key}


def test_a_total_typed_from_its_parts_as_shown_is_a_rounding_warning(
    make_workbook: FillWorkbook,
) -> None:
    """The cells hold 708.634, 65.454 and 44.704 (shown 708.63, 65.45, 44.70); the unit typed
    818.78, their shown sum, where the cells add up to 818.792 (shown 818.79)."""
    values = correct_seed_values()
    values.update(spend_wages=708.634, spend_household=65.454, spend_goods=44.704)
    values["spend_basic"] = 818.78  # over the formula

    result = verify_workbook(make_workbook(values), options=VerifyOptions(annotate=False))

    assert _codes_at(result, "spend_basic") == {"formula-replaced", "total-of-shown-parts"}
    finding = next(f for f in result.findings if f.code == "total-of-shown-parts")
    assert finding.severity is Severity.WARNING and finding.actual == 818.78


@pytest.mark.parametrize("typed", [818.79, 818.77])
def test_a_total_off_by_a_cent_over_parts_that_hold_what_they_show_is_an_error(
    make_workbook: FillWorkbook, typed: float
) -> None:
    values = correct_seed_values()  # 708.63 + 65.45 + 44.70 = 818.78 exactly
    values["spend_basic"] = typed

    result = verify_workbook(make_workbook(values), options=VerifyOptions(annotate=False))

    assert "derived-mismatch" in _codes_at(result, "spend_basic")
    assert "total-of-shown-parts" not in _codes_at(result, "spend_basic")
