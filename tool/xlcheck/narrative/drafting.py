"""A report template filled from a verified workbook's values: the draft's text, no file format.

Every figure comes from the verified values (inputs as normalised, derived values recomputed), so
a draft never repeats a wrong cached or typed result. What only the unit can write stays a
visible placeholder (【由单位填写：…】), and so does a figure the workbook leaves blank.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from xlcheck.cell_values import display, excel_round
from xlcheck.layout import Layout
from xlcheck.layout.indicator_spec import IndicatorsBlock
from xlcheck.narrative.outline_model import (
    REFERENCE,
    UNIT_TEXT,
    Binding,
    Block,
    ReportTemplate,
    deduction_source,
    each_kind,
)
from xlcheck.narrative.repeats import (
    IndicatorRow,
    column_key,
    filled_rows,
    grid_blocks,
    indicator_blocks,
    indicator_rows,
    instances,
    repeats,
    scoring_block,
    table_sheets,
)
from xlcheck.records import record
from xlcheck.spec import FieldSpec


@record
class Span:
    """A run of text; ``unit_text`` marks what the unit has to write or complete."""

    text: str
    bold: bool = False
    unit_text: bool = False


@record
class DraftParagraph:
    """A title, heading, paragraph or page break of the draft."""

    kind: str
    spans: tuple[Span, ...] = ()
    level: int = 1
    align: str = ""

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


@record
class DraftTable:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


DraftElement = DraftParagraph | DraftTable


def format_value(value: Any, spec: FieldSpec) -> str:
    """A field's value as a report writes it: 1133.49, 99.72%, 22, 101, 2024 年 7 月 28 日."""
    kind = spec.value_type
    if kind == "date":
        try:
            day = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
        return f"{day.year} 年 {day.month} 月 {day.day} 日"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if kind == "percent":
        return display(value, "percent", spec.decimals)
    if kind == "score":
        return f"{excel_round(float(value), spec.decimals or 2):g}"
    if kind == "integer":
        return str(int(value))
    decimals = spec.decimals if spec.decimals is not None else 2
    return f"{excel_round(float(value), decimals):.{decimals}f}"


class Filler:
    """Fills one template's sentences from one workbook's values (``layout`` is the workbook's:
    every instance of a sheet written once per item, every row a unit inserted)."""

    def __init__(self, template: ReportTemplate, layout: Layout, values: Mapping[str, Any]):
        self.template = template
        self.layout = layout
        self.values = values
        spec = layout.spec
        self.tables = table_sheets(spec)
        self.grids = grid_blocks(spec)
        self.indicators = indicator_blocks(spec)
        self.repeats = repeats(spec)
        self.scoring = scoring_block(spec)

    def filled_rows(self, table: str, binding: Binding) -> list[int]:
        """Table rows the unit used (any column that is not computed holds a value), including
        rows a unit inserted beyond the template's capacity."""
        prefix = binding.instance.prefix if binding.instance else ""
        return filled_rows(self.values, self.tables[table], prefix)

    def items(self, block: Block, outer: Binding) -> Iterator[Binding]:
        """One binding of ``*`` (and the item words) per repetition of the block."""
        kind = each_kind(self.layout.spec, block.each) if block.each is not None else None
        instance = outer.instance
        if kind is None:
            yield outer
        elif kind == "instances":
            for number, item in enumerate(instances(self.layout, str(block.each)), 1):
                yield Binding(str(item.number), {"number": str(number)}, item)
        elif kind == "parts":
            parts = self.scoring.parts if self.scoring else ()
            chosen = [p for p in parts if block.part is None or p.key == block.part]
            for number, part in enumerate(chosen, 1):
                yield Binding(part.key, {"part": part.name, "number": str(number)}, instance)
        elif kind == "deductions" and deduction_source(self.layout.spec) == "scoring":
            yield from self._scoring_deductions(block, outer)
        elif kind in ("deductions", "indicators"):
            yield from self._indicator_rows(block, outer, deducted_only=kind == "deductions")
        else:
            for number, row in enumerate(self.filled_rows(str(block.each), outer), 1):
                yield Binding(str(row), {"number": str(number)}, instance)

    def _scoring_deductions(self, block: Block, outer: Binding) -> Iterator[Binding]:
        number = 0
        for part in self.scoring.parts if self.scoring else ():
            if block.part is not None and part.key != block.part:
                continue
            for indicator in part.indicators:
                score = self.values.get(outer.key(f"score.{indicator.key}"))
                if isinstance(score, int | float) and score < indicator.weight:
                    number += 1
                    words = {
                        "indicator": indicator.name,
                        "deducted": f"{excel_round(indicator.weight - float(score), 2):g}",
                        "part": part.name,
                        "number": str(number),
                    }
                    yield Binding(indicator.key, words, outer.instance)

    def _indicator_rows(
        self, block: Block, outer: Binding, *, deducted_only: bool
    ) -> Iterator[Binding]:
        """The filled rows of an indicators block (of the instance the block is inside of),
        only those scored below their 分值 for ``each: deductions``."""
        prefix = outer.instance.prefix if outer.instance else ""
        chosen = [self.indicators[block.each]] if block.each in self.indicators else []
        number = 0
        for indicators in chosen or self.indicators.values():
            name_column = column_key(indicators, "name") or "name"
            for row in indicator_rows(self.layout, self.values, indicators, prefix):
                if block.part is not None and row.level.key != block.part:
                    continue
                deducted = _deducted(self.values, indicators, row)
                if deducted_only and deducted is None:
                    continue
                number += 1
                words = {
                    "indicator": str(self.values.get(row.field(name_column)) or ""),
                    "level": row.level.name,
                    "group": row.group.name,
                    "number": str(number),
                }
                if deducted is not None:
                    words["deducted"] = f"{deducted:g}"
                yield Binding(row.key, words, outer.instance)

    def spans(self, text: str, binding: Binding) -> list[Span]:
        """The sentence with references filled; unit text and blank figures as placeholders."""
        spans: list[Span] = []
        position = 0
        pattern = re.compile(f"{REFERENCE.pattern}|{UNIT_TEXT.pattern}")
        for match in pattern.finditer(text):
            if match.start() > position:
                spans.append(_literal(text[position : match.start()], spans))
            if match.group(2) is not None:
                spans.append(Span(f"【{match.group(2)}】", unit_text=True))
            else:
                spans.append(self.reference(match.group(1), binding))
            position = match.end()
        if position < len(text):
            spans.append(_literal(text[position:], spans))
        return spans

    def reference(self, reference: str, binding: Binding) -> Span:
        if reference in binding.words:
            return Span(binding.words[reference])
        if reference.startswith("count:"):
            name = reference[6:]
            if name in self.repeats:
                return Span(str(len(instances(self.layout, name))))
            return Span(str(len(self.filled_rows(name, binding))))
        if reference.startswith("list:"):
            name, _, column = reference[5:].partition(".")
            if name in self.repeats:
                keys = [f"{item.prefix}{column}" for item in instances(self.layout, name)]
            else:
                prefix = binding.instance.prefix if binding.instance else ""
                rows = self.filled_rows(name, binding)
                keys = [f"{prefix}{name}[{row}].{column}" for row in rows]
            names = [self.values.get(key) for key in keys]
            return Span("、".join(f"“{name}”" for name in names if name not in (None, "")))
        key = binding.key(reference)
        value = self.values.get(key)
        if value is None or value == "":
            label = self.layout.by_key[key].label_path if key in self.layout.by_key else key
            return Span(f"【待补：{label}】", unit_text=True)
        return Span(format_value(value, self.field_spec(key)))

    def field_spec(self, key: str) -> FieldSpec:
        """A field's spec; a table row beyond the template's capacity has its column's."""
        if key in self.layout.by_key:
            return self.layout.by_key[key].spec
        row = _TABLE_ROW.match(key)
        if row is None or row["table"] not in self.tables:
            raise KeyError(key)
        return next(c for c in self.tables[row["table"]].columns if c.key == row["column"])

    def has_values(self, block: Block, binding: Binding) -> bool:
        return all(self.values.get(binding.key(key)) not in (None, "") for key in block.when)

    def cell(self, key: str) -> str:
        """A table cell's text: the value as the report writes it, empty when blank."""
        value = self.values.get(key)
        if value is None or value == "":
            return ""
        return format_value(value, self.field_spec(key))


def _literal(text: str, before: Sequence[Span]) -> Span:
    """The outline's own words after a value; a value the unit ended with 。 (a 偏差原因 written as
    a sentence) is not followed by a second one."""
    if before and text[:1] in "。；" and before[-1].text.endswith(text[:1]):
        text = text[1:]
    return Span(text)


#: A table cell's key, on a sheet written once or in an instance: ``project[1].items[5].name``.
_TABLE_ROW = re.compile(r"^(?:.*\.)?(?P<table>[^.\[]+)\[\d+\]\.(?P<column>[^.]+)$")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _deducted(values: Mapping[str, Any], block: IndicatorsBlock, row: IndicatorRow) -> float | None:
    """How far an indicator row's 得分 falls below its 分值, None when it does not (or is blank)."""
    score = _number(values.get(row.field(column_key(block, "score") or "score")))
    weight = _number(values.get(row.field(column_key(block, "weight") or "weight")))
    if score is None or weight is None or score >= weight:
        return None
    return excel_round(weight - score, 2)
