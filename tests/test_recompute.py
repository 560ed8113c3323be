"""Recomputing derived values and the scores rules give."""

from __future__ import annotations

import pytest

from tests.conftest import seed_values
from xlcheck.layout import lay_out
from xlcheck.recompute import canonical_grade, expected_score, grade_for, recompute_derived
from xlcheck.spec import Grade, ScoreRule
from xlcheck.spec_loading import load_spec

GRADES = (
    Grade("优", 90, ("优秀",)),
    Grade("良", 80, ("良好",)),
    Grade("中", 60, ("中等",)),
    Grade("差", 0, ("较差",)),
)


def test_recompute_derived_gives_the_seed_reports_figures() -> None:
    spec = load_spec("zhanjiang-overall")
    values = recompute_derived(lay_out(spec), seed_values())
    assert values["budget_total"] == pytest.approx(1133.49)
    assert values["spend_basic"] == pytest.approx(818.78)
    assert values["spend_total"] == pytest.approx(1130.30)
    assert round(values["share_basic"] * 100, 2) == 72.44
    assert round(values["share_project"] * 100, 2) == 27.56
    assert round(values["exec_rate"] * 100, 2) == 99.72
    assert round(values["spend_income_ratio"] * 100, 2) == 99.93
    assert values["total_score"] == 101
    assert values["grade"] == "优"


def test_recompute_derived_leaves_ratio_blank_for_zero_denominator() -> None:
    values = recompute_derived(lay_out(load_spec("zhanjiang-overall")), {"public3_actual_car": 1.0})
    assert values["public3_rate"] is None
    assert values["public3_actual"] == 1.0


def test_recompute_derived_leaves_sums_blank_until_a_part_is_filled() -> None:
    layout = lay_out(load_spec("zhanjiang-overall"))
    blank = recompute_derived(layout, {})
    assert blank["budget_total"] is None
    assert blank["total_score"] is None
    assert blank["grade"] is None
    # Sums of fixed weights always show a number.
    assert blank["total_weight"] == 100
    zero = recompute_derived(layout, {"budget_basic": 0})
    assert zero["budget_total"] == 0


def test_recompute_derived_leaves_a_score_blank_while_its_rate_is() -> None:
    layout = lay_out(load_spec("national-project"))
    blank = recompute_derived(layout, {})
    assert blank["project[1].funds.total.score"] is None
    assert blank["project[1].total_score"] is None
    assert blank["project[1].total_weight"] == 10
    filled = recompute_derived(
        layout,
        {"project[1].funds.appropriation.full": 10, "project[1].funds.appropriation.executed": 5},
    )
    assert filled["project[1].funds.total.score"] == pytest.approx(5)


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (100, "优"),
        (90, "优"),
        (89.99, "良"),
        (80, "良"),
        (79.99, "中"),
        (60, "中"),
        (59.99, "差"),
        (0, None),
    ],
    ids=["100", "90", "89.99", "80", "79.99", "60", "59.99", "nothing-scored"],
)
def test_grade_for_uses_inclusive_lower_bounds(total: float, grade: str | None) -> None:
    assert grade_for(total, GRADES) == grade


@pytest.mark.parametrize(
    ("typed", "grade"),
    [("优秀", "优"), ("良好", "良"), (" 中 ", "中"), ("较差", "差"), ("A", None)],
)
def test_canonical_grade_accepts_long_forms(typed: str, grade: str | None) -> None:
    assert canonical_grade(typed, GRADES) == grade


@pytest.mark.parametrize(
    ("rule", "metric", "score"),
    [
        (ScoreRule("m", "proportional", full_at=0.95), 0.9972, 10),
        (ScoreRule("m", "proportional", full_at=0.95), 0.76, 8),
        (ScoreRule("m", "deduct", limit=1.0, step=0.01, points=0.5), 0.909, 10),
        (ScoreRule("m", "deduct", limit=1.0, step=0.01, points=0.5), 1.03, 8.5),
        (ScoreRule("m", "deduct", limit=1.0, step=0.01, points=0.5), 5.0, 0),
        (
            ScoreRule(
                "m",
                "bands",
                bands=(("at_least", 0.9, 1.0), ("at_least", 0.8, 0.5), ("any", 0, 0.0)),
            ),
            0.85,
            5,
        ),
        (ScoreRule("m", "bands", bands=(("at_most", 0.0, 1.0),)), 0.1, 0),
    ],
    ids=[
        "proportional-full",
        "proportional-part",
        "deduct-within",
        "deduct-3-points-over",
        "deduct-floor",
        "bands",
        "no-band",
    ],
)
def test_expected_score_follows_the_rule(rule: ScoreRule, metric: float, score: float) -> None:
    assert expected_score(rule, 10, metric) == pytest.approx(score)


def test_expected_score_is_unknown_without_the_metric() -> None:
    assert expected_score(ScoreRule("m", "proportional"), 10, None) is None
