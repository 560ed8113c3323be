"""The outline walked: each block written once, per repetition of its ``each`` (a whole report
part per project, a paragraph per indicator row), or not at all when its ``when`` fields are blank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from xlcheck.layout import Layout
from xlcheck.narrative.draft_tables import draft_table
from xlcheck.narrative.drafting import DraftElement, DraftParagraph, Filler, Span
from xlcheck.narrative.outline_model import Binding, Block, ReportTemplate


def fill_template(
    template: ReportTemplate, layout: Layout, values: Mapping[str, Any]
) -> list[DraftElement]:
    """The draft: the outline with every reference filled from ``values`` (field key → value)."""
    elements: list[DraftElement] = []
    _fill(Filler(template, layout, values), template.blocks, Binding(), elements)
    return elements


def _fill(
    filler: Filler, blocks: Sequence[Block], outer: Binding, elements: list[DraftElement]
) -> None:
    for block in blocks:
        if block.kind == "placeholder":
            if filler.has_values(block, outer):
                elements.append(_placeholder(block))
            continue
        items = [b for b in filler.items(block, outer) if filler.has_values(block, b)]
        if block.kind == "blocks":
            for binding in items:
                _fill(filler, block.blocks, binding, elements)
        elif block.kind == "page_break":
            elements.extend(DraftParagraph("page_break") for _ in items)
        elif block.kind == "table":
            elements.extend(draft_table(filler, block, binding) for binding in items)
        elif not items and block.empty and block.each is not None:
            elements.append(_paragraph(filler, block, block.empty, outer))
        else:
            elements.extend(_paragraph(filler, block, block.text, b) for b in items)


def _placeholder(block: Block) -> DraftParagraph:
    return DraftParagraph(
        "paragraph",
        (Span(block.lead, bold=True), Span(f"【由单位填写：{block.text}】", unit_text=True)),
    )


def _paragraph(filler: Filler, block: Block, text: str, binding: Binding) -> DraftParagraph:
    lead = (Span(block.lead, bold=True),) if block.lead else ()
    spans = (*lead, *filler.spans(text, binding))
    return DraftParagraph(block.kind, spans, block.level, block.align)
