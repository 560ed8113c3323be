"""Which field each stated figure is: labels and aliases from the spec and the report template.

A figure is named by the label that ends closest before it in its clause (预算数 1133.49 万元,
自评得分为101分). When one label names several fields (基本支出 is a budget line and a spending
figure), the field whose context words (年初预算, 按用途 …) were written last before it wins; when
nothing tells them apart the figure stays unnamed and is not checked, rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from xlcheck.layout import Layout, PlacedField
from xlcheck.narrative.figures import (
    Figure,
    clause_begin,
    find_figures,
    mask_non_figures,
    normalise_text,
    previous_word_before,
    sentence_span,
)
from xlcheck.narrative.outline import ReportTemplate, table_sheets
from xlcheck.narrative.report_text import ReportParagraph
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


@dataclass(frozen=True)
class Mention:
    """A stated figure and what it states.

    Attributes:
        key: the field key it states (``count:projects`` for a count of table rows), or None.
        words: the label as written before it.
        part_of: for a share (占 72.44%), the mention of the figure it is a share of.
    """

    paragraph: ReportParagraph
    text: str
    figure: Figure
    key: str | None
    words: str | None = None
    part_of: Mention | None = None

    @property
    def sentence(self) -> str:
        start, end = sentence_span(self.text, self.figure.start)
        return self.text[start:end].strip()

    @property
    def written(self) -> str:
        """The figure as written: 1,133.49 万元."""
        return self.text[self.figure.start : self.figure.end].strip()


@dataclass(frozen=True)
class GradeMention:
    paragraph: ReportParagraph
    text: str
    start: int
    grade: str
    written: str

    @property
    def sentence(self) -> str:
        start, end = sentence_span(self.text, self.start)
        return self.text[start:end].strip()


@dataclass(frozen=True)
class _Label:
    words: str
    key: str
    needs_context: bool


class Labeller:
    """Names the figures of one report for one spec and report template."""

    def __init__(self, layout: Layout, template: ReportTemplate):
        self.layout = layout
        self.template = template
        self.labels = sorted(_labels(layout, template), key=lambda label: -len(label.words))
        self.contexts = {
            placed.key: (*template.contexts.get(placed.key, ()), *_groups(placed))
            for placed in layout.fields
        }
        self.ratios = [
            p for p in layout.fields if p.spec.derive is not None and p.spec.derive.verb == "ratio"
        ]

    def mentions(self, paragraphs: Sequence[ReportParagraph]) -> list[Mention]:
        found: list[Mention] = []
        headings: list[str] = []
        for paragraph in paragraphs:
            if paragraph.cell is not None:
                continue
            text = normalise_text(paragraph.text)
            if paragraph.heading:
                headings = [*headings[-2:], text]
            found.extend(self._paragraph(paragraph, text, "\n".join(headings)))
        found.extend(_TableReader(self).mentions(paragraphs))
        return found

    def _paragraph(self, paragraph: ReportParagraph, text: str, headings: str) -> Iterator[Mention]:
        masked = mask_non_figures(text)
        named: list[Mention] = []
        for figure in find_figures(text):
            if figure.change or figure.weight or figure.kind == "points":
                continue
            mention = self._name(paragraph, text, masked, figure, headings, named)
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
    ) -> Mention | None:
        start = clause_begin(masked, figure.start)
        lead = masked[start : figure.start]
        counted = self._count(text, figure, lead)
        if counted is not None:
            return Mention(paragraph, text, figure, counted, lead.strip())
        if figure.share_word and figure.kind == "percent":
            context = headings + "\n" + masked[:start]
            return self._share(paragraph, text, figure, lead, context, earlier)
        hit = self._closest_label(lead)
        if hit is None:
            return Mention(paragraph, text, figure, None)
        words, at = hit
        if previous_word_before(masked, start + at):
            return None  # last year's figure: not this report's to check
        if figure.kind == "bare" and lead[at + len(words) :].strip(" :："):
            return Mention(
                paragraph, text, figure, None
            )  # a bare number only right after its label
        context = headings + "\n" + masked[: start + at]
        key = self._choose(words, figure, context)
        if key is not None and figure.kind == "percent" and self._kind(key) != "percent":
            key = self._ratio_of(key, None)  # 项目支出 27.56%: the share of 项目支出
        return Mention(paragraph, text, figure, key, words)

    def _closest_label(self, lead: str) -> tuple[str, int] | None:
        """The label ending closest before the figure (longest on a tie), and where it starts."""
        best: tuple[int, int, str] | None = None
        for label in self.labels:
            at = lead.rfind(label.words)
            if at < 0:
                continue
            end = at + len(label.words)
            if not _GAP.match(lead[end:]):
                continue
            candidate = (end, len(label.words), label.words)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        return None if best is None else (best[2], best[0] - best[1])

    def _choose(self, words: str, figure: Figure, context: str) -> str | None:
        candidates = [
            label
            for label in self.labels
            if label.words == words and self._kind(label.key) in _COMPATIBLE[figure.kind]
        ]
        if not candidates and figure.kind == "percent":  # 项目支出 27.56%: a share of 项目支出
            candidates = [
                label
                for label in self.labels
                if label.words == words and self._kind(label.key) in ("amount", "number")
            ]
        keys = list(dict.fromkeys(label.key for label in candidates))
        needs_context = any(label.needs_context for label in candidates)
        if len(keys) == 1 and not needs_context:
            return keys[0]
        placed = {
            key: max(context.rfind(word) for word in self.contexts.get(key, ("\0",)))
            for key in keys
        }
        ranked = sorted(placed.items(), key=lambda item: -item[1])
        if not ranked or ranked[0][1] < 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
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
    ) -> Mention:
        """占 72.44%: a share of the label before 占 (项目支出占…), else of the figure before it;
        of the label after 占 when one is named (占实际支出的 27.56%)."""
        occupy = lead.rfind("占")
        base = self._closest_label(lead[occupy + 1 :])
        base_key = self._choose(base[0], _AMOUNT, context) if base else None
        subject = self._closest_label(lead[:occupy]) if occupy > 0 else None
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
            part_key = self._choose(subject[0], _AMOUNT, context)
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
        for paragraph in paragraphs:
            text = normalise_text(paragraph.text)
            for match in pattern.finditer(text):
                grade = match.group("grade")
                if len(grade) == 1 and match.group("after") is None:
                    continue  # 自评中发现…: 中 here is not a grade
                found.append(
                    GradeMention(paragraph, text, match.start("grade"), names[grade], grade)
                )
        return found


_AMOUNT = Figure(0, 0, 0.0, 0, "万元", "amount")


def _labels(layout: Layout, template: ReportTemplate) -> Iterator[_Label]:
    needs = set(template.needs_context)
    tables = table_sheets(layout)
    for placed in layout.fields:
        if placed.table in tables or placed.key.startswith(
            ("weight.", "subtotal_weight.", "reason.")
        ):
            continue
        words = field_words(placed)
        for word in {words, *template.aliases.get(placed.key, ())}:
            if word:
                yield _Label(word, placed.key, word in needs)


def field_words(placed: PlacedField) -> str:
    """How a report names a field: its label, an indicator's or a part's name for scores."""
    parts = placed.label_path.split("/")
    if placed.key.startswith("score."):
        return parts[-2]
    if placed.key.startswith("subtotal."):
        return parts[1]
    if placed.key == "grade":
        return ""
    return placed.spec.label


def _groups(placed: PlacedField) -> tuple[str, ...]:
    """The headings a field sits under in its sheet (年初预算, 实际支出/基本支出)."""
    return tuple(placed.label_path.split("/")[1:-1])


class _TableReader:
    """Figures in Word tables: a table with the columns of a spec table (项目支出) states its rows;
    any other table states each figure of a row named by its first cell (评分表's parts)."""

    def __init__(self, labeller: Labeller):
        self.labeller = labeller
        self.tables = table_sheets(labeller.layout)

    def mentions(self, paragraphs: Sequence[ReportParagraph]) -> list[Mention]:
        grids: dict[int, dict[tuple[int, int], ReportParagraph]] = {}
        for paragraph in paragraphs:
            if paragraph.cell is not None:
                grids.setdefault(paragraph.cell.table, {})[
                    (paragraph.cell.row, paragraph.cell.column)
                ] = paragraph
        found: list[Mention] = []
        for grid in grids.values():
            found.extend(self._grid(grid))
        return found

    def _grid(self, grid: Mapping[tuple[int, int], ReportParagraph]) -> Iterator[Mention]:
        header = {column: _bare_header(p.text) for (row, column), p in grid.items() if row == 0}
        table, columns = self._spec_table(header)
        for (row, column), paragraph in sorted(grid.items()):
            if row == 0 or column == 0:
                continue
            text = normalise_text(paragraph.text)
            figures = [f for f in find_figures(text) if f.kind != "points"]
            if len(figures) != 1:
                continue
            figure = figures[0]
            if text.strip() != text[figure.start : figure.end].strip():
                continue  # a name or a note that holds a number, not a figure
            unit = _header_unit(grid[(0, column)].text) if (0, column) in grid else ""
            if figure.kind == "bare" and unit:
                figure = Figure(
                    figure.start,
                    figure.end,
                    figure.value,
                    figure.decimals,
                    unit,
                    "amount" if unit.endswith("元") else "bare",
                )
            first = grid.get((row, 0))
            row_label = normalise_text(first.text).strip() if first else ""
            if table is not None and column in columns:
                number = int(row_label) if row_label.isdigit() else None
                if number is not None:
                    key = f"{table}[{number}].{columns[column]}"
                elif row_label in ("合计", "总计"):
                    key = f"{table}.total.{columns[column]}"
                else:
                    continue
                if key in self.labeller.layout.by_key:
                    yield Mention(paragraph, text, figure, key, header.get(column))
                continue
            heading = header.get(column, "")
            if heading.endswith(("分值", "满分", "权重")):
                continue
            hit = self.labeller._closest_label(row_label + " ")
            named = self.labeller._choose(hit[0], figure, heading) if hit else None
            yield Mention(paragraph, text, figure, named, row_label)

    def _spec_table(self, header: Mapping[int, str]) -> tuple[str | None, dict[int, str]]:
        for key, sheet in self.tables.items():
            labels = {c.label: c.key for c in sheet.columns}
            columns = {column: labels[text] for column, text in header.items() if text in labels}
            if len(columns) >= 2:
                return key, columns
        return None, {}


def _bare_header(text: str) -> str:
    return re.sub(r"[（(][^）)]*[）)]\s*$", "", normalise_text(text).strip())


def _header_unit(text: str) -> str:
    match = re.search(r"[（(]([^）)]*)[）)]\s*$", normalise_text(text))
    return match.group(1) if match and match.group(1) in ("万元", "元", "亿元", "千元", "%") else ""
