"""The checks on a report's figures: its own arithmetic, its scores and grade, and the workbook.

- Relations the spec declares (a total and its parts, a share, a rate) are checked wherever the
  report states the derived figure and its operands, taking for each operand the statement
  nearest to it. Written figures are rounded, so they are compared as intervals (``rounding``):
  a difference rounding explains is a warning at most.
- Totals the text itself announces (X，其中：a，b，c; …；合计 X) are checked even when their
  figures have no field, as long as the parts plausibly are the whole breakdown.
- A rate is tried on the other bases the spec names (预算执行率 on income instead of budget).
- Scores against the scoring sheet's weights and maximum; a grade against the stated score.
- With the workbook: every named figure against its verified value, counts against filled rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from xlcheck.cell_values import display, excel_round, json_value
from xlcheck.layout import Layout, scoring_sheet
from xlcheck.narrative import catalogue as rules
from xlcheck.narrative.catalogue import ReportRule
from xlcheck.narrative.figures import TOTAL_WORDS, UNITS, clause_begin, sentence_span
from xlcheck.narrative.mentions import GradeMention, Mention, field_words
from xlcheck.narrative.outline import filled_rows, table_sheets
from xlcheck.narrative.results import ReportFinding
from xlcheck.rounding import Agreement, Interval, agreement, exact, ratio_of, sum_of
from xlcheck.spec import Grade

#: A breakdown whose parts fall short of the total by more than this share is taken to be a
#: partial list ("其中：工资 500 万元" names only the largest part), not an arithmetic slip.
PARTIAL_LIST_SHARE = 0.01


def grade_for(score: float, grades: Sequence[Grade]) -> str | None:
    for grade in sorted(grades, key=lambda g: -g.minimum):
        if score >= grade.minimum:
            return grade.name
    return None


class ReportChecks:
    """All checks on one report's named figures."""

    def __init__(
        self,
        layout: Layout,
        mentions: Sequence[Mention],
        grades: Sequence[GradeMention],
        workbook: Mapping[str, Any] | None = None,
    ):
        self.layout = layout
        self.mentions = mentions
        self.grades = grades
        self.workbook = workbook
        self.scoring = scoring_sheet(layout.spec)
        self.by_key: dict[str, list[Mention]] = {}
        for mention in mentions:
            if mention.key is not None:
                self.by_key.setdefault(mention.key, []).append(mention)
        self.checked: set[int] = set()
        self.reported: set[tuple[Any, ...]] = set()

    def findings(self) -> list[ReportFinding]:
        found = [
            *self._relations(),
            *self._text_totals(),
            *self._scores(),
            *self._grade_checks(),
            *self._workbook(),
        ]
        return sorted(found, key=ReportFinding.sort_key)

    # -- helpers ---------------------------------------------------------------------------

    def _finding(
        self, rule: ReportRule, mention: Mention, *, key: str | None, expected: Any, actual: Any, **params: Any
    ) -> ReportFinding:
        spec = self.layout.by_key[key].spec if key in self.layout.by_key else None
        if spec is not None:
            expected = json_value(expected, spec.value_type, spec.decimals)
            actual = json_value(actual, spec.value_type, spec.decimals)
        sentence = mention.sentence
        if mention.paragraph.cell is not None:
            sentence = f"{mention.words or ''} {mention.written}".strip()
        return ReportFinding(
            code=rule.code,
            severity=rule.severity,
            message=rule.message.format(**params),
            message_en=rule.message_en.format(**params),
            paragraph=mention.paragraph.number,
            sentence=sentence,
            field=key,
            expected=expected,
            actual=actual,
            offset=mention.figure.start,
            docx_index=mention.paragraph.docx_index,
            expected_text=params.get("expected_text"),
            actual_text=params.get("actual_text"),
        )

    def _label(self, key: str) -> str:
        placed = self.layout.by_key.get(key)
        if placed is None:
            return key
        return field_words(placed) or placed.label_path.split("/")[-1]

    def _show(self, key: str | None, value: float, like: Mention | None = None) -> str:
        """A value as the field shows it, or (no field) as the figure ``like`` is written."""
        placed = self.layout.by_key.get(key or "")
        if placed is None:
            figure = like.figure if like is not None else None
            scale = UNITS[figure.unit][1] if figure is not None else 1.0
            decimals = figure.decimals if figure is not None else 2
            unit = f" {figure.unit}" if figure is not None and figure.unit else ""
            return f"{excel_round(value / scale, decimals):,.{decimals}f}{unit}"
        spec = placed.spec
        if spec.value_type == "score":
            return f"{excel_round(value, 2):g} 分"
        return display(value, spec.value_type, spec.decimals, spec.unit)

    def _nearest(self, key: str, anchor: Mention) -> Mention | None:
        return min(
            self.by_key.get(key, ()),
            key=lambda m: (
                abs(m.paragraph.number - anchor.paragraph.number),
                m.paragraph.number > anchor.paragraph.number,
                abs(m.figure.start - anchor.figure.start),
            ),
            default=None,
        )

    def _distance(self, mention: Mention, operands: Sequence[str]) -> int:
        nearest = [self._nearest(key, mention) for key in operands]
        return sum(
            abs(m.paragraph.number - mention.paragraph.number) for m in nearest if m is not None
        )

    def _once(self, *identity: Any) -> bool:
        """True the first time a problem is seen; the same relation stated twice reports once."""
        if identity in self.reported:
            return False
        self.reported.add(identity)
        return True

    @staticmethod
    def _agreement(mention: Mention, computed: Interval, point: float) -> Agreement:
        scale = UNITS[mention.figure.unit][1]
        return agreement(
            mention.figure.value, mention.figure.decimals, computed.scaled(1 / scale), point=point / scale
        )

    # -- the report's own arithmetic --------------------------------------------------------

    def _relations(self) -> Iterator[ReportFinding]:
        for placed in self.layout.dependencies_first():
            derive = placed.spec.derive
            if derive is None or derive.verb not in ("sum", "ratio"):
                continue
            # The statement nearest to its parts first: when a relation fails it is reported once,
            # at the total written beside the parts (合计 after the ten lines).
            mentions = sorted(
                self.by_key.get(placed.key, ()),
                key=lambda m, operands=derive.operands: self._distance(m, operands),
            )
            for mention in mentions:
                if derive.verb == "sum":
                    yield from self._sum(placed.key, derive.operands, mention)
                else:
                    yield from self._ratio(placed.key, derive.operands, derive.alt_bases, mention)

    def _operand(self, key: str, anchor: Mention) -> tuple[Interval, float, str] | None:
        """An operand's interval, value and text: as the report states it, else the workbook's."""
        mention = self._nearest(key, anchor)
        if mention is not None:
            return mention.figure.interval, mention.figure.scaled, mention.written
        value = self.workbook.get(key) if self.workbook is not None else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return exact(float(value)), float(value), self._show(key, float(value))
        return None

    def _sum(self, key: str, operands: Sequence[str], mention: Mention) -> Iterator[ReportFinding]:
        placed = self.layout.by_key[key]
        table_rows = placed.table is not None and placed.table_row == 0
        stated = []
        for operand in operands:
            nearest = self._nearest(operand, mention)
            if nearest is not None:
                stated.append(nearest)
            elif not table_rows:
                return  # a part the report does not state: nothing to add up
        if len(stated) < (1 if table_rows else 2):
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
            if self._agreement(mention, other_ratio, numerator[1] / other[1]) is not Agreement.MISMATCH:
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
        yield self._finding(rule, mention, key=key, expected=point, actual=mention.figure.scaled, **params)

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

    # -- scores and grades ------------------------------------------------------------------

    def _scores(self) -> Iterator[ReportFinding]:
        if self.scoring is None:
            return
        maximum, bonus = self.scoring.max_score, self.scoring.bonus_max
        for mention in self.by_key.get("total_score", ()):
            score = mention.figure.scaled
            if score > maximum + bonus:
                yield self._finding(
                    rules.SCORE_ABOVE_MAXIMUM, mention, key="total_score", expected=maximum + bonus,
                    actual=score, actual_text=mention.written, maximum=f"{maximum + bonus:g}",
                    expected_text=f"{maximum + bonus:g} 分",
                )  # fmt: skip
            elif score > maximum:
                yield self._finding(
                    rules.BONUS_USED, mention, key="total_score", expected=maximum, actual=score,
                    actual_text=mention.written, base=f"{maximum:g}", bonus=f"{bonus:g}",
                )  # fmt: skip
        for key, mentions in self.by_key.items():
            placed = self.layout.by_key.get(key)
            if placed is None or not key.startswith(("score.", "subtotal.")) or placed.weight is None:
                continue
            for mention in mentions:
                if mention.figure.scaled > placed.weight:
                    yield self._finding(
                        rules.SCORE_ABOVE_WEIGHT, mention, key=key, expected=placed.weight,
                        actual=mention.figure.scaled, actual_text=mention.written,
                        label=self._label(key),
                        weight=f"{placed.weight:g}",
                    )  # fmt: skip

    def _grade_checks(self) -> Iterator[ReportFinding]:
        if self.scoring is None:
            return
        for grade in self.grades:
            anchor = Mention(grade.paragraph, grade.text, _AT(grade.start), None)
            stated = self._nearest("total_score", anchor)
            if stated is not None:
                score = stated.figure.scaled
            elif self.workbook is not None and isinstance(self.workbook.get("total_score"), int | float):
                score = float(self.workbook["total_score"])
            else:
                continue
            due = grade_for(score, self.scoring.grades)
            if due is None or due == grade.grade or not self._once("grade", grade.paragraph.number, grade.start):
                continue
            yield self._finding(
                rules.GRADE_MISMATCH, anchor, key="grade", expected=due, actual=grade.written,
                expected_text=due, actual_text=grade.written, score=f"{score:g}",
            )  # fmt: skip

    # -- against the workbook ---------------------------------------------------------------

    def _workbook(self) -> Iterator[ReportFinding]:
        if self.workbook is None:
            return
        tables = table_sheets(self.layout)
        for key, mentions in self.by_key.items():
            if key.startswith("count:"):
                table = key.removeprefix("count:")
                rows = filled_rows(self.workbook, tables[table])
                for mention in mentions:
                    if mention.figure.value != len(rows):
                        yield self._finding(
                            rules.COUNT_MISMATCH, mention, key=None, expected=len(rows),
                            actual=mention.figure.value, expected_text=str(len(rows)),
                            actual_text=f"{mention.figure.value:g}", sheet=tables[table].name,
                        )  # fmt: skip
                continue
            placed = self.layout.by_key.get(key)
            if placed is None:
                continue
            value = self.workbook.get(key)
            for mention in mentions:
                number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
                if number is not None and mention.figure.interval.contains(number):
                    continue
                yield self._finding(
                    rules.DIFFERS_FROM_WORKBOOK, mention, key=key, expected=value,
                    actual=mention.figure.scaled, label=mention.words or self._label(key),
                    actual_text=mention.written,
                    expected_text="（空）" if number is None else self._show(key, number),
                    cell=f"{placed.sheet}!{placed.cell_ref}",
                )  # fmt: skip
        grade = self.workbook.get("grade")
        names = {g.name: g.name for g in self.scoring.grades} if self.scoring else {}
        for stated in self.grades:
            if grade is not None and names.get(str(grade), grade) != stated.grade:
                placed = self.layout.by_key["grade"]
                anchor = Mention(stated.paragraph, stated.text, _AT(stated.start), "grade")
                yield self._finding(
                    rules.DIFFERS_FROM_WORKBOOK, anchor, key="grade", expected=grade,
                    actual=stated.written, label="等级", actual_text=stated.written,
                    expected_text=str(grade), cell=f"{placed.sheet}!{placed.cell_ref}",
                )  # fmt: skip


def _AT(start: int) -> Any:
    """A zero-width figure at ``start``: where a grade stands, for ordering and quoting."""
    from xlcheck.narrative.figures import Figure

    return Figure(start, start, 0.0, 0, "", "bare")


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
    stop = min((i for i in (text.find("；", marker), text.find(";", marker)) if i >= 0), default=sentence_end)
    return [m for m in after if marker < m.figure.start < min(stop, sentence_end)]


def _clause_words(mention: Mention) -> str:
    """The words before a figure in its clause (专项经费 for 专项经费 1,000.00 万元)."""
    start = clause_begin(mention.text, mention.figure.start)
    return mention.text[start : mention.figure.start].strip() or "合计"


def _is_total(mention: Mention) -> bool:
    lead = mention.text[max(0, mention.figure.start - 4) : mention.figure.start]
    return (mention.words in TOTAL_WORDS) or any(word in lead for word in TOTAL_WORDS)
