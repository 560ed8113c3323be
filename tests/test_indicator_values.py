"""Indicator targets and actual values as units type them, and the share of 分值 they earn."""

from __future__ import annotations

import pytest

from xlcheck.indicator_values import (
    IndicatorValue,
    comparable,
    direction_named,
    parse_indicator_value,
    share_earned,
)

READ = [
    ("≥50个", 50.0, "at_least", "个"),
    ("100%", 100.0, None, "%"),
    ("≤90万元", 90.0, "at_most", "万元"),
    ("98.5%", 98.5, None, "%"),
    ("=8个", 8.0, "equal", "个"),
    ("≥100百分比", 100.0, "at_least", "%"),
    ("＞＝９５％", 95.0, "at_least", "%"),
    (">=50", 50.0, "at_least", ""),
    ("不低于95%", 95.0, "at_least", "%"),
    ("不超过 1,200 元", 1200.0, "at_most", "元"),
    ("3个月以内", 3.0, "at_most", "个月"),
    ("95%以上", 95.0, "at_least", "%"),
    ("< 5 天", 5.0, "at_most", "天"),
    ("132.9", 132.9, None, ""),
    ("-5%", -5.0, None, "%"),
]


@pytest.mark.parametrize(
    ("text", "number", "direction", "unit"), READ, ids=[case[0] for case in READ]
)
def test_parse_indicator_value_reads_what_units_type(
    text: str, number: float, direction: str | None, unit: str
) -> None:
    value = parse_indicator_value(text)
    assert value is not None
    assert (value.number, value.direction, value.unit, value.unreadable) == (
        number,
        direction,
        unit,
        False,
    )


@pytest.mark.parametrize("text", ["效果明显", "达成预期指标", "严格执行相关制度规定"])
def test_parse_indicator_value_text_without_digits_is_qualitative(text: str) -> None:
    value = parse_indicator_value(text)
    assert value == IndicatorValue(text)
    assert not value.is_quantitative


@pytest.mark.parametrize("text", ["90%-100%", "2023年12月31日前", "50个/3次"])
def test_parse_indicator_value_says_when_digits_make_no_single_number(text: str) -> None:
    value = parse_indicator_value(text)
    assert value is not None and value.unreadable and value.number is None


def test_parse_indicator_value_blank_is_none() -> None:
    assert parse_indicator_value(None) is None
    assert parse_indicator_value("  ") is None


def test_parse_indicator_value_number_cell_shown_as_percent_is_read_in_percent() -> None:
    value = parse_indicator_value(0.985, percent_format=True)
    assert value is not None
    assert value.number == pytest.approx(98.5)
    assert value.unit == "%"


def test_parse_indicator_value_plain_number_cell() -> None:
    assert parse_indicator_value(50) == IndicatorValue("50", 50.0)


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("≥", "at_least"),
        ("≤", "at_most"),
        ("=", "equal"),
        ("定性", "qualitative"),
        ("反向", "at_most"),
    ],
)
def test_direction_named(text: str, meaning: str) -> None:
    assert direction_named(text) == meaning


def test_direction_named_unknown_word_is_none() -> None:
    assert direction_named("越大越好") is None


def test_comparable_takes_the_other_unit_and_converts_money() -> None:
    target, actual = parse_indicator_value("≤90万元"), parse_indicator_value("900000元")
    assert target and actual
    assert comparable(target, actual) == (900000.0, 900000.0)
    bare = parse_indicator_value("100")
    percent = parse_indicator_value("≥100百分比")
    assert bare and percent
    assert comparable(percent, bare) == (100.0, 100.0)


def test_comparable_refuses_different_units() -> None:
    target, actual = parse_indicator_value("≥3个"), parse_indicator_value("3次")
    assert target and actual
    assert comparable(target, actual) is None


SHARES = [
    ("at_least", 50, 50, "proportional", 1.0),
    ("at_least", 50, 60, "proportional", 1.0),
    ("at_least", 50, 45, "proportional", 0.9),
    ("at_most", 90, 90, "proportional", 1.0),
    ("at_most", 90, 100, "proportional", 0.9),
    ("at_most", 90, 100, "all_or_nothing", 0.0),
    ("equal", 8, 8, "proportional", 1.0),
    ("equal", 8, 6, "proportional", 0.75),
    ("equal", 8, 10, "proportional", 0.8),
    ("at_least", 0, 0, "proportional", 1.0),
]


@pytest.mark.parametrize(
    ("direction", "target", "actual", "method", "share"),
    SHARES,
    ids=[f"{d}-{t}-{a}-{m}" for d, t, a, m, _ in SHARES],
)
def test_share_earned_full_when_met_in_proportion_when_short(
    direction: str, target: float, actual: float, method: str, share: float
) -> None:
    assert share_earned(direction, target, actual, method) == pytest.approx(share)
