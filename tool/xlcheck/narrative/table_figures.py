"""Figures in a report's Word tables: a table with the columns of a spec table (项目支出) states its
rows; a table with a grid block's rows and columns (the 资金 block: 年度资金总额 … × 年初预算数 …)
states those cells, of the project whose part of the report it is in; any other table states each
figure of a row named by its first cell (评分表's parts)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from xlcheck.layout import Layout
from xlcheck.layout.grid import GridBlock, cell_key
from xlcheck.narrative.figures import Figure, find_figures, normalise_text
from xlcheck.narrative.repeats import grid_blocks, table_sheets
from xlcheck.narrative.report_text import ReportParagraph
from xlcheck.narrative.sections import Scope, Sections
from xlcheck.narrative.stated import Mention


class Namer(Protocol):
    """What names a figure by the words before it (``mentions.Labeller``)."""

    layout: Layout
    sections: Sections

    def closest_label(self, lead: str) -> tuple[str, int] | None: ...

    def choose(self, words: str, figure: Figure, context: str, scope: int | None) -> str | None: ...


def table_mentions(
    namer: Namer, paragraphs: Sequence[ReportParagraph], scopes: Sequence[Scope]
) -> list[Mention]:
    """Every figure stated in the report's tables."""
    return _TableReader(namer).mentions(paragraphs, scopes)


class _TableReader:
    """Figures in Word tables: a table with the columns of a spec table (项目支出) states its rows;
    any other table states each figure of a row named by its first cell (评分表's parts)."""

    def __init__(self, namer: Namer):
        self.namer = namer
        self.by_key = namer.layout.by_key
        self.tables = table_sheets(namer.layout.spec)
        self.grids = grid_blocks(namer.layout.spec)

    def mentions(
        self, paragraphs: Sequence[ReportParagraph], scopes: Sequence[Scope]
    ) -> list[Mention]:
        cells: dict[int, dict[tuple[int, int], ReportParagraph]] = {}
        table_scopes: dict[int, int | None] = {}
        for paragraph, scope in zip(paragraphs, scopes, strict=True):
            if paragraph.cell is not None:
                table_scopes.setdefault(paragraph.cell.table, scope.at(0))
                cells.setdefault(paragraph.cell.table, {})[
                    (paragraph.cell.row, paragraph.cell.column)
                ] = paragraph
        found: list[Mention] = []
        for table, grid in cells.items():
            found.extend(self._table(grid, table_scopes[table]))
        return found

    def _key(self, key: str, scope: int | None) -> str | None:
        """A cell's key in the project ``scope`` (or of a sheet written once); None if neither."""
        scoped = self.namer.sections.prefix(scope) + key
        if scoped in self.by_key:
            return scoped
        return key if key in self.by_key else None

    def _table(
        self, grid: Mapping[tuple[int, int], ReportParagraph], scope: int | None
    ) -> Iterator[Mention]:
        header = {column: _bare_header(p.text) for (row, column), p in grid.items() if row == 0}
        table, columns = self._spec_table(header)
        block, grid_columns = self._grid_block(header)
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
                    key = self._key(f"{table}[{number}].{columns[column]}", scope)
                elif row_label in ("合计", "总计"):
                    key = self._key(f"{table}.total.{columns[column]}", scope)
                else:
                    continue
                if key is not None:
                    yield Mention(paragraph, text, figure, key, header.get(column))
                continue
            if block is not None and column in grid_columns:
                rows = {normalise_text(r.label): r.key for r in block.rows}
                if row_label in rows:
                    cell = cell_key(block.key, rows[row_label], grid_columns[column])
                    key = self._key(cell, scope)
                    words = f"{row_label}{header.get(column, '')}"
                    yield Mention(paragraph, text, figure, key, words)
                continue
            heading = header.get(column, "")
            if heading.endswith(("分值", "满分", "权重")):
                continue
            hit = self.namer.closest_label(row_label + " ")
            named = self.namer.choose(hit[0], figure, heading, scope) if hit else None
            yield Mention(paragraph, text, figure, named, row_label)

    def _spec_table(self, header: Mapping[int, str]) -> tuple[str | None, dict[int, str]]:
        for key, sheet in self.tables.items():
            labels = {c.label: c.key for c in sheet.columns}
            columns = {column: labels[text] for column, text in header.items() if text in labels}
            if len(columns) >= 2:
                return key, columns
        return None, {}

    def _grid_block(self, header: Mapping[int, str]) -> tuple[GridBlock | None, dict[int, str]]:
        """The grid block whose column headers the table's header row has (two at least)."""
        for block in self.grids.values():
            labels = {normalise_text(c.header): c.field.key for c in block.columns}
            columns = {column: labels[text] for column, text in header.items() if text in labels}
            if len(columns) >= 2:
                return block, columns
        return None, {}


def _bare_header(text: str) -> str:
    return re.sub(r"[（(][^）)]*[）)]\s*$", "", normalise_text(text).strip())


def _header_unit(text: str) -> str:
    match = re.search(r"[（(]([^）)]*)[）)]\s*$", normalise_text(text))
    return match.group(1) if match and match.group(1) in ("万元", "元", "亿元", "千元", "%") else ""
