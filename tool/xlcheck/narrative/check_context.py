"""What every check on a report shares: the named figures by field, and how to word a finding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from xlcheck.cell_values import display, excel_round, json_value
from xlcheck.findings import Rule
from xlcheck.layout import Layout
from xlcheck.narrative.figures import UNITS, Figure
from xlcheck.narrative.labels import field_words
from xlcheck.narrative.repeats import instance_of, scoring_block
from xlcheck.narrative.results import ReportFinding
from xlcheck.narrative.stated import GradeMention, Mention
from xlcheck.rounding import Agreement, Interval, agreement, exact


class CheckContext:
    """One report's named figures (by field key), the workbook's values, and the helpers the
    checks word their findings with."""

    def __init__(
        self,
        layout: Layout,
        mentions: Sequence[Mention],
        grades: Sequence[GradeMention],
        workbook: Mapping[str, Any] | None = None,
        alt_bases: Mapping[str, tuple[str, ...]] | None = None,
    ):
        """``layout``: the workbook's when there is one (every project's sheet, inserted rows);
        ``alt_bases``: rate key → the other bases the report template names for it."""
        self.layout = layout
        self.mentions = mentions
        self.grades = grades
        self.workbook = workbook
        self.alt_bases = alt_bases or {}
        self.scoring = scoring_block(layout.spec)
        self.grading = layout.spec.grading
        self.by_key: dict[str, list[Mention]] = {}
        for mention in mentions:
            if mention.key is not None:
                self.by_key.setdefault(mention.key, []).append(mention)
        self.checked: set[int] = set()
        self.reported: set[tuple[Any, ...]] = set()
        #: (role, instance number or None) → the field playing it there: total_score, grade.
        self.role_keys: dict[tuple[str, int | None], str] = {}
        #: An indicator row (field group) → its 分值 field, for rows the unit weighs itself.
        self.row_weights: dict[str, str] = {}
        for placed in layout.fields:
            if placed.role is None:
                continue
            instance = instance_of(layout, placed)
            number = instance.number if instance is not None else None
            self.role_keys.setdefault((placed.role, number), placed.key)
            if placed.role == "weight" and placed.group is not None:
                self.row_weights.setdefault(placed.group, placed.key)

    def role_key(self, role: str, instance: int | None) -> str | None:
        """The field playing ``role`` in project ``instance`` (or on a sheet written once)."""
        return self.role_keys.get((role, instance)) or self.role_keys.get((role, None))

    def instance(self, key: str) -> int | None:
        placed = self.layout.by_key.get(key)
        found = instance_of(self.layout, placed) if placed is not None else None
        return found.number if found is not None else None

    def has_role(self, key: str, *roles: str) -> bool:
        placed = self.layout.by_key.get(key)
        return placed is not None and placed.role in roles

    def _finding(
        self,
        rule: Rule,
        mention: Mention,
        *,
        key: str | None,
        expected: Any,
        actual: Any,
        **params: Any,
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
            mention.figure.value,
            mention.figure.decimals,
            computed.scaled(1 / scale),
            point=point / scale,
        )

    def _operand(self, key: str, anchor: Mention) -> tuple[Interval, float, str] | None:
        """An operand's interval, value and text: as the report states it, else the workbook's."""
        mention = self._nearest(key, anchor)
        if mention is not None:
            return mention.figure.interval, mention.figure.scaled, mention.written
        value = self.workbook.get(key) if self.workbook is not None else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return exact(float(value)), float(value), self._show(key, float(value))
        return None


def point_at(start: int) -> Figure:
    """A zero-width figure at ``start``: where a grade stands, for ordering and quoting."""
    return Figure(start, start, 0.0, 0, "", "bare")
