"""Values against the bounds the spec gives them: computed values within their min/max, amounts
typed with no more decimals than their unit allows."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from xlcheck.cell_values import bounds_text, excel_round
from xlcheck.findings import Finding, Severity
from xlcheck.layout import Layout, PlacedField
from xlcheck.rules.registry import RuleContext, make_finding, rule

W = Severity.WARNING

DERIVED_OUT_OF_RANGE = rule(
    "derived-out-of-range",
    W,
    "计算结果超出规定范围",
    "Computed value outside its bounds",
    "由公式计算的值（如在职人员控制率）超出了模板规格给它的上下限：数据本身可能没有录错，但需要说明。",
    "“{label}”为 {value}，超出了规定的范围（应{bounds}）；请核对{inputs}，或在自评报告中说明原因",
    "'{label}' is {value}, outside its bounds (it must be {bounds_en}); check {inputs_en}, or explain it in the report",
)
TOO_MANY_DECIMALS = rule(
    "too-many-decimals",
    W,
    "小数位数过多",
    "More decimals than the unit allows",
    "金额的小数位数超过了它的计量单位允许的位数（如以万元为单位的金额填了六位小数，多半是按元填的数除以一万，"
    "或粘贴了公式结果）。表上按两位小数显示，合计可能因此对不上。",
    "“{label}”填的是 {value}，有 {places} 位小数，超过了 {unit} 允许的 {allowed} 位；请按 {allowed} 位小数填写",
    "'{label}' holds {value} with {places} decimals, more than the {allowed} that {unit} allows; "
    "enter it with {allowed} decimals",
)


def _decimals(value: float) -> int:
    """How many decimals a typed number has (float noise past 9 places ignored)."""
    if value.is_integer():
        return 0
    text = f"{excel_round(value, 9):.9f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


@functools.lru_cache(maxsize=16)
def _bounded_fields(layout: Layout) -> tuple[PlacedField, ...]:
    """The fields this family can say anything about, in layout order: amounts typed with a
    unit's decimals, and derived values with bounds. The same for every workbook of a layout
    (which hashes by identity): picked once instead of walking every field each time."""
    return tuple(
        placed
        for placed in layout.fields
        if (
            placed.spec.value_type == "amount" and placed.spec.decimals is not None
            if placed.is_input
            else placed.spec.minimum is not None or placed.spec.maximum is not None
        )
    )


def check(context: RuleContext) -> Iterator[Finding]:
    for placed in _bounded_fields(context.layout):
        spec = placed.spec
        value = context.values.get(placed.key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if placed.is_input:
            allowed = spec.decimals
            assert allowed is not None
            if placed.key in context.cells:
                places = _decimals(float(value))
                if places > allowed:
                    typed = f"{value:.{places}f}"
                    # As typed (a number would be rounded to the two decimals the cell shows).
                    yield make_finding(
                        TOO_MANY_DECIMALS,
                        placed,
                        actual=typed,
                        value=typed,
                        places=places,
                        allowed=allowed,
                        unit=spec.unit or "金额",
                    )
            continue
        if placed.key in context.unreliable or placed.key not in context.workbook.cells:
            continue
        too_low = spec.minimum is not None and value < spec.minimum - 1e-12
        too_high = spec.maximum is not None and value > spec.maximum + 1e-12
        if too_low or too_high:
            derive = spec.derive
            parts = (
                [context.layout.by_key[k].short_label for k in derive.field_keys()]
                if derive
                else []
            )
            yield make_finding(
                DERIVED_OUT_OF_RANGE,
                placed,
                actual=value,
                value=context.show(placed.key, value),
                bounds=bounds_text(spec.minimum, spec.maximum, spec.value_type),
                bounds_en=bounds_text(spec.minimum, spec.maximum, spec.value_type, "en"),
                inputs="、".join(parts) or "所用数据",
                inputs_en=", ".join(parts) or "its inputs",
            )
