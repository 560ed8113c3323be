"""Indicator targets and actual values as units type them: "≥50个", "100%", "≤90万元", "98.5%",
"=8个", "不低于95%", "3个月以内", or a qualitative text; read into a direction, a number and a unit.

Pure functions, no I/O: the ``indicators`` rule family reads 年度指标值 and 实际完成值 with them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from xlcheck.records import record

#: Words and signs for each direction, longest first where one contains another.
_AT_MOST = ("小于或等于", "小于等于", "不超过", "不高于", "不多于", "不大于", "<=", "≤", "≦", "⩽")
_AT_LEAST = ("大于或等于", "大于等于", "不低于", "不少于", "不小于", ">=", "≥", "≧", "⩾", "至少")
_EQUAL = ("等于", "=")
_STRICT = {
    ">": "at_least",
    "大于": "at_least",
    "高于": "at_least",
    "超过": "at_least",
    "达到": "at_least",
    "<": "at_most",
    "小于": "at_most",
    "低于": "at_most",
    "少于": "at_most",
}
_SUFFIXES = {
    "及以上": "at_least",
    "以上": "at_least",
    "及以下": "at_most",
    "以下": "at_most",
    "以内": "at_most",
    "内": "at_most",
}
#: Unit spellings read as one unit.
_UNIT_NAMES = {"百分比": "%", "％": "%", "百分点": "%", "percent": "%"}
#: Money units and their size in 元: amounts in different money units are compared in 元.
MONEY = {"元": 1.0, "万元": 1e4, "亿元": 1e8}
_NUMBER = re.compile(r"^([+-]?\d+(?:\.\d+)?)(.*)$")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")
#: Words naming the direction in an 指标性质 column.
DIRECTION_WORDS = {
    "≥": "at_least",
    ">=": "at_least",
    "正向": "at_least",
    "正向指标": "at_least",
    "≤": "at_most",
    "<=": "at_most",
    "反向": "at_most",
    "反向指标": "at_most",
    "逆向指标": "at_most",
    "=": "equal",
    "＝": "equal",
    "定性": "qualitative",
    "定性指标": "qualitative",
}


@record
class IndicatorValue:
    """What a target or actual cell says.

    ``number`` is None for a qualitative text (no digits); ``unreadable`` is set when the text has
    digits but is not a single number with an optional direction and unit (a range, a date).
    """

    text: str
    number: float | None = None
    #: ``at_least``, ``at_most``, ``equal``, or None when no sign or word says.
    direction: str | None = None
    unit: str = ""
    unreadable: bool = False

    @property
    def is_quantitative(self) -> bool:
        return self.number is not None


def _clean(text: str) -> str:
    cleaned = unicodedata.normalize("NFKC", text)
    cleaned = "".join(cleaned.split())
    return _THOUSANDS.sub("", cleaned)


def _unit(text: str) -> str:
    return _UNIT_NAMES.get(text, text)


def parse_indicator_value(raw: Any, *, percent_format: bool = False) -> IndicatorValue | None:
    """Read a target or actual cell; None when it is blank.

    Args:
        raw: the cell's value (text, or a number the unit typed into a number cell).
        percent_format: the cell shows its number as a percentage (0.985 shown as 98.5%).
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if percent_format:
            return IndicatorValue(f"{raw * 100:g}%", float(raw) * 100, unit="%")
        return IndicatorValue(f"{raw:g}", float(raw))
    text = str(raw).strip()
    if not text:
        return None
    cleaned = _clean(text)
    direction, rest = _leading_direction(cleaned)
    match = _NUMBER.match(rest)
    if match is None:
        has_digits = any(ch.isdigit() for ch in cleaned)
        return IndicatorValue(text, unreadable=has_digits)
    number, tail = float(match.group(1)), match.group(2)
    for suffix, meaning in _SUFFIXES.items():
        if tail.endswith(suffix):
            tail = tail[: -len(suffix)]
            direction = direction or meaning
            break
    if any(ch.isdigit() for ch in tail):
        return IndicatorValue(text, unreadable=True)  # a range (90%-100%) or a date
    return IndicatorValue(text, number, direction, _unit(tail))


def _leading_direction(text: str) -> tuple[str | None, str]:
    for words, meaning in ((_AT_MOST, "at_most"), (_AT_LEAST, "at_least"), (_EQUAL, "equal")):
        for word in words:
            if text.startswith(word):
                return meaning, text[len(word) :]
    for word, meaning in sorted(_STRICT.items(), key=lambda item: -len(item[0])):
        if text.startswith(word):
            return meaning, text[len(word) :]
    return None, text


def direction_named(text: str) -> str | None:
    """The direction an 指标性质 cell names (≥, ≤, =, 定性, 正向, 反向 …), None if unknown."""
    return DIRECTION_WORDS.get(_clean(text)) or DIRECTION_WORDS.get(text.strip())


def comparable(
    target: IndicatorValue, actual: IndicatorValue, unit: str = ""
) -> tuple[float, float] | None:
    """Target and actual as two numbers in one unit, or None when their units cannot be compared.

    A value without a unit takes the other's (or the 度量单位 column's); money units convert.
    """
    assert target.number is not None and actual.number is not None
    target_unit = target.unit or unit or actual.unit
    actual_unit = actual.unit or unit or target_unit
    if target_unit == actual_unit:
        return target.number, actual.number
    if target_unit in MONEY and actual_unit in MONEY:
        return target.number * MONEY[target_unit], actual.number * MONEY[actual_unit]
    return None


def share_earned(direction: str, target: float, actual: float, method: str) -> float:
    """The share of 分值 a quantitative indicator earns: 1 when its target is met; a shortfall
    in proportion (actual ÷ target for ≥, target ÷ actual for ≤) or 0 (``all_or_nothing``)."""
    tolerance = 1e-9 * max(abs(target), abs(actual), 1.0)
    if direction == "at_least":
        met = actual >= target - tolerance
        proportion = actual / target if target > 0 else 1.0
    elif direction == "at_most":
        met = actual <= target + tolerance
        proportion = target / actual if actual > 0 else 1.0
    else:
        met = abs(actual - target) <= tolerance
        low, high = sorted((abs(target), abs(actual)))
        proportion = low / high if high > 0 else 1.0
    if met:
        return 1.0
    if method == "all_or_nothing":
        return 0.0
    return min(max(proportion, 0.0), 1.0)
