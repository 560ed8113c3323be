"""Cell values as Excel means them: typed-as-text numbers, dates, Excel rounding and tolerance."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from xlcheck.control_characters import escape_controls
from xlcheck.records import record

# Excel's day 0 is 1899-12-30 once its fictitious 1900-02-29 is accounted for.
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_THOUSANDS = re.compile(r"(?<=\d)[,，'](?=\d{3}(?:\D|$))")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def excel_round(value: float, decimals: int) -> float:
    """ROUND as Excel does it: half away from zero (Python's round() rounds half to even)."""
    if decimals >= 0 and type(value) in (int, float):
        # Most values already have no more decimals than asked: nothing to round (and the
        # Decimal arithmetic below is the slow part of a check run over hundreds of cells).
        if math.isfinite(value) and value == int(value):
            return float(value)
        text = repr(value)
        point = text.find(".")
        if "e" not in text and point >= 0 and len(text) - point - 1 <= decimals:
            return float(value)
    try:
        quantum = Decimal(1).scaleb(-decimals)
        rounded = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return value
    return float(rounded)


def values_match(expected: Any, actual: Any, decimals: int | None) -> bool:
    """Whether two values agree at the displayed precision (numbers) or exactly (other values).

    Numbers agree when they round to the same displayed figure; a float's last-bit noise
    (0.1 + 0.2) is absorbed first by rounding to 9 decimals.
    """
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if expected == actual:
            return True  # most shown values are the recomputed ones: nothing to round
        if decimals is None:
            return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
        return excel_round(excel_round(expected, 9), decimals) == excel_round(
            excel_round(actual, 9), decimals
        )
    return bool(expected == actual)


@record
class Normalised:
    """A raw cell value read as its field's type.

    ``value`` is None when the cell is blank or unreadable as that type; ``problem`` then says
    why (``not-a-number``, ``not-a-date``...). ``was_text`` marks a number or date that was typed
    as text and had to be converted, which the workbook's own formulas will not do.
    """

    value: Any
    was_text: bool = False
    problem: str | None = None


def is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and not _SPACES.sub("", raw)


def _number_from_text(text: str, value_type: str, unit: str | None) -> float | None:
    cleaned = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    cleaned = _THOUSANDS.sub("", cleaned)
    scale = 1.0
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
        scale = 0.01 if value_type == "percent" else math.nan
    for suffix in ("万元", "人", "个", "名", "分"):
        if cleaned.endswith(suffix) and (
            unit == suffix or (suffix == "分" and value_type == "score")
        ):
            cleaned = cleaned[: -len(suffix)]
    try:
        number = float(cleaned)
    except ValueError:
        return None
    if math.isnan(scale) or not math.isfinite(number):
        return None
    return number * scale


def excel_serial_to_date(serial: float) -> dt.date | None:
    if not 1 <= serial < 2958466:  # 1900-01-01 .. 9999-12-31
        return None
    return (_EXCEL_EPOCH + dt.timedelta(days=float(serial))).date()


#: Types whose numeric cell is taken as its float, unchanged.
_PLAIN_NUMBER_TYPES = frozenset({"number", "amount", "percent", "score"})
_BLANK = Normalised(None)


def normalise(raw: Any, value_type: str, unit: str | None = None) -> Normalised:
    """Read a raw cell value (from pandas/calamine) as the field's type."""
    # The two cells a workbook is made of, a blank and a number in a numeric field, first: a
    # batch normalises hundreds of cells per workbook.
    if raw is None:
        return _BLANK
    kind = type(raw)
    if (kind is float or kind is int) and value_type in _PLAIN_NUMBER_TYPES and raw == raw:
        return Normalised(float(raw))
    if is_blank(raw):
        return _BLANK
    if isinstance(raw, bool):
        return (
            Normalised(None, problem="not-a-number" if value_type != "text" else None)
            if value_type != "text"
            else Normalised(str(raw).upper())
        )
    if value_type in ("text", "choice"):
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, dt.datetime | dt.date):
            raw = raw.isoformat()[:10]
        text = str(raw).strip()
        return Normalised(
            text, problem="invalid-choice" if value_type == "choice" and not text else None
        )
    if value_type == "date":
        return _normalise_date(raw)
    if isinstance(raw, dt.datetime | dt.date | dt.time | dt.timedelta):
        return Normalised(None, problem="not-a-number")
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        parsed = _number_from_text(str(raw), value_type, unit)
        if parsed is None:
            return Normalised(None, problem="not-a-number")
        return Normalised(
            _typed(parsed, value_type), was_text=True, problem=_integrality(parsed, value_type)
        )
    return Normalised(_typed(number, value_type), problem=_integrality(number, value_type))


def _typed(number: float, value_type: str) -> float | int:
    return int(number) if value_type == "integer" and number.is_integer() else number


def _integrality(number: float, value_type: str) -> str | None:
    return "not-an-integer" if value_type == "integer" and not float(number).is_integer() else None


def _normalise_date(raw: Any) -> Normalised:
    if isinstance(raw, dt.datetime):
        return Normalised(raw.date())
    if isinstance(raw, dt.date):
        return Normalised(raw)
    if isinstance(raw, int | float):
        # WPS's CJK date formats (numFmt 31/57/58) reach readers as plain serial numbers.
        date = excel_serial_to_date(float(raw))
        return Normalised(date) if date else Normalised(None, problem="not-a-date")
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    match = _DATE_TEXT.match(text)
    if match:
        try:
            return Normalised(dt.date(*(int(g) for g in match.groups())), was_text=True)
        except ValueError:
            pass
    return Normalised(None, problem="not-a-date")


def display(
    value: Any,
    value_type: str,
    decimals: int | None = None,
    unit: str | None = None,
    *,
    grouped: bool = False,
) -> str:
    """A value as a reader of the printed table would write it: 99.72%, 1133.49 万元, 2024-07-28.

    ``grouped`` writes amounts with thousands separators, as the template's cells show them
    (1,133.49 万元).
    """
    if value is None:
        return "（空）"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value_type == "percent":
            places = max((decimals if decimals is not None else 4) - 2, 0)
            return f"{excel_round(value * 100, places):.{places}f}%"
        if abs(value) >= 1e15:  # beyond Excel's 15 digits: its scientific form, not 300 digits
            text = f"{value:.15g}"
        elif decimals is not None:
            separator = "," if grouped and value_type == "amount" else ""
            text = f"{excel_round(value, decimals):{separator}.{decimals}f}"
        else:
            text = f"{value:g}"
        return f"{text} {unit}" if unit and unit != "%" else text
    return str(value)


def bounds_text(low: float | None, high: float | None, value_type: str, lang: str = "zh") -> str:
    """A field's bounds for a message: 在 0 到 100 之间 / 不低于 0 / 不高于 100% (between 0 and 100 …)."""

    def shown(number: float) -> str:
        return f"{number * 100:.15g}%" if value_type == "percent" else f"{number:.15g}"

    if lang == "en":
        if low is not None and high is not None:
            return f"between {shown(low)} and {shown(high)}"
        return f"at most {shown(high)}" if high is not None else f"at least {shown(low or 0)}"
    if low is not None and high is not None:
        return f"在 {shown(low)} 到 {shown(high)} 之间"
    return f"不高于 {shown(high)}" if high is not None else f"不低于 {shown(low or 0)}"


def json_value(value: Any, value_type: str, decimals: int | None) -> Any:
    """A value for JSON output: numbers rounded to their displayed precision, dates as ISO text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and decimals is not None:
        rounded = excel_round(value, decimals)
        return int(rounded) if value_type == "integer" else rounded
    return value


def display_width(text: str) -> float:
    """Width of text in Excel column units; a CJK character in 宋体 11pt takes about 1.7."""
    return sum(1.7 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0 for ch in text)


def wrapped_lines(text: str, column_width: float) -> int:
    """Lines ``text`` wraps to in a column: Excel does not grow rows for text a program writes."""
    return max(1, math.ceil(display_width(text) / max(column_width, 1.0)))


# Text that a spreadsheet would run as a formula (or DDE) when it starts with one of these.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limit on the characters in one cell; longer text makes the file unreadable to Excel.
MAX_CELL_TEXT = 32_767


def safe_text(value: Any) -> Any:
    """Cell text that cannot run as a formula and fits a cell.

    Anything xlcheck writes into a spreadsheet or CSV (messages, text copied from a unit's
    workbook) goes through this. Text starting with =, +, -, @ (or a tab or carriage return, which
    some apps strip first) gets a ' in front, so a spreadsheet shows it as text; control
    characters a cell cannot hold (ESC from a cell's ``_x001B_``, NUL) are written as their
    escapes; text longer than a cell holds is cut.
    """
    if not isinstance(value, str):
        return value
    value = escape_controls(value, keep="\t\n\r")
    if value.startswith(_FORMULA_TRIGGERS):
        value = "'" + value
    if len(value) > MAX_CELL_TEXT:
        value = value[: MAX_CELL_TEXT - 1] + "…"
    return value
