"""A draft → a Word document (.docx): headings, paragraphs, tables, highlighted placeholders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from xlcheck.narrative.drafting import DraftElement, DraftParagraph, DraftTable
from xlcheck.output_files import write_output

#: Fonts as Chinese government reports set them; Word and WPS have them, LibreOffice substitutes.
BODY_FONT = "仿宋"
HEADING_FONTS = {1: "黑体", 2: "楷体", 3: "仿宋"}
TITLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
BODY_SIZE = Pt(14)
HEADING_SIZES = {1: Pt(16), 2: Pt(15), 3: Pt(14)}


def _fonts(target: Any, east_asian: str, size: Pt, *, bold: bool | None = None) -> None:
    """Set a style's or run's Latin and East Asian font (python-docx sets only the Latin one)."""
    target.font.name = LATIN_FONT
    target.font.size = size
    if bold is not None:
        target.font.bold = bold
    fonts = target.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)


def _styles(document: Any) -> None:
    normal = document.styles["Normal"]
    _fonts(normal, BODY_FONT, BODY_SIZE)
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(0)
    for level, font in HEADING_FONTS.items():
        style = document.styles[f"Heading {level}"]
        _fonts(style, font, HEADING_SIZES[level], bold=True)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.italic = False
        style.paragraph_format.space_before = Pt(12)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
    title = document.styles["Title"]
    _fonts(title, TITLE_FONT, Pt(22), bold=True)
    title.font.color.rgb = RGBColor(0, 0, 0)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    # The default template draws a rule under Title; a report's title stands alone.
    borders = title.element.get_or_add_pPr().find(qn("w:pBdr"))
    if borders is not None:
        borders.getparent().remove(borders)


def _page(document: Any) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.top_margin = section.bottom_margin = Cm(2.54)
    section.left_margin = section.right_margin = Cm(2.8)


def _paragraph(document: Any, element: DraftParagraph) -> None:
    if element.kind == "page_break":
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        return
    if element.kind == "title":
        paragraph = document.add_paragraph(style="Title")
    elif element.kind == "heading":
        paragraph = document.add_heading(level=element.level)
    else:
        paragraph = document.add_paragraph()
        if element.align != "center":
            paragraph.paragraph_format.first_line_indent = Pt(28)  # two characters
    if element.align == "center":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for span in element.spans:
        if not span.text:
            continue
        run = paragraph.add_run(span.text)
        if span.bold:
            run.bold = True
        if span.unit_text:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


#: The page's text width (A4 less the margins), shared out among a table's columns.
TEXT_WIDTH = Cm(21 - 2 * 2.8)


def _column_widths(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[Any]:
    """A narrow 序号, a wide first text column (the project's name), the rest alike; a table
    of named rows (其中：当年财政拨款) has its first column as wide as its longest row label."""
    count = len(header)
    if count >= 3 and header[0] == "序号":
        number, name = Cm(1.3), Cm(5.2)
        rest = int((TEXT_WIDTH - number - name) / (count - 2))
        return [number, name, *([rest] * (count - 2))]
    if count < 3:
        return [int(TEXT_WIDTH / count)] * count
    longest = max((len(row[0]) for row in (header, *rows) if row), default=4)
    first = min(max(Cm(0.42 * longest + 0.6), Cm(2.5)), Cm(5.5))
    rest = int((TEXT_WIDTH - first) / (count - 1))
    return [int(first), *([rest] * (count - 1))]


def _table(document: Any, element: DraftTable) -> None:
    table = document.add_table(rows=1 + len(element.rows), cols=len(element.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = _column_widths(element.header, element.rows)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid LibreOffice lays out by; Word reads the cells' widths
    for row_index, cells in enumerate((element.header, *element.rows)):
        for column_index, text in enumerate(cells):
            cell = table.cell(row_index, column_index)
            cell.width = widths[column_index]
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.line_spacing = 1.0
            run = paragraph.add_run(text)
            run.font.size = Pt(11)
            if row_index == 0:
                run.bold = True
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif column_index > 0 and _is_figure(text):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph()


def _is_figure(text: str) -> bool:
    return bool(text) and text.replace(".", "", 1).replace("%", "").replace("-", "").isdigit()


def build_document(elements: Sequence[DraftElement], *, title: str, comment: str) -> Any:
    """The python-docx document of a draft."""
    document = Document()
    _styles(document)
    _page(document)
    document.core_properties.title = title
    document.core_properties.author = "xlcheck"
    document.core_properties.comments = comment
    for element in elements:
        if isinstance(element, DraftTable):
            _table(document, element)
        else:
            _paragraph(document, element)
    return document


def write_document(
    elements: Sequence[DraftElement],
    out: Path,
    *,
    title: str,
    comment: str,
    force: bool = False,
    inputs: Sequence[Path] = (),
) -> Path:
    """Write the draft as a .docx at ``out`` (through ``write_output``: atomic, never an input)."""
    document = build_document(elements, title=title, comment=comment)

    def save(stream: BinaryIO) -> None:
        document.save(stream)

    return write_output(out, save, force=force, inputs=inputs)
