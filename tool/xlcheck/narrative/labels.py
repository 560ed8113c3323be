"""The words a report names each field by: the spec's labels and the report template's aliases,
and the context words that tell apart fields named alike (年初预算 before 基本支出; 当年财政拨款
before 全年执行数). With a workbook, its own words count too: an indicator row's 三级指标 name
tells which row a 得分 written after it is."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from xlcheck.layout import Layout, PlacedField
from xlcheck.narrative.figures import normalise_text
from xlcheck.narrative.outline_model import ReportTemplate, key_pattern
from xlcheck.narrative.repeats import instance_of, table_sheets
from xlcheck.records import record

#: Fields no report states as a figure of its own: weights (分值 figures are read as weights) and
#: written reasons.
_UNSTATED_ROLES = ("weight", "subtotal_weight", "reason")


@record
class Label:
    words: str
    key: str
    needs_context: bool


class Vocabulary:
    """Every label of one layout (every instance of a sheet written once per item included), by
    its words, with each field's context words and the instance it belongs to."""

    def __init__(
        self, layout: Layout, template: ReportTemplate, values: Mapping[str, Any] | None = None
    ):
        self.layout = layout
        aliases = [(key_pattern(p), words) for p, words in template.aliases.items()]
        contexts = [(key_pattern(p, group=True), words) for p, words in template.contexts.items()]
        needs = set(template.needs_context)
        tables = table_sheets(layout.spec)
        self.by_words: dict[str, list[Label]] = {}
        self.contexts: dict[str, tuple[str, ...]] = {}
        #: Field key → its instance's number (None on a sheet written once).
        self.instance: dict[str, int | None] = {}
        row_names = dict(_row_names(layout, values or {}))
        for placed in layout.fields:
            found = instance_of(layout, placed)
            self.instance[placed.key] = found.number if found is not None else None
            own = [w for regex, words in contexts if regex.fullmatch(placed.key) for w in words]
            named = row_names.get(placed.group or "", ())
            self.contexts[placed.key] = (*own, *_groups(placed), *named)
            if placed.table in tables or placed.role in _UNSTATED_ROLES:
                continue
            if placed.key.startswith(("weight.", "subtotal_weight.", "reason.")):
                continue
            extra = [w for regex, words in aliases if regex.fullmatch(placed.key) for w in words]
            for word in dict.fromkeys([field_words(placed), *extra]):
                if word:
                    label = Label(word, placed.key, word in needs)
                    self.by_words.setdefault(word, []).append(label)
        #: A grid row that adds up others (年度资金总额) → the rows it adds up (其中 …).
        self.parts_of: dict[str, set[str]] = {}
        for placed in layout.fields:
            derive = placed.spec.derive
            if placed.group is None or derive is None or derive.verb != "sum":
                continue
            for operand in derive.field_keys():
                group = layout.by_key[operand].group
                if group is not None and group != placed.group:
                    self.parts_of.setdefault(placed.group, set()).add(group)
        #: Distinct label words, longest first.
        self.words = sorted(self.by_words, key=len, reverse=True)
        counts: dict[str, int] = {}
        for sheet in layout.sheets:
            if sheet.sheet.repeat is not None:
                counts[sheet.sheet.repeat.key] = counts.get(sheet.sheet.repeat.key, 0) + 1
        #: True when no sheet is written more than once: every field is the report's one project's.
        self.single = all(count <= 1 for count in counts.values())

    def in_scope(self, key: str, scope: int | None) -> bool:
        """Whether a figure about instance ``scope`` can be the field ``key``: fields of a sheet
        written once always, an instance's fields only in its own scope (in any scope when the
        workbook has one instance)."""
        instance = self.instance.get(key)
        return instance is None or instance == scope or (scope is None and self.single)

    def whole_of(self, keys: Sequence[str]) -> str | None:
        """Of fields named alike that nothing written tells apart, the one a report means when
        it names no part: the whole (全年执行数 with no source named is 年度资金总额's, not 其中
        当年财政拨款's). None unless one of ``keys`` is in the row adding up all the others'."""
        groups = {key: self.layout.by_key[key].group for key in keys}
        wholes = [
            key
            for key, group in groups.items()
            if group is not None
            and {g for g in groups.values() if g != group} <= self.parts_of.get(group, set())
        ]
        return wholes[0] if len(wholes) == 1 and len(keys) > 1 else None


def _row_names(layout: Layout, values: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(row group, its name) for each indicator row whose name a workbook holds."""
    for placed in layout.fields:
        value = values.get(placed.key)
        if (
            placed.role == "indicator_name"
            and placed.group
            and isinstance(value, str)
            and value.strip()
        ):
            yield placed.group, (normalise_text(value.strip()),)


def field_words(placed: PlacedField) -> str:
    """How a report names a field: its label, an indicator's or a part's name for scores."""
    parts = placed.label_path.split("/")
    if placed.key.startswith("score."):
        return parts[-2]
    if placed.key.startswith("subtotal."):
        return parts[1]
    if placed.role == "grade":
        return ""
    return placed.spec.label


def _groups(placed: PlacedField) -> tuple[str, ...]:
    """The headings a field sits under in its sheet (年初预算, 实际支出/基本支出)."""
    return tuple(placed.label_path.split("/")[1:-1])
