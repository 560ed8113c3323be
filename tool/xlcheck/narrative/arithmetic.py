"""The report's own arithmetic: totals against their parts, shares and rates against their bases.

Relations the spec declares are checked wherever the report states the derived figure and its
operands, taking for each operand the statement nearest to it; totals the wording announces
(X，其中：a，b，c; …；合计 X) are checked even when their figures have no field. Written figures
are rounded, so they are compared as intervals (``rounding``): a difference rounding explains is a
warning at most.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from xlcheck.narrative import catalogue as rules
from xlcheck.narrative.check_context import CheckContext
from xlcheck.narrative.figures import TOTAL_WORDS, clause_begin, sentence_span
from xlcheck.narrative.repeats import grid_blocks
from xlcheck.narrative.results import ReportFinding
from xlcheck.narrative.stated import Mention
from xlcheck.rounding import Agreement, ratio_of, sum_of

#: A breakdown whose parts fall short of the total by more than this share is taken to be a
#: partial list ("其中：工资 500 万元" names only the largest part), not an arithmetic slip.
PARTIAL_LIST_SHARE = 0.01


class ArithmeticChecks(CheckContext):
    """Sums, shares and rates stated in a report."""

    def _relations(self) -> Iterator[ReportFinding]:
        for placed in self.layout.dependencies_first():
            derive = placed.spec.derive
            if derive is None or derive.verb not in ("sum", "ratio"):
                continue
            # The statement nearest to its parts first: when a relation fails it is reported once,
            # at the total written beside the parts (合计 after the ten lines).
            operands = derive.field_keys()
            mentions = sorted(
                self.by_key.get(placed.key, ()),
                key=lambda m, operands=operands: self._distance(m, operands),
            )
            for mention in mentions:
                if derive.verb == "sum":
                    yield from self._sum(placed.key, operands, mention)
                else:
                    bases = (*derive.alt_bases, *self.alt_bases.get(placed.key, ()))
                    yield from self._ratio(placed.key, operands, bases, mention)

    def _sum(self, key: str, operands: Sequence[str], mention: Mention) -> Iterator[ReportFinding]:
        placed = self.layout.by_key[key]
        # The 合计 of a table's rows, or a total in a Word table beside some of its parts (the
        # 资金 block's 年度资金总额 over the rows it has): a part the table leaves out is nothing.
        table_rows = placed.table is not None and placed.table_row == 0
        in_table = mention.paragraph.cell is not None and self._grid_cell(placed.group)
        stated = []
        for operand in operands:
            nearest = self._nearest(operand, mention)
            if nearest is not None and (not in_table or _same_table(nearest, mention)):
                stated.append(nearest)
            elif not (table_rows or in_table):
                return  # a part the report does not state: nothing to add up
        if len(stated) < (1 if table_rows or in_table else 2):
            return
        self.checked.add(id(mention))
        computed = sum_of(m.figure.interval for m in stated)
        point = sum(m.figure.scaled for m in stated)
        result = self._agreement(mention, computed, point)
        if result is Agreement.EXACT or not self._once("sum", key, mention.figure.value, point):
            return
        rule = rules.SUM_ROUNDING if result is Agreement.ROUNDING else rules.SUM_MISMATCH
        yield self._finding(
            rule,
            mention,
            key=key,
            expected=point,
            actual=mention.figure.scaled,
            label=f"“{mention.words or self._label(key)}”",
            parts_label="、".join(dict.fromkeys(self._label(m.key or "") for m in stated)),
            parts=" + ".join(m.written for m in stated),
            expected_text=self._show(key, point),
            actual_text=mention.written,
            difference=self._show(key, abs(point - mention.figure.scaled)),
        )

    def _grid_cell(self, group: str | None) -> bool:
        """Whether a field's group is a grid block's row (``project[1].funds.total``)."""
        block = group.rsplit(".", 1)[0].rsplit(".", 1)[-1] if group else None
        return block is not None and block in grid_blocks(self.layout.spec)

    def _ratio(
        self, key: str, operands: Sequence[str], alt_bases: Sequence[str], mention: Mention
    ) -> Iterator[ReportFinding]:
        numerator = self._operand(operands[0], mention)
        base = self._operand(operands[1], mention)
        if numerator is None or base is None:
            return
        computed = ratio_of(numerator[0], base[0])
        if computed is None:
            return
        self.checked.add(id(mention))
        point = numerator[1] / base[1] if base[1] else computed.middle
        if self._agreement(mention, computed, point) is not Agreement.MISMATCH:
            return
        if not self._once("ratio", key, mention.figure.value):
            return
        share = mention.words == "占"
        params: dict[str, Any] = {
            "label": f"“{self._label(key)}”",
            "words": "占" if share else (mention.words or self._label(key)),
            "numerator_label": self._label(operands[0]),
            "base_label": self._label(operands[1]),
            "numerator_text": numerator[2],
            "denominator_text": base[2],
            "expected_text": self._show(key, point),
            "actual_text": mention.written,
        }
        for alternative in alt_bases:
            other = self._operand(alternative, mention)
            other_ratio = ratio_of(numerator[0], other[0]) if other else None
            if other is None or other_ratio is None:
                continue
            if (
                self._agreement(mention, other_ratio, numerator[1] / other[1])
                is not Agreement.MISMATCH
            ):
                yield self._finding(
                    rules.RATE_WRONG_BASE,
                    mention,
                    key=key,
                    expected=point,
                    actual=mention.figure.scaled,
                    wrong_label=self._label(alternative),
                    wrong_text=other[2],
                    **params,
                )
                return
        rule = rules.SHARE_MISMATCH if share else rules.RATE_MISMATCH
        yield self._finding(
            rule, mention, key=key, expected=point, actual=mention.figure.scaled, **params
        )

    def _text_totals(self) -> Iterator[ReportFinding]:
        """Totals the wording announces: X，其中：a，b，c and …；合计 X."""
        by_paragraph: dict[int, list[Mention]] = {}
        for mention in self.mentions:
            if mention.paragraph.cell is None and mention.figure.kind == "amount":
                by_paragraph.setdefault(mention.paragraph.number, []).append(mention)
        for figures in by_paragraph.values():
            children: set[int] = set()
            for index, parent in enumerate(figures):
                parts = _breakdown(parent, figures[index + 1 :])
                if len(parts) >= 2:
                    children.update(id(p) for p in parts)
                    yield from self._text_total(parent, parts)
            start = 0
            for index, total in enumerate(figures):
                if not _is_total(total):
                    continue
                parts = [p for p in figures[start:index] if id(p) not in children]
                start = index + 1
                if len(parts) >= 2:
                    yield from self._text_total(total, parts)

    def _text_total(self, total: Mention, parts: Sequence[Mention]) -> Iterator[ReportFinding]:
        if id(total) in self.checked:
            return
        computed = sum_of(p.figure.interval for p in parts)
        point = sum(p.figure.scaled for p in parts)
        result = self._agreement(total, computed, point)
        whole = total.figure.scaled
        if result is Agreement.EXACT or (
            result is Agreement.MISMATCH and point < whole * (1 - PARTIAL_LIST_SHARE)
        ):
            return
        if not self._once("sum", total.key, total.figure.value, point):
            return
        rule = rules.SUM_ROUNDING if result is Agreement.ROUNDING else rules.SUM_MISMATCH
        key = total.key
        yield self._finding(
            rule,
            total,
            key=key,
            expected=point,
            actual=whole,
            label=f"“{total.words or _clause_words(total)}”",
            parts_label="各分项",
            parts=" + ".join(p.written for p in parts),
            expected_text=self._show(key, point, total),
            actual_text=total.written,
            difference=self._show(key, abs(point - whole), total),
        )


def _same_table(mention: Mention, other: Mention) -> bool:
    cell, other_cell = mention.paragraph.cell, other.paragraph.cell
    return cell is not None and other_cell is not None and cell.table == other_cell.table


def _breakdown(parent: Mention, after: Sequence[Mention]) -> list[Mention]:
    """The parts listed after ``X，其中：``, up to the end of the clause group (；or 。)."""
    text = parent.text
    sentence_end = sentence_span(text, parent.figure.start)[1]
    marker = text.find("其中", parent.figure.end, sentence_end)
    if marker < 0:
        return []
    between = [m for m in after if m.figure.start < marker]
    if between:
        return []  # another amount stands between: 其中 belongs to it
    stop = min(
        (i for i in (text.find("；", marker), text.find(";", marker)) if i >= 0),
        default=sentence_end,
    )
    return [m for m in after if marker < m.figure.start < min(stop, sentence_end)]


def _clause_words(mention: Mention) -> str:
    """The words before a figure in its clause (专项经费 for 专项经费 1,000.00 万元)."""
    start = clause_begin(mention.text, mention.figure.start)
    return mention.text[start : mention.figure.start].strip() or "合计"


def _is_total(mention: Mention) -> bool:
    lead = mention.text[max(0, mention.figure.start - 4) : mention.figure.start]
    return (mention.words in TOTAL_WORDS) or any(word in lead for word in TOTAL_WORDS)
