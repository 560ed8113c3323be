"""Which project a report's figures are about: the instance of a sheet written once per item (one
项目支出绩效自评表 per project) each paragraph and figure of a report belongs to.

A report about several projects names each where its part begins: a title or heading with the
project's name (委托业务项目绩效自评报告), or a ``项目名称：……`` line. Everything below belongs to that
project until another is named; within a paragraph, a figure written after a project's name is
that project's. With a workbook the names are its projects'; without one they are learnt from
those markers, in order (the name field's label, and the outline's own titles and headings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from xlcheck.layout import Layout, lay_out
from xlcheck.narrative.figures import normalise_text
from xlcheck.narrative.outline_model import REFERENCE, UNIT_TEXT, ReportTemplate, key_pattern
from xlcheck.narrative.outline_references import walk
from xlcheck.narrative.repeats import instances, repeats
from xlcheck.narrative.report_text import ReportParagraph
from xlcheck.records import record
from xlcheck.spec import RepeatSpec, Spec

#: A line longer than this is a paragraph, not a title standing alone.
_TITLE_LENGTH = 60
#: What ends a name written after its label (项目名称：委托业务项目。).
_NAME_END = "。；;，,：:\n（(）)"


@record
class Scope:
    """Where a paragraph stands.

    Attributes:
        section: the instance (1, 2 …) of the part of the report the paragraph is in, if known.
        named: (offset, instance) for each project name the paragraph's text holds.
    """

    section: int | None = None
    named: tuple[tuple[int, int], ...] = ()

    def at(self, offset: int) -> int | None:
        """The instance a figure at ``offset`` is about: the last project named before it in the
        paragraph, else the section's, else the one project the paragraph names."""
        before = [instance for at, instance in self.named if at <= offset]
        if before:
            return before[-1]
        if self.section is not None:
            return self.section
        named = {instance for _, instance in self.named}
        return named.pop() if len(named) == 1 else None


class _Markers:
    """How a report says that a project's part begins: its name after the name field's label,
    or a title/heading shaped like the outline's."""

    def __init__(self, spec: Spec, template: ReportTemplate, repeat: RepeatSpec):
        name_key = f"{repeat.key}[1].{repeat.name_field}"
        placed = lay_out(spec).by_key.get(name_key)
        labels = {placed.spec.label} if placed is not None else set()
        for pattern, words in template.aliases.items():
            if key_pattern(pattern).fullmatch(name_key):
                labels.update(words)
        alternatives = "|".join(re.escape(w) for w in sorted(labels, key=len, reverse=True))
        self.labelled_pattern = (
            re.compile(
                rf"(?:{alternatives})\s*(?:[:：]|为|是)\s*[“\"]?(?P<name>[^{_NAME_END}“”\"]+)"
            )
            if alternatives
            else None
        )
        reference = f"{{{repeat.key}[*].{repeat.name_field}}}"
        headings = [b for b in walk(template.blocks) if b.kind in ("title", "heading")]
        self.headings = [
            _heading_pattern(b.text, reference) for b in headings if reference in b.text
        ]
        #: The outline's own fixed titles (项目支出绩效自评报告 on the cover): no project's.
        self.fixed = {
            "".join(normalise_text(b.text).split())
            for b in headings
            if not REFERENCE.search(b.text)
        }

    def labelled(self, text: str) -> str | None:
        """The project a ``项目名称：……`` statement names."""
        match = self.labelled_pattern.search(text) if self.labelled_pattern else None
        return match["name"].strip() if match else None

    def heading(self, paragraph: ReportParagraph, text: str) -> str | None:
        """The project a title or heading shaped like the outline's names."""
        if not _stands_alone(paragraph, text) or "".join(text.split()) in self.fixed:
            return None
        for pattern in self.headings:
            match = pattern.fullmatch(text.strip())
            if match:
                return match["name"].strip()
        return None

    def name(self, paragraph: ReportParagraph, text: str) -> str | None:
        """The project a paragraph says its part is about, if it does."""
        return self.heading(paragraph, text) or self.labelled(text)


def _heading_pattern(text: str, reference: str) -> re.Pattern[str]:
    """An outline heading as a pattern: the name's reference captured, other references and the
    unit's text as anything (``{project[*].project_name}绩效自评报告`` → ``(?P<name>.+?)绩效自评报告``)."""
    pieces = []
    position = 0
    named = False
    for match in re.finditer(f"{REFERENCE.pattern}|{UNIT_TEXT.pattern}", text):
        pieces.append(_literal(text[position : match.start()]))
        if match.group(0) == reference and not named:
            pieces.append("(?P<name>.+?)")
            named = True
        else:
            pieces.append(".*?")
        position = match.end()
    pieces.append(_literal(text[position:]))
    return re.compile("".join(pieces))


def _literal(text: str) -> str:
    """Outline text as a pattern; spaces (around figures) may or may not be written."""
    return "\\s*".join(re.escape(part) for part in normalise_text(text).split())


def section_names(
    paragraphs: Sequence[ReportParagraph], spec: Spec, template: ReportTemplate
) -> dict[str, tuple[str, ...]]:
    """Without a workbook: the projects a report names where their parts begin, in order, by
    repeat key: the ``项目名称：……`` statements, else the titles shaped like the outline's (a
    report with neither is about one project, under the sheet's name)."""
    found: dict[str, tuple[str, ...]] = {}
    for key, repeat in repeats(spec).items():
        markers = _Markers(spec, template, repeat)
        texts = [(p, normalise_text(p.text)) for p in paragraphs]
        names = [n for _, text in texts if (n := markers.labelled(text))]
        names = names or [n for p, text in texts if (n := markers.heading(p, text))]
        if names:
            found[key] = tuple(dict.fromkeys(names))
    return found


class Sections:
    """The scope of every paragraph of one report, for the first sheet the spec writes once per
    item (a spec without one gives every paragraph an empty scope)."""

    def __init__(
        self, layout: Layout, template: ReportTemplate, values: Mapping[str, Any] | None = None
    ):
        spec = layout.spec
        self.repeat = next(iter(repeats(spec).values()), None)
        self.names: dict[str, int] = {}
        self.count = 0
        self.markers = _Markers(spec, template, self.repeat) if self.repeat else None
        if self.repeat is None:
            return
        found = instances(layout, self.repeat.key)
        self.count = len(found)
        for item in found:
            value = (values or {}).get(f"{item.prefix}{self.repeat.name_field}")
            for name in (value, item.sheet):
                if isinstance(name, str) and name.strip():
                    self.names.setdefault(normalise_text(name.strip()), item.number)

    def prefix(self, instance: int | None) -> str:
        """The key prefix of an instance (``project[2].``); empty for none."""
        if self.repeat is None or instance is None:
            return ""
        return f"{self.repeat.key}[{instance}]."

    def scopes(self, paragraphs: Sequence[ReportParagraph]) -> list[Scope]:
        """One scope per paragraph, in order."""
        if self.repeat is None or self.markers is None:
            return [Scope() for _ in paragraphs]
        section = 1 if self.count == 1 else None
        ordered = sorted(self.names, key=len, reverse=True)
        scopes = []
        for paragraph in paragraphs:
            text = normalise_text(paragraph.text)
            named = _names_in(text, ordered, self.names)
            marked = self.markers.name(paragraph, text)
            if marked is not None:
                section = self._instance(marked)
            elif _stands_alone(paragraph, text) and len({n for _, n in named}) == 1:
                section = named[0][1]
            scopes.append(Scope(section, named))
        return scopes

    def _instance(self, name: str) -> int | None:
        """The instance a marker's name is: the one named so, or whose name it holds or is part
        of (委托业务项目 and 委托业务); None for a project the workbook does not have."""
        name = normalise_text(name)
        if name in self.names:
            return self.names[name]
        near = {n for known, n in self.names.items() if known in name or name in known}
        return near.pop() if len(near) == 1 else None


def _stands_alone(paragraph: ReportParagraph, text: str) -> bool:
    """A heading, or a title on a line of its own (a .txt report's 委托业务项目绩效自评报告): short,
    outside a table, no sentence in it."""
    if paragraph.heading:
        return True
    return (
        paragraph.cell is None
        and len(text) <= _TITLE_LENGTH
        and not any(mark in text for mark in "。；，,;")
    )


def _names_in(
    text: str, ordered: Sequence[str], names: Mapping[str, int]
) -> tuple[tuple[int, int], ...]:
    """Where the text names a project (longest names first; a shorter one inside a longer one is
    not a second mention)."""
    taken: list[tuple[int, int]] = []
    found = []
    for name in ordered:
        for match in re.finditer(re.escape(name), text):
            span = (match.start(), match.end())
            if any(start < span[1] and span[0] < end for start, end in taken):
                continue
            taken.append(span)
            found.append((match.start(), names[name]))
    return tuple(sorted(found))
