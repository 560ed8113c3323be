"""The checks on a report's scores: a total above the maximum, a score above its 分值 (the weight
the scoring sheet gives it, the workbook's 分值 of an indicator row, or the 分值 written beside it in
the same sentence), and a grade against its project's score."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from xlcheck.narrative import catalogue as rules
from xlcheck.narrative.arithmetic import ArithmeticChecks
from xlcheck.narrative.check_context import point_at
from xlcheck.narrative.figures import (
    DEDUCTION_WORDS,
    Figure,
    clause_begin,
    find_figures,
    sentence_span,
)
from xlcheck.narrative.results import ReportFinding
from xlcheck.narrative.stated import Mention
from xlcheck.spec import Grade

#: The last name in quotation marks before a score: the indicator it is the score of.
_QUOTED = re.compile(r"“([^“”]+)”")


def grade_for(score: float, grades: Sequence[Grade]) -> str | None:
    """The grade a stated score earns (a stated 0 too, unlike a blank workbook's)."""
    for grade in sorted(grades, key=lambda g: -g.minimum):
        if score >= grade.minimum:
            return grade.name
    return None


class ScoreChecks(ArithmeticChecks):
    """Scores and grades stated in a report."""

    def _scores(self) -> Iterator[ReportFinding]:
        if self.scoring is None and not self.role_keys:
            return
        yield from self._totals()
        for key, mentions in self.by_key.items():
            if not self.has_role(key, "score", "subtotal"):
                continue
            placed = self.layout.by_key[key]
            weight = placed.weight
            if weight is None and placed.group in self.row_weights and self.workbook is not None:
                row_weight = self.workbook.get(self.row_weights[placed.group])
                if isinstance(row_weight, int | float) and not isinstance(row_weight, bool):
                    weight = float(row_weight)
            if weight is None:
                continue
            for mention in mentions:
                if mention.figure.scaled > weight:
                    yield self._above_weight(mention, weight, key)
        yield from self._beside_weights()

    def _totals(self) -> Iterator[ReportFinding]:
        maximum, bonus = self.grading.max_score, self.grading.bonus_max
        for key, mentions in self.by_key.items():
            if not self.has_role(key, "total_score"):
                continue
            for mention in mentions:
                score = mention.figure.scaled
                if score > maximum + bonus:
                    yield self._finding(
                        rules.SCORE_ABOVE_MAXIMUM, mention, key=key, expected=maximum + bonus,
                        actual=score, actual_text=mention.written, maximum=f"{maximum + bonus:g}",
                        expected_text=f"{maximum + bonus:g} 分",
                    )  # fmt: skip
                elif score > maximum:
                    yield self._finding(
                        rules.BONUS_USED, mention, key=key, expected=maximum, actual=score,
                        actual_text=mention.written, base=f"{maximum:g}", bonus=f"{bonus:g}",
                    )  # fmt: skip

    def _above_weight(self, mention: Mention, weight: float, key: str | None) -> ReportFinding:
        self._once("weight", mention.paragraph.number, mention.figure.start)
        return self._finding(
            rules.SCORE_ABOVE_WEIGHT, mention, key=key, expected=weight,
            actual=mention.figure.scaled, actual_text=mention.written,
            label=_indicator_named(mention) or mention.words or self._label(key or ""),
            weight=f"{weight:g}",
        )  # fmt: skip

    def _beside_weights(self) -> Iterator[ReportFinding]:
        """A score written next to its 分值 in one sentence (得分 9 分（分值 8 分）; 分值 8 分，得分
        9 分), whatever field it is: the report's own arithmetic, with or without a workbook."""
        figures: dict[int, list[Figure]] = {}
        for mention in self.mentions:
            if mention.figure.kind != "score" or mention.paragraph.cell is not None:
                continue
            if mention.key is not None and self.has_role(mention.key, "total_score"):
                continue  # against the maximum instead
            text = mention.text
            lead = text[clause_begin(text, mention.figure.start) : mention.figure.start]
            if any(word in lead for word in DEDUCTION_WORDS):
                continue  # 扣 3 分: points taken off, not a score
            paragraph = mention.paragraph.number
            if paragraph not in figures:
                figures[paragraph] = find_figures(text)
            weight = _weight_beside(mention, figures[paragraph])
            if weight is None or mention.figure.scaled <= weight.scaled:
                continue
            if self._once("weight", paragraph, mention.figure.start):
                yield self._above_weight(mention, weight.scaled, mention.key)

    def _grade_checks(self) -> Iterator[ReportFinding]:
        if self.scoring is None and not self.role_keys:
            return
        for grade in self.grades:
            anchor = Mention(grade.paragraph, grade.text, point_at(grade.start), None)
            totals = [
                m
                for key, mentions in self.by_key.items()
                if self.has_role(key, "total_score")
                and (grade.scope is None or self.instance(key) in (grade.scope, None))
                for m in mentions
            ]
            stated = min(totals, key=lambda m: self._closeness(m, anchor), default=None)
            total_key = self.role_key("total_score", grade.scope)
            on_file = self.workbook.get(total_key) if self.workbook and total_key else None
            if stated is not None:
                score = stated.figure.scaled
            elif isinstance(on_file, int | float) and not isinstance(on_file, bool):
                score = float(on_file)
            else:
                continue
            due = grade_for(score, self.grading.grades)
            if (
                due is None
                or due == grade.grade
                or not self._once("grade", grade.paragraph.number, grade.start)
            ):
                continue
            yield self._finding(
                rules.GRADE_MISMATCH, anchor, key=self.role_key("grade", grade.scope),
                expected=due, actual=grade.written, expected_text=due,
                actual_text=grade.written, score=f"{score:g}",
            )  # fmt: skip

    @staticmethod
    def _closeness(mention: Mention, anchor: Mention) -> tuple[int, bool, int]:
        return (
            abs(mention.paragraph.number - anchor.paragraph.number),
            mention.paragraph.number > anchor.paragraph.number,
            abs(mention.figure.start - anchor.figure.start),
        )


def _weight_beside(mention: Mention, figures: Sequence[Figure]) -> Figure | None:
    """The 分值 written right before or after a score in its sentence (no other score between)."""
    start, end = sentence_span(mention.text, mention.figure.start)
    scores = [f for f in figures if start <= f.start < end and f.kind == "score" and not f.change]
    at = next((i for i, f in enumerate(scores) if f.start == mention.figure.start), None)
    if at is None:
        return None
    neighbours = [scores[i] for i in (at - 1, at + 1) if 0 <= i < len(scores) and scores[i].weight]
    return min(neighbours, key=lambda f: abs(f.start - mention.figure.start), default=None)


def _indicator_named(mention: Mention) -> str | None:
    """The indicator a score is written after (“项目总成本”得分 9 分)."""
    start = sentence_span(mention.text, mention.figure.start)[0]
    names = _QUOTED.findall(mention.text[start : mention.figure.start])
    return names[-1] if names else None
