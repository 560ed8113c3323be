"""The checks on a report's figures: its arithmetic (``arithmetic``), its scores and grade against
the scoring sheet (``score_checks``), and with a workbook every named figure against its verified
value, each project's against that project's cells."""

from __future__ import annotations

from collections.abc import Iterator

from xlcheck.narrative import catalogue as rules
from xlcheck.narrative.check_context import point_at
from xlcheck.narrative.repeats import filled_rows, instances, repeats, table_sheets
from xlcheck.narrative.results import ReportFinding
from xlcheck.narrative.score_checks import ScoreChecks
from xlcheck.narrative.stated import Mention


class ReportChecks(ScoreChecks):
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

    def _table_sheet(self, table: str) -> str:
        """The sheet a table is on (项目支出 for the projects table)."""
        return next((f.sheet for f in self.layout.fields if f.table == table), table)

    def _counts(self, name: str, mentions: list[Mention]) -> Iterator[ReportFinding]:
        """A stated count against the rows a table fills, or the sheets written once per item."""
        repeat = repeats(self.layout.spec).get(name)
        if repeat is not None:
            found = instances(self.layout, name)
            sheet = next(s.name for s in self.layout.spec.sheets if s.repeat == repeat)
            for mention in mentions:
                if mention.figure.value != len(found):
                    yield self._finding(
                        rules.SHEET_COUNT_MISMATCH, mention, key=None, expected=len(found),
                        actual=mention.figure.value, expected_text=str(len(found)),
                        actual_text=mention.written, sheet=sheet,
                        names="、".join(item.sheet for item in found),
                    )  # fmt: skip
            return
        count = len(filled_rows(self.workbook or {}, table_sheets(self.layout.spec)[name]))
        for mention in mentions:
            if mention.figure.value != count:
                yield self._finding(
                    rules.COUNT_MISMATCH, mention, key=None, expected=count,
                    actual=mention.figure.value, expected_text=str(count),
                    actual_text=f"{mention.figure.value:g}", sheet=self._table_sheet(name),
                )  # fmt: skip

    def _row_named(self, key: str, mention: Mention) -> str:
        """What a figure is called in a finding: its words, after its indicator row's name when
        the workbook names the row (补助村（社区）数量得分)."""
        words = mention.words or self._label(key)
        group = self.layout.by_key[key].group
        name_key = (
            next(
                (
                    f.key
                    for f in self.layout.fields
                    if f.group == group and f.role == "indicator_name"
                ),
                None,
            )
            if group is not None and self.workbook is not None
            else None
        )
        name = self.workbook.get(name_key) if self.workbook is not None and name_key else None
        return f"{name}{words}" if isinstance(name, str) and name.strip() else words

    def _workbook(self) -> Iterator[ReportFinding]:
        if self.workbook is None:
            return
        for key, mentions in self.by_key.items():
            if key.startswith("count:"):
                yield from self._counts(key.removeprefix("count:"), mentions)
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
                    actual=mention.figure.scaled, label=self._row_named(key, mention),
                    actual_text=mention.written,
                    expected_text="（空）" if number is None else self._show(key, number),
                    cell=f"{placed.sheet}!{placed.cell_ref}",
                )  # fmt: skip
        names = {g.name: g.name for g in self.grading.grades}
        for stated in self.grades:
            grade_key = self.role_key("grade", stated.scope)
            grade = self.workbook.get(grade_key) if grade_key is not None else None
            if grade_key is None or grade is None or names.get(str(grade), grade) == stated.grade:
                continue
            placed = self.layout.by_key[grade_key]
            anchor = Mention(stated.paragraph, stated.text, point_at(stated.start), grade_key)
            yield self._finding(
                rules.DIFFERS_FROM_WORKBOOK, anchor, key=grade_key, expected=grade,
                actual=stated.written, label="等级", actual_text=stated.written,
                expected_text=str(grade), cell=f"{placed.sheet}!{placed.cell_ref}",
            )  # fmt: skip
