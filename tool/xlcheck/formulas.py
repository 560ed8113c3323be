"""The Excel formula text of each derived field, written by the template and expected by verify."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from xlcheck.derivation_formulas import cell_reference, expression, guarded
from xlcheck.layout import Layout, PlacedField, SheetLayout
from xlcheck.live_checks import check_formula
from xlcheck.spec import Grade


def excel_formula(
    placed: PlacedField, layout: Layout, grades: tuple[Grade, ...] = ()
) -> str | None:
    """The formula (with its leading ``=``) the template writes into a derived cell.

    Returns None for constants, which are written as plain values.
    """
    derive = placed.spec.derive
    if derive is None or derive.verb == "constant":
        return None
    if derive.verb == "self_check":
        return "=" + check_formula(placed, layout, grades)
    return "=" + guarded(derive, placed, layout, expression(derive, placed, layout, grades))


@functools.lru_cache(maxsize=16)
def template_formulas(layout: Layout) -> dict[str, str]:
    """Field key → the formula text the template writes, for every formula cell of ``layout``."""
    grades = layout.spec.grading.grades
    formulas = {f.key: excel_formula(f, layout, grades) for f in layout.fields if not f.is_input}
    return {key: text for key, text in formulas.items() if text is not None}


def title_fields(sheet: SheetLayout, layout: Layout) -> tuple[str | None, str | None]:
    """The unit and year fields a sheet's title names (its own instance's on a sheet written
    once per item), when the spec has them."""
    found: list[str | None] = []
    for role in ("unit", "year"):
        key = layout.spec.role(role)
        own = sheet.key_prefix + key if key is not None else None
        found.append(own if own in layout.by_key else layout.role(role))
    return found[0], found[1]


def title_formula(sheet: SheetLayout, layout: Layout, title: str) -> str | None:
    """The sheet's title naming the unit and the year as the workbook states them, so that
    every printed page (the title row repeats) says whose form it is:
    ``=IF(unit="","",unit&"　")&"title"&IF(year="","","（"&year&" 年度）")``. None when the spec
    names neither field."""
    unit, year = title_fields(sheet, layout)
    if unit is None and year is None:
        return None
    escaped = title.replace('"', '""')
    parts = []
    if unit is not None:
        ref = cell_reference(layout.by_key[unit], sheet.name)
        parts.append(f'IF({ref}="","",{ref}&"　")')
    parts.append(f'"{escaped}"')
    if year is not None:
        ref = cell_reference(layout.by_key[year], sheet.name)
        parts.append(f'IF({ref}="","","（"&{ref}&" 年度）")')
    return "=" + "&".join(parts)


def title_text(sheet: SheetLayout, layout: Layout, title: str, values: Mapping[str, Any]) -> str:
    """What ``title_formula`` shows for ``values``."""
    unit, year = title_fields(sheet, layout)
    unit_value = values.get(unit) if unit else None
    year_value = values.get(year) if year else None
    text = title
    if unit_value not in (None, ""):
        text = f"{unit_value}　{text}"
    if year_value not in (None, ""):
        text = f"{text}（{year_value} 年度）"
    return text
