"""A report template filled from a verified workbook's values: the draft's text, no file format.

Every figure comes from the verified values (inputs as normalised, derived values recomputed), so
a draft never repeats a wrong cached or typed result. What only the unit can write stays a
visible placeholder (【由单位填写：…】), and so does a figure the workbook leaves blank.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from xlcheck.cell_values import display, excel_round
from xlcheck.layout import Layout
from xlcheck.narrative.outline import (
    REFERENCE,
    UNIT_TEXT,
    Block,
    ReportTemplate,
    filled_rows,
    scoring_block,
    table_sheets,
)
from xlcheck.spec import FieldSpec


@dataclass(frozen=True)
class Span:
    """A run of text; ``unit_text`` marks what the unit has to write or complete."""

    text: str
    bold: bool = False
    unit_text: bool = False


@dataclass(frozen=True)
class DraftParagraph:
    """A title, heading, paragraph or page break of the draft."""

    kind: str
    spans: tuple[Span, ...] = ()
    level: int = 1
    align: str = ""

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True)
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


class _Filler:
    """Fills one template's sentences from one workbook's values."""

    def __init__(self, template: ReportTemplate, layout: Layout, values: Mapping[str, Any]):
        self.template = template
        self.layout = layout
        self.values = values
        self.tables = table_sheets(layout)
        self.scoring = scoring_block(layout.spec)

    def filled_rows(self, table: str) -> list[int]:
        """Table rows the unit used (any column that is not computed holds a value), including
        rows a unit inserted beyond the template's capacity."""
        return filled_rows(self.values, self.tables[table])

    def items(self, block: Block) -> Iterator[dict[str, str]]:
        """One binding of ``*`` (and the item words) per repetition of the block."""
        if block.each is None:
            yield {}
        elif block.each == "parts":
            for part in self.scoring.parts if self.scoring else ():
                if block.part is None or part.key == block.part:
                    yield {"*": part.key, "part": part.name}
        elif block.each == "deductions":
            for part in self.scoring.parts if self.scoring else ():
                if block.part is not None and part.key != block.part:
                    continue
                for indicator in part.indicators:
                    score = self.values.get(f"score.{indicator.key}")
                    if isinstance(score, int | float) and score < indicator.weight:
                        deducted = excel_round(indicator.weight - float(score), 2)
                        yield {
                            "*": indicator.key,
                            "indicator": indicator.name,
                            "deducted": f"{deducted:g}",
                        }
        else:
            for row in self.filled_rows(block.each):
                yield {"*": str(row)}

    def spans(self, text: str, item: Mapping[str, str]) -> list[Span]:
        """The sentence with references filled; unit text and blank figures as placeholders."""
        spans: list[Span] = []
        position = 0
        pattern = re.compile(f"{REFERENCE.pattern}|{UNIT_TEXT.pattern}")
        for match in pattern.finditer(text):
            if match.start() > position:
                spans.append(Span(text[position : match.start()]))
            if match.group(2) is not None:
                spans.append(Span(f"【{match.group(2)}】", unit_text=True))
            else:
                spans.append(self.reference(match.group(1), item))
            position = match.end()
        if position < len(text):
            spans.append(Span(text[position:]))
        return spans

    def reference(self, reference: str, item: Mapping[str, str]) -> Span:
        if reference in item:
            return Span(item[reference])
        if reference.startswith("count:"):
            return Span(str(len(self.filled_rows(reference[6:]))))
        if reference.startswith("list:"):
            table, _, column = reference[5:].partition(".")
            names = [self.values.get(f"{table}[{row}].{column}") for row in self.filled_rows(table)]
            return Span("、".join(f"“{name}”" for name in names if name not in (None, "")))
        key = reference.replace("*", item.get("*", "*"))
        value = self.values.get(key)
        if value is None or value == "":
            label = self.layout.by_key[key].label_path if key in self.layout.by_key else key
            return Span(f"【待补：{label}】", unit_text=True)
        return Span(format_value(value, self.field_spec(key)))

    def field_spec(self, key: str) -> FieldSpec:
        """A field's spec; a table row beyond the template's capacity has its column's."""
        if key in self.layout.by_key:
            return self.layout.by_key[key].spec
        table, _, column = key.partition("[")
        column_key = column.partition("].")[2]
        return next(c for c in self.tables[table].columns if c.key == column_key)

    def has_values(self, block: Block) -> bool:
        return all(self.values.get(key) not in (None, "") for key in block.when)


def fill_template(
    template: ReportTemplate, layout: Layout, values: Mapping[str, Any]
) -> list[DraftElement]:
    """The draft: the outline with every reference filled from ``values`` (field key → value)."""
    filler = _Filler(template, layout, values)
    elements: list[DraftElement] = []
    for block in template.blocks:
        if not filler.has_values(block):
            continue
        if block.kind == "page_break":
            elements.append(DraftParagraph("page_break"))
        elif block.kind == "table":
            elements.append(_table(filler, block))
        elif block.kind == "placeholder":
            elements.append(
                DraftParagraph(
                    "paragraph",
                    (
                        Span(block.lead, bold=True),
                        Span(f"【由单位填写：{block.text}】", unit_text=True),
                    ),
                )
            )
        else:
            items = list(filler.items(block))
            if not items and block.empty:
                items, text = [{}], block.empty
            else:
                text = block.text
            for item in items:
                lead = (Span(block.lead, bold=True),) if block.lead else ()
                spans = (*lead, *filler.spans(text, item))
                elements.append(DraftParagraph(block.kind, spans, block.level, block.align))
    return elements


def _table(filler: _Filler, block: Block) -> DraftTable:
    if block.table == "scoring":
        rows = []
        for part in filler.scoring.parts if filler.scoring else ():
            rows.append(
                (
                    part.name,
                    filler.reference(f"subtotal_weight.{part.key}", {}).text,
                    filler.reference(f"subtotal.{part.key}", {}).text,
                )
            )
        rows.append(
            (
                "总分",
                filler.reference("total_weight", {}).text,
                filler.reference("total_score", {}).text,
            )
        )
        return DraftTable(("一级指标", "分值", "自评得分"), tuple(rows))
    table = str(block.table)
    sheet = filler.tables[table]
    columns = [c for c in sheet.columns if not block.columns or c.key in block.columns]
    if block.columns:
        columns.sort(key=lambda c: block.columns.index(c.key))
    header = ("序号", *(c.label + (f"（{c.unit}）" if c.unit else "") for c in columns))
    # 序号 is the row's number in the workbook's table, so a check can find the row again.
    body = [
        (str(row), *(_cell(filler, f"{table}[{row}].{c.key}") for c in columns))
        for row in filler.filled_rows(table)
    ]
    totals = [c for c in columns if f"{table}.total.{c.key}" in filler.layout.by_key]
    if totals:
        body.append(
            (
                "合计",
                *(_cell(filler, f"{table}.total.{c.key}") if c in totals else "" for c in columns),
            )
        )
    return DraftTable(header, tuple(body))


def _cell(filler: _Filler, key: str) -> str:
    value = filler.values.get(key)
    if value is None or value == "":
        return ""
    return format_value(value, filler.field_spec(key))
