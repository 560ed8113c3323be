"""Which field each stated figure is: labels and aliases from the spec and the report template.

A figure is named by the label that ends closest before it in its clause (预算数 1133.49 万元,
自评得分为101分). When one label names several fields (基本支出 is a budget line and a spending
figure), the field whose context words (年初预算, 按用途 …) were written last before it wins; when
nothing tells them apart the figure stays unnamed and is not checked, rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from xlcheck.layout import Layout
from xlcheck.narrative.figures import (
    Figure,
    clause_begin,
    find_figures,
    mask_non_figures,
    normalise_text,
    previous_word_before,
    sentence_span,
)
from xlcheck.narrative.labels import Vocabulary
from xlcheck.narrative.outline_model import ReportTemplate
from xlcheck.narrative.report_text import ReportParagraph
from xlcheck.narrative.sections import Scope, Sections
from xlcheck.narrative.stated import GradeMention, Mention
from xlcheck.narrative.table_figures import table_mentions
from xlcheck.spec import Grade

#: What may stand between a label and its figure: 自评得分为 101 分, 预算编制部分得 20 分.
#: Anything else (局领导职数设局长 1 名) means the number is not the labelled figure.
_GAP = re.compile(
    r"^(?:为|是|达到|达|约|共计|共|合计|总计|有|计|仅|分别为|部分得|部分|得分|得|总额|金额|的|[:：\s])*$"
)
#: Field kinds each figure kind can state; a bare number only right after its label.
_COMPATIBLE = {
    "amount": ("amount", "number"),
    "percent": ("percent",),
    "count": ("integer",),
    "score": ("score",),
    "bare": ("amount", "number", "integer", "score"),
}
_COUNT_LEAD = re.compile(r"(?:等|共计|共|合计|计)\s*$")


class Labeller:
    """Names the figures of one report for one spec and report template."""

    def __init__(
        self, layout: Layout, template: ReportTemplate, values: Mapping[str, Any] | None = None
    ):
        """``layout`` and ``values``: the workbook's when the report is checked against one (its
        projects' names and its indicator rows' names then tell the figures apart)."""
        self.layout = layout
        self.template = template
        self.vocabulary = Vocabulary(layout, template, values)
        self.sections = Sections(layout, template, values)
        self.ratios = [
            p for p in layout.fields if p.spec.derive is not None and p.spec.derive.verb == "ratio"
        ]

    def scopes(self, paragraphs: Sequence[ReportParagraph]) -> list[Scope]:
        """Which project each paragraph is about (see ``sections``)."""
        return self.sections.scopes(paragraphs)

    def mentions(self, paragraphs: Sequence[ReportParagraph]) -> list[Mention]:
        found: list[Mention] = []
        headings: list[str] = []
        scopes = self.scopes(paragraphs)
        for paragraph, scope in zip(paragraphs, scopes, strict=True):
            if paragraph.cell is not None:
                continue
            text = normalise_text(paragraph.text)
            if paragraph.heading:
                headings = [*headings[-2:], text]
            found.extend(self._paragraph(paragraph, text, "\n".join(headings), scope))
        found.extend(table_mentions(self, paragraphs, scopes))
        return found

    def _paragraph(
        self, paragraph: ReportParagraph, text: str, headings: str, scope: Scope
    ) -> Iterator[Mention]:
        masked = mask_non_figures(text)
        named: list[Mention] = []
        for figure in find_figures(text):
            if figure.change or figure.weight or figure.kind == "points":
                continue
            mention = self._name(
                paragraph, text, masked, figure, headings, named, scope.at(figure.start)
            )
            if mention is not None:
                named.append(mention)
                yield mention

    def _name(
        self,
        paragraph: ReportParagraph,
        text: str,
        masked: str,
        figure: Figure,
        headings: str,
        earlier: Sequence[Mention],
        scope: int | None,
    ) -> Mention | None:
        start = clause_begin(masked, figure.start)
        lead = masked[start : figure.start]
        counted = self._count(text, figure, lead)
        if counted is not None:
            return Mention(paragraph, text, figure, counted, lead.strip())
        if figure.share_word and figure.kind == "percent":
            context = headings + "\n" + text[:start]
            return self._share(paragraph, text, figure, lead, context, earlier, scope)
        hit = self.closest_label(lead)
        if hit is None:
            return Mention(paragraph, text, figure, None)
        words, at = hit
        if previous_word_before(masked, start + at):
            return None  # last year's figure: not this report's to check
        if figure.kind == "bare" and lead[at + len(words) :].strip(" :："):
            return Mention(
                paragraph, text, figure, None
            )  # a bare number only right after its label
        context = headings + "\n" + text[: start + at]
        key = self.choose(words, figure, context, scope)
        if key is not None and figure.kind == "percent" and self._kind(key) != "percent":
            key = self._ratio_of(key, None)  # 项目支出 27.56%: the share of 项目支出
        return Mention(paragraph, text, figure, key, words)

    def closest_label(self, lead: str) -> tuple[str, int] | None:
        """The label ending closest before the figure (longest on a tie), and where it starts."""
        best: tuple[int, int, str] | None = None
        for words in self.vocabulary.words:
            at = lead.rfind(words)
            if at < 0:
                continue
            end = at + len(words)
            if not _GAP.match(lead[end:]):
                continue
            candidate = (end, len(words), words)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        return None if best is None else (best[2], best[0] - best[1])

    def choose(self, words: str, figure: Figure, context: str, scope: int | None) -> str | None:
        """The field a figure written after ``words`` is, in the project ``scope``: the one
        label with those words, else the one whose context words were written last before it;
        None when nothing tells them apart."""
        labels = [
            label
            for label in self.vocabulary.by_words.get(words, ())
            if self.vocabulary.in_scope(label.key, scope)
        ]
        candidates = [
            label for label in labels if self._kind(label.key) in _COMPATIBLE[figure.kind]
        ]
        if not candidates and figure.kind == "percent":  # 项目支出 27.56%: a share of 项目支出
            candidates = [
                label for label in labels if self._kind(label.key) in ("amount", "number")
            ]
        keys = list(dict.fromkeys(label.key for label in candidates))
        needs_context = any(label.needs_context for label in candidates)
        if len(keys) == 1 and not needs_context:
            return keys[0]
        contexts = self.vocabulary.contexts
        # A context word every candidate has (资金 above each row of the 资金 block) tells none apart.
        shared = set.intersection(*(set(contexts[k]) for k in keys)) if len(keys) > 1 else set()
        # Where each candidate's context words end last: the name “项目总成本” ends after the 项目
        # inside it.
        placed = {
            key: max((_end(context, w) for w in contexts[key] if w not in shared), default=-1)
            for key in keys
        }
        ranked = sorted(placed.items(), key=lambda item: -item[1])
        if ranked and ranked[0][1] < 0:
            return self.vocabulary.whole_of(keys)
        if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]

    def _share(
        self,
        paragraph: ReportParagraph,
        text: str,
        figure: Figure,
        lead: str,
        context: str,
        earlier: Sequence[Mention],
        scope: int | None,
    ) -> Mention:
        """占 72.44%: a share of the label before 占 (项目支出占…), else of the figure before it;
        of the label after 占 when one is named (占实际支出的 27.56%)."""
        occupy = lead.rfind("占")
        base = self.closest_label(lead[occupy + 1 :])
        base_key = self.choose(base[0], _AMOUNT, context, scope) if base else None
        subject = self.closest_label(lead[:occupy]) if occupy > 0 else None
        sentence_start = sentence_span(text, figure.start)[0]
        part = next(
            (
                m
                for m in reversed(earlier)
                if m.figure.kind in ("amount", "bare") and m.figure.start >= sentence_start
            ),
            None,
        )
        if subject is not None:
            part_key = self.choose(subject[0], _AMOUNT, context, scope)
        else:
            part_key = part.key if part else None
        key = self._ratio_of(part_key, base_key) if part_key else None
        return Mention(paragraph, text, figure, key, "占", part_of=part)

    def _ratio_of(self, numerator: str | None, base: str | None) -> str | None:
        for placed in self.ratios:
            operands = placed.spec.derive.field_keys() if placed.spec.derive else ()
            if operands[:1] == (numerator,) and (base is None or operands[1:2] == (base,)):
                return placed.key
        return None

    def _count(self, text: str, figure: Figure, lead: str) -> str | None:
        if figure.kind not in ("count", "bare") or not _COUNT_LEAD.search(lead):
            return None
        sentence_start = sentence_span(text, figure.start)[0]
        before = text[sentence_start : figure.start]
        for table, nouns in self.template.counts.items():
            if any(noun in before for noun in nouns):
                return f"count:{table}"
        return None

    def _kind(self, key: str) -> str:
        return self.layout.by_key[key].spec.value_type

    def grades(
        self, paragraphs: Sequence[ReportParagraph], grades: Sequence[Grade]
    ) -> list[GradeMention]:
        """Grades stated in the report (自评等级为“良”, 自评优秀), by the spec's grade names."""
        names = {g.name: g.name for g in grades} | {a: g.name for g in grades for a in g.aliases}
        words = "|".join(
            re.escape(w) for w in sorted(self.template.grade_words, key=len, reverse=True)
        )
        tokens = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        if not words or not tokens:
            return []
        pattern = re.compile(
            rf"(?:{words})\s*(?:为|是|：|:)?\s*[“\"「]?(?P<grade>{tokens})(?P<after>[”\"」]|等级|级|档|$|[，。；、！,.;\s])?"
        )
        found = []
        for paragraph, scope in zip(paragraphs, self.scopes(paragraphs), strict=True):
            text = normalise_text(paragraph.text)
            for match in pattern.finditer(text):
                grade = match.group("grade")
                if len(grade) == 1 and match.group("after") is None:
                    continue  # 自评中发现…: 中 here is not a grade
                at = match.start("grade")
                found.append(GradeMention(paragraph, text, at, names[grade], grade, scope.at(at)))
        return found


def _end(text: str, word: str) -> int:
    """Where the last ``word`` in ``text`` ends; -1 when it is not there."""
    at = text.rfind(word)
    return at + len(word) if at >= 0 else -1


_AMOUNT = Figure(0, 0, 0.0, 0, "万元", "amount")
