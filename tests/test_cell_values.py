"""Cell values: Excel rounding, numbers and dates typed as text, display."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from xlcheck.cell_values import display, excel_round, normalise, values_match


@pytest.mark.parametrize(
    ("value", "decimals", "rounded"),
    [
        (2.675, 2, 2.68),
        (0.125, 2, 0.13),
        (-0.125, 2, -0.13),
        (2.5, 0, 3.0),
        (99.715, 2, 99.72),
        (1130.3, 2, 1130.3),
    ],
    ids=["2.675", "0.125", "negative-half", "2.5", "99.715", "already-rounded"],
)
def test_excel_round_is_half_away_from_zero(value: float, decimals: int, rounded: float) -> None:
    assert excel_round(value, decimals) == rounded


def test_excel_round_differs_from_python_round() -> None:
    assert round(2.5) == 2
    assert excel_round(2.5, 0) == 3.0


@pytest.mark.parametrize(
    ("expected", "actual", "decimals", "match"),
    [
        (0.1 + 0.2, 0.3, 2, True),
        (1130.30 / 1133.49, 0.9972, 4, True),
        (1130.30 / 1133.49, 0.9993, 4, False),
        (818.78, 818.784, 2, True),
        (818.78, 818.786, 2, False),
        ("优", "优", None, True),
    ],
    ids=[
        "float-noise",
        "rate-at-display",
        "rate-differs",
        "within-display",
        "beyond-display",
        "text",
    ],
)
def test_values_match_at_displayed_precision(
    expected: Any, actual: Any, decimals: int | None, match: bool
) -> None:
    assert values_match(expected, actual, decimals) is match


@pytest.mark.parametrize(
    ("raw", "value_type", "unit", "value", "was_text"),
    [
        (1133.49, "amount", "万元", 1133.49, False),
        ("1,133.49", "amount", "万元", 1133.49, True),
        ("１１３３．４９", "amount", "万元", 1133.49, True),
        (" 1133.49 万元 ", "amount", "万元", 1133.49, True),
        ("1 133.49", "amount", "万元", 1133.49, True),
        ("99.72%", "percent", "%", 0.9972, True),
        ("２２人", "integer", "人", 22, True),
        (22.0, "integer", "人", 22, False),
        ("001", "text", None, "001", False),
    ],
    ids=[
        "number",
        "thousands",
        "full-width",
        "unit-and-spaces",
        "space-separator",
        "percent",
        "full-width-int",
        "float-int",
        "leading-zero-text",
    ],
)
def test_normalise_reads_numbers_typed_as_text(
    raw: Any, value_type: str, unit: str | None, value: Any, was_text: bool
) -> None:
    result = normalise(raw, value_type, unit)
    assert result.problem is None
    assert (
        result.value == pytest.approx(value) if isinstance(value, float) else result.value == value
    )
    assert result.was_text is was_text


@pytest.mark.parametrize(
    ("raw", "value_type", "problem"),
    [
        ("abc", "amount", "not-a-number"),
        ("12%", "amount", "not-a-number"),
        (20.5, "integer", "not-an-integer"),
        ("明天", "date", "not-a-date"),
        (dt.datetime(2024, 1, 1), "amount", "not-a-number"),
    ],
    ids=["letters", "percent-in-amount", "fraction-in-integer", "word-date", "date-in-amount"],
)
def test_normalise_reports_unreadable_values(raw: Any, value_type: str, problem: str) -> None:
    assert normalise(raw, value_type).problem == problem


@pytest.mark.parametrize(
    ("raw", "date", "was_text"),
    [
        (dt.datetime(2024, 7, 28), dt.date(2024, 7, 28), False),
        ("2024年7月28日", dt.date(2024, 7, 28), True),
        ("2024/7/28", dt.date(2024, 7, 28), True),
        (45501.0, dt.date(2024, 7, 28), False),
    ],
    ids=["datetime", "chinese-text", "slashes", "excel-serial"],
)
def test_normalise_reads_dates(raw: Any, date: dt.date, was_text: bool) -> None:
    result = normalise(raw, "date")
    assert (result.value, result.was_text) == (date, was_text)


@pytest.mark.parametrize(
    "raw",
    [None, "", "  ", "\u3000", float("nan")],
    ids=["none", "empty", "spaces", "ideographic-space", "nan"],
)
def test_normalise_treats_blanks_as_missing(raw: Any) -> None:
    assert normalise(raw, "amount").value is None


def test_display_shows_values_as_printed() -> None:
    assert display(1130.30 / 1133.49, "percent", 4) == "99.72%"
    assert display(1133.49, "amount", 2, "万元") == "1133.49 万元"
    assert display(None, "amount") == "（空）"
    assert display(dt.date(2024, 7, 28), "date") == "2024-07-28"
