"""What a report repeats over, as a workbook holds it: the instances of a sheet written once per
item (one 项目支出绩效自评表 per project), the filled rows of a table or of an indicators block, and
the 评分表's parts. Drafting fills an outline's ``each:`` from these; checking reads them back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from xlcheck.layout import Layout, PlacedField, spec_blocks
from xlcheck.layout.grid import GridBlock
from xlcheck.layout.indicator_spec import IndicatorGroup, IndicatorLevel, IndicatorsBlock
from xlcheck.layout.indicators import IndicatorsLayout
from xlcheck.layout.scoring import ScoringBlock
from xlcheck.layout.table import TableBlock
from xlcheck.records import record
from xlcheck.spec import RepeatSpec, Spec


@record
class Instance:
    """One instance of a sheet written once per item: project 2 on the sheet 村级补助及运转经费.

    Attributes:
        repeat: the repeat key (``project``).
        number: 1, 2, … as the field keys number it.
        sheet: the instance's sheet name in the workbook.
    """

    repeat: str
    number: int
    sheet: str

    @property
    def prefix(self) -> str:
        """What the instance's field keys start with: ``project[2].``."""
        return f"{self.repeat}[{self.number}]."


@record
class IndicatorRow:
    """A filled row of an indicators block: its key (the prefix of its fields' keys, as
    ``project[1].indicators.quantity[2]``), its 一级 and its 二级."""

    key: str
    level: IndicatorLevel
    group: IndicatorGroup

    def field(self, column: str) -> str:
        return f"{self.key}.{column}"


def repeats(spec: Spec) -> dict[str, RepeatSpec]:
    """The spec's sheets written once per item, by repeat key."""
    return {s.repeat.key: s.repeat for s in spec.sheets if s.repeat is not None}


def instances(layout: Layout, repeat: str) -> list[Instance]:
    """The instances of the repeated sheet ``repeat`` that ``layout`` holds, in order."""
    return [
        Instance(repeat, sheet.instance, sheet.name)
        for sheet in layout.sheets
        if sheet.instance is not None
        and sheet.sheet.repeat is not None
        and sheet.sheet.repeat.key == repeat
    ]


def instance_of(layout: Layout, placed: PlacedField) -> Instance | None:
    """The instance a field belongs to; None for a field of a sheet written once."""
    sheet = layout.sheets[placed.sheet_index]
    if sheet.instance is None or sheet.sheet.repeat is None:
        return None
    return Instance(sheet.sheet.repeat.key, sheet.instance, sheet.name)


def table_sheets(spec: Spec) -> dict[str, TableBlock]:
    """The spec's tables by table key (projects → the 项目支出 table)."""
    return {b.key: b for b in spec_blocks(spec, TableBlock)}


def grid_blocks(spec: Spec) -> dict[str, GridBlock]:
    """The spec's grid blocks by key (funds → the 资金 block)."""
    return {b.key: b for b in spec_blocks(spec, GridBlock)}


def indicator_blocks(spec: Spec) -> dict[str, IndicatorsBlock]:
    """The spec's indicators blocks by key (indicators → the 绩效指标 block)."""
    return {b.key: b for b in spec_blocks(spec, IndicatorsBlock)}


def scoring_block(spec: Spec) -> ScoringBlock | None:
    """The spec's 评分表 block, if it has one."""
    return next(iter(spec_blocks(spec, ScoringBlock)), None)


def filled_rows(values: Mapping[str, Any], sheet: TableBlock, prefix: str = "") -> list[int]:
    """The rows of a table a workbook fills (any column that is not computed holds a value), by
    their number in the workbook, rows inserted beyond the template's capacity included;
    ``prefix`` is the instance's for a table on a sheet written once per item."""
    inputs = {c.key for c in sheet.columns if c.derive is None}
    row_key = re.compile(rf"^{re.escape(prefix + sheet.key)}\[(?P<row>\d+)\]\.(?P<column>.+)$")
    rows = set()
    for key, value in values.items():
        match = row_key.match(key)
        if match and match["column"] in inputs and value not in (None, ""):
            rows.add(int(match["row"]))
    return sorted(rows)


def indicator_rows(
    layout: Layout, values: Mapping[str, Any], block: IndicatorsBlock, prefix: str = ""
) -> list[IndicatorRow]:
    """The rows of an indicators block a workbook fills (any input column holds a value), top to
    bottom, rows a unit inserted included; ``prefix``: only the rows of that instance."""
    levels = {level.key: level for level in block.levels}
    groups = {group.key: group for level in block.levels for group in level.groups}
    inputs = [c.key for c in block.columns if c.field is not None and c.field.derive is None]
    start = f"{prefix}{block.key}."
    rows: list[IndicatorRow] = []
    for sheet in layout.sheets:
        if sheet.key_prefix != prefix:
            continue
        for laid in sheet.blocks:
            if not isinstance(laid, IndicatorsLayout) or laid.spec != block:
                continue
            for row, level in laid.row_levels:
                group = row.removeprefix(start).partition("[")[0]
                if any(values.get(f"{row}.{column}") not in (None, "") for column in inputs):
                    rows.append(IndicatorRow(row, levels[level], groups[group]))
    return rows


def column_key(block: IndicatorsBlock, role: str) -> str | None:
    """The key of an indicators block's column playing ``role`` (score, weight, name …)."""
    return next((c.key for c in block.columns if c.role == role and c.field), None)
