"""The checks on a report's figures: its arithmetic (``arithmetic``), its scores and grade
against the scoring sheet, and with a workbook every named figure against its verified value."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from xlcheck.narrative import catalogue as rules
from xlcheck.narrative.arithmetic import ArithmeticChecks
from xlcheck.narrative.check_context import point_at
from xlcheck.narrative.mentions import Mention
from xlcheck.narrative.outline import filled_rows, table_sheets
from xlcheck.narrative.results import ReportFinding
from xlcheck.spec import Grade


def grade_for(score: float, grades: Sequence[Grade]) -> str | None:
    for grade in sorted(grades, key=lambda g: -g.minimum):
        if score >= grade.minimum:
            return grade.name
    return None


class ReportChecks(ArithmeticChecks):
    """All checks on one report's named figures."""

    def findings(self) -> list[ReportFinding]:
        found = [
            *self._relations(),
            *self._text_totals(),
            *self._scores(),
            *self._grade_checks(),
            *self._workbook(),
        ]
        return sorted(found, key=ReportFinding.sort_key)

    def _scores(self) -> Iterator[ReportFinding]:
        if self.scoring is None:
            return
        maximum, bonus = self.grading.max_score, self.grading.bonus_max
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
            if (
                placed is None
                or not key.startswith(("score.", "subtotal."))
                or placed.weight is None
            ):
                continue
            for mention in mentions:
                if mention.figure.scaled > placed.weight:
                    yield self._finding(
                        rules.SCORE_ABOVE_WEIGHT, mention, key=key, expected=placed.weight,
                        actual=mention.figure.scaled, actual_text=mention.written,
                        label=self._label(key),
                        weight=f"{placed.weight:g}",
                    )  # fmt: skip

    def _table_sheet(self, table: str) -> str:
        """The sheet a table is on (项目支出 for the projects table)."""
        return next((f.sheet for f in self.layout.fields if f.table == table), table)

    def _grade_checks(self) -> Iterator[ReportFinding]:
        if self.scoring is None:
            return
        for grade in self.grades:
            anchor = Mention(grade.paragraph, grade.text, point_at(grade.start), None)
            stated = self._nearest("total_score", anchor)
            if stated is not None:
                score = stated.figure.scaled
            elif self.workbook is not None and isinstance(
                self.workbook.get("total_score"), int | float
            ):
                score = float(self.workbook["total_score"])
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
                rules.GRADE_MISMATCH, anchor, key="grade", expected=due, actual=grade.written,
                expected_text=due, actual_text=grade.written, score=f"{score:g}",
            )  # fmt: skip

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
                            actual_text=f"{mention.figure.value:g}", sheet=self._table_sheet(table),
                        )  # fmt: skip
                continue
            placed = self.layout.by_key.get(key)
            if placed is None:
                continue
            value = self.workbook.get(key)
            for mention in mentions:
                number = (
                    float(value)
                    if isinstance(value, int | float) and not isinstance(value, bool)
                    else None
                )
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
        names = {g.name: g.name for g in self.grading.grades}
        for stated in self.grades:
            if grade is not None and names.get(str(grade), grade) != stated.grade:
                placed = self.layout.by_key["grade"]
                anchor = Mention(stated.paragraph, stated.text, point_at(stated.start), "grade")
                yield self._finding(
                    rules.DIFFERS_FROM_WORKBOOK, anchor, key="grade", expected=grade,
                    actual=stated.written, label="等级", actual_text=stated.written,
                    expected_text=str(grade), cell=f"{placed.sheet}!{placed.cell_ref}",
                )  # fmt: skip
