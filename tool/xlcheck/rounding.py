"""Rounding told apart from error (舍位): a written figure stands for an interval, not a point.

A figure written with two decimals, 333.33, stands for any value in [333.325, 333.335): whoever
wrote it rounded something. A total written beside its rounded parts is therefore consistent when
its own interval meets the interval of the parts' sum: 1,000.00 over 333.33 + 333.33 + 333.33 is
rounding (舍位差 0.01), while a total 0.08 away from two parts is an error. The same reasoning
holds for a ratio of rounded figures (a share, an execution rate) and wherever a typed total meets
typed parts in a workbook. Pure functions on numbers; nothing here knows about reports or cells.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable

from xlcheck.cell_values import excel_round
from xlcheck.records import record

#: Float noise absorbed when comparing interval ends (sums of a few hundred 2-decimal figures).
_NOISE = 1e-9


@record
class Interval:
    """The closed range of values a rounded figure (or a computation on such figures) may stand for."""

    low: float
    high: float

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.low + other.low, self.high + other.high)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.low - other.high, self.high - other.low)

    def scaled(self, factor: float) -> Interval:
        ends = (self.low * factor, self.high * factor)
        return Interval(min(ends), max(ends))

    def contains(self, value: float) -> bool:
        slack = _NOISE * max(1.0, abs(value))
        return self.low - slack <= value <= self.high + slack

    def meets(self, other: Interval) -> bool:
        """Whether the two intervals share at least one value."""
        slack = _NOISE * max(1.0, abs(self.low), abs(other.low))
        return self.low - slack <= other.high and other.low - slack <= self.high

    @property
    def middle(self) -> float:
        return (self.low + self.high) / 2


def exact(value: float) -> Interval:
    """A value known exactly (a recomputed workbook value, a count)."""
    return Interval(value, value)


def stated(value: float, decimals: int, scale: float = 1.0) -> Interval:
    """The interval a figure written with ``decimals`` decimals stands for, times ``scale``.

    ``scale`` converts the written unit: 99.93 written as a percentage with scale 0.01 stands for
    [0.99925, 0.99935]; 11,334,900 元 with scale 0.0001 stands for an interval in 万元.
    """
    half = 0.5 * 10.0 ** (-decimals)
    return Interval(value - half, value + half).scaled(scale)


def sum_of(intervals: Iterable[Interval]) -> Interval:
    total = Interval(0.0, 0.0)
    for interval in intervals:
        total = total + interval
    return total


def ratio_of(numerator: Interval, denominator: Interval) -> Interval | None:
    """The interval of numerator ÷ denominator; None when the denominator may be zero."""
    if denominator.low <= 0 <= denominator.high:
        return None
    quotients = [
        numerator.low / denominator.low,
        numerator.low / denominator.high,
        numerator.high / denominator.low,
        numerator.high / denominator.high,
    ]
    return Interval(min(quotients), max(quotients))


def decimals_written(text: str) -> int:
    """How many decimals a number is written with: ``1,133.49`` → 2, ``101`` → 0."""
    digits = text.strip()
    return len(digits.split(".", 1)[1]) if "." in digits else 0


class Agreement(enum.Enum):
    """How a written figure stands against the value computed from other written figures."""

    #: The computed value, rounded as the figure is written, is the figure.
    EXACT = "exact"
    #: Not the same after rounding, but inside what the rounded inputs allow (舍位差).
    ROUNDING = "rounding"
    #: Outside what any values behind the rounded figures could give: an error.
    MISMATCH = "mismatch"


def agreement(
    figure: float, decimals: int, computed: Interval, *, point: float | None = None
) -> Agreement:
    """Whether ``figure`` (written with ``decimals`` decimals) agrees with ``computed``.

    Args:
        figure: the written figure in the unit it is written in.
        decimals: its written decimals.
        computed: the interval the other written figures allow, in the same unit.
        point: the value computed from the other figures as written (their sum, their ratio);
            defaults to the middle of ``computed``.
    """
    value = computed.middle if point is None else point
    if math.isfinite(value) and excel_round(excel_round(value, 9), decimals) == excel_round(
        figure, decimals
    ):
        return Agreement.EXACT
    if stated(figure, decimals).meets(computed):
        return Agreement.ROUNDING
    return Agreement.MISMATCH


def total_agreement(
    total: float, total_decimals: int, parts: Iterable[tuple[float, int]]
) -> Agreement:
    """A written total against its written parts, each ``(value, decimals)``, in one unit."""
    listed = list(parts)
    point = sum(value for value, _ in listed)
    computed = sum_of(stated(value, decimals) for value, decimals in listed)
    return agreement(total, total_decimals, computed, point=point)
