"""The data validation of each input cell, as plain data: its type and bounds, its dropdown list,
its Chinese prompt and error text (the template writer hands it to xlsxwriter as is).

Cells of one column with the same rule form one range, so that a row a unit inserts inside a
table or an indicator group takes the column's rule with it (Excel, WPS and LibreOffice grow a
validation range for rows inserted within it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from xlcheck.layout import PlacedField
from xlcheck.records import record
from xlcheck.spec import FieldSpec

TYPE_NAMES = {
    "integer": "整数",
    "amount": "金额（万元，两位小数）",
    "number": "数字",
    "score": "分数",
    "percent": "百分比（如 95%）",
    "date": "日期（如 2024-07-28）",
    "text": "文本",
    "choice": "从下拉列表中选择",
}
#: Excel keeps at most this many characters of a list typed into the validation itself.
_LIST_LIMIT = 255


@record
class ValidationRange:
    """One validation rule over cells ``first_row``…``last_row`` of one column (1-based)."""

    first_row: int
    last_row: int
    column_number: int
    options: dict[str, Any]


def _list_source(choices: tuple[str, ...]) -> list[str] | None:
    """The choices as a dropdown list, when they fit in one (Excel's 255 characters)."""
    if not choices or len(",".join(choices)) > _LIST_LIMIT or any("," in c for c in choices):
        return None
    return list(choices)


def validation_options(spec: FieldSpec) -> dict[str, Any]:
    """The data validation of one input cell, in xlsxwriter's vocabulary."""
    message = spec.help or TYPE_NAMES[spec.value_type]
    options: dict[str, Any] = {
        "input_title": spec.label[:32],
        "input_message": message[:255],
        "error_title": "输入有误",
        "error_type": "stop",
    }
    low = spec.minimum if spec.minimum is not None else -1e12
    high = spec.maximum if spec.maximum is not None else 1e12
    source = _list_source(spec.choices)
    if spec.value_type == "integer":
        options.update(validate="integer", criteria="between", minimum=int(low), maximum=int(high))
        options["error_message"] = (
            f"请填写 {int(low)} 到 {int(high)} 之间的整数。"
            if spec.maximum is not None
            else "请填写整数。"
        )
    elif spec.value_type in ("amount", "number", "score", "percent"):
        options.update(validate="decimal", criteria="between", minimum=low, maximum=high)
        if spec.value_type == "score":
            options["error_message"] = f"自评得分应在 0 到 {high:g} 分之间（不能超过分值）。"
        elif spec.minimum is not None and spec.maximum is None:
            options["error_message"] = (
                f"请填写不小于 {low:g} 的数字（{spec.unit or ''}），不要输入文字或单位。"
            )
        else:
            options["error_message"] = "请填写数字，不要输入文字或单位。"
    elif spec.value_type == "date":
        options.update(
            validate="date",
            criteria="between",
            minimum=dt.date(1990, 1, 1),
            maximum=dt.date(2100, 12, 31),
        )
        options["error_message"] = "请填写日期，如 2024-07-28。"
    elif spec.value_type == "choice" and source is not None:
        options.update(validate="list", source=source)
        options["input_message"] = (spec.help or "请从下拉列表中选择：" + "、".join(source))[:255]
        options["error_message"] = "请从下拉列表中选择：" + "、".join(source)
    elif source is not None:
        # Text with usual values (定性指标的完成等级): a dropdown offers them, anything may be typed.
        options.update(validate="list", source=source, show_error=False)
        options.pop("error_title")
        options.pop("error_type")
    else:
        options.update(validate="any")
        options.pop("error_title")
        options.pop("error_type")
    return options


def validation_ranges(fields: Iterable[PlacedField]) -> list[ValidationRange]:
    """The validations of a sheet's input cells, adjacent cells of one column with the same
    rule joined into one range."""
    by_rule: dict[tuple[int, str], list[tuple[int, dict[str, Any]]]] = {}
    for placed in fields:
        if not placed.is_input:
            continue
        options = validation_options(placed.spec)
        rule = json.dumps(options, sort_keys=True, default=str, ensure_ascii=False)
        by_rule.setdefault((placed.column_number, rule), []).append((placed.row_number, options))
    ranges: list[ValidationRange] = []
    for (column, _), cells in by_rule.items():
        cells.sort(key=lambda cell: cell[0])
        start = previous = cells[0][0]
        for row, _ in cells[1:]:
            if row != previous + 1:
                ranges.append(ValidationRange(start, previous, column, cells[0][1]))
                start = row
            previous = row
        ranges.append(ValidationRange(start, previous, column, cells[0][1]))
    return sorted(ranges, key=lambda r: (r.first_row, r.column_number))
