"""A written report (.docx, .txt, .md, .pdf) → its paragraphs in reading order, as plain text.

Paragraphs are numbered from 1 over the non-empty ones, body and table cells in reading order
(a .docx and the same text as .md number alike; a PDF's extracted text may group lines into
paragraphs differently, so its numbers can differ). Text extracted
from a PDF, or pasted from one, breaks lines (and pages) in mid-sentence, even in mid-number:
such lines are joined back into their paragraph before any figure is read.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xlcheck.errors import FileProblemError
from xlcheck.records import record

#: The report formats ``report check`` reads.
SUFFIXES = (".docx", ".txt", ".md", ".pdf")
#: A paragraph ends with one of these; a line without one continues on the next line or page.
_TERMINAL = tuple("。；：！？…”」』")
_HEADING = re.compile(
    r"^\s*(?:#+\s*)?(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、](?!\d))"
)
#: A line shorter than this that ends without punctuation is a line of its own (a cover line,
#: a heading); a longer one was cut by the page or the line width.
_SHORT_LINE = 20


@record
class TableCell:
    """Where a paragraph sits in a Word table: table number (from 0), row and column (from 0)."""

    table: int
    row: int
    column: int


@record
class ReportParagraph:
    """One paragraph of a report.

    Attributes:
        number: 1-based over the report's non-empty paragraphs, in reading order.
        text: the paragraph as written (line breaks inside it removed).
        heading: whether it is a heading (Word heading style, Markdown #, 一、/（一）/1. lines).
        cell: for a paragraph in a Word table, where.
        docx_index: for .docx, its position among all paragraphs ``docx_paragraphs`` yields.
    """

    number: int
    text: str
    heading: bool = False
    cell: TableCell | None = None
    docx_index: int | None = None


def read_report(path: Path) -> list[ReportParagraph]:
    """The paragraphs of the report at ``path``.

    Raises:
        FileProblemError: a format xlcheck does not read, a damaged file, or a PDF without the
            optional extractor installed.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FileProblemError(
            path,
            f"不是可以核对的报告格式（{suffix or '无扩展名'}）",
            message_en=f"not a report format xlcheck reads ({suffix or 'no extension'})",
            hint="报告应为 .docx、.txt、.md 或 .pdf；.doc 和 .wps 请先另存为 .docx。",
            hint_en="A report is .docx, .txt, .md or .pdf; save a .doc or .wps as .docx first.",
        )
    if suffix == ".docx":
        return _docx_paragraphs(path)
    if suffix == ".pdf":
        return _numbered(join_lines(_pdf_lines(path)))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_bytes().decode(
            "gb18030", errors="replace"
        )  # WPS/Notepad on Chinese Windows
    except OSError as exc:
        raise FileProblemError(
            path, f"无法读取（{exc}）", message_en=f"cannot be read ({exc})"
        ) from exc
    lines = text.splitlines()
    if suffix == ".md":
        lines = [_markdown_line(line) for line in lines]
    return _numbered(join_lines(lines))


def _markdown_line(line: str) -> str:
    stripped = line.replace("**", "").replace("__", "")
    return re.sub(r"^\s*(?:>\s*|[-*+]\s+)", "", stripped)


def is_heading_line(line: str) -> bool:
    text = line.strip()
    return text.startswith("#") or (
        bool(_HEADING.match(text)) and len(text) < 40 and "。" not in text
    )


def join_lines(lines: list[str]) -> list[tuple[str, bool]]:
    """Lines → (paragraph, is heading): blank lines and breaks in mid-sentence are closed up.

    A paragraph ends at a line ending with 。；： and the like, at a heading, and at a short
    line followed by a blank line; any other line (cut by the line width, a page break or a
    copy from a PDF) continues on the next non-blank line, joined without a space as Chinese
    text is written.
    """
    paragraphs: list[tuple[str, bool]] = []
    current = ""
    previous_blank = False
    for raw in lines:
        line = raw.strip()
        if not line:
            if current and len(current) < _SHORT_LINE:
                paragraphs.append((current, False))
                current = ""
            previous_blank = True
            continue
        if is_heading_line(line) and (not current or previous_blank or current.endswith(_TERMINAL)):
            if current:
                paragraphs.append((current, False))
                current = ""
            paragraphs.append((line.lstrip("#").strip(), True))
            previous_blank = False
            continue
        current = _glue(current, line)
        if current.endswith(_TERMINAL):
            paragraphs.append((current, False))
            current = ""
        previous_blank = False
    if current:
        paragraphs.append((current, False))
    return paragraphs


def _glue(left: str, right: str) -> str:
    """Two pieces of one paragraph: no space, except between two Latin words."""
    if (
        left
        and right
        and left[-1].isascii()
        and left[-1].isalpha()
        and right[0].isascii()
        and right[0].isalpha()
    ):
        return f"{left} {right}"
    return left + right


def _numbered(paragraphs: list[tuple[str, bool]]) -> list[ReportParagraph]:
    return [
        ReportParagraph(number, text, heading)
        for number, (text, heading) in enumerate(paragraphs, start=1)
    ]


def _pdf_lines(path: Path) -> list[str]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError as exc:
        raise FileProblemError(
            path,
            "读取 PDF 需要可选组件 pypdf",
            message_en="reading a PDF needs the optional pypdf package",
            hint="pip install 'xlcheck[pdf]'；或把报告另存为 .docx 或 .txt。",
            hint_en="pip install 'xlcheck[pdf]', or save the report as .docx or .txt.",
        ) from exc
    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (OSError, PyPdfError, ValueError, KeyError) as exc:
        raise FileProblemError(
            path, f"无法读取 PDF（{exc}）", message_en=f"cannot read the PDF ({exc})"
        ) from exc
    if not any(page.strip() for page in pages):
        raise FileProblemError(
            path,
            "PDF 里没有文字（可能是扫描件）",
            message_en="the PDF holds no text (a scan?)",
            hint="请提供 Word 版或文字版 PDF。",
            hint_en="Provide the Word file or a PDF with text.",
        )
    return [line for page in pages for line in page.splitlines()]


def docx_paragraphs(document: Any) -> Iterator[tuple[Any, TableCell | None]]:
    """Every paragraph of a python-docx document in reading order: body, and table cells row by
    row (a cell merged across columns once). The annotator walks the same order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    table_number = 0

    def walk(container: Any) -> Iterator[tuple[Any, TableCell | None]]:
        nonlocal table_number
        for item in container.iter_inner_content():
            if isinstance(item, Paragraph):
                yield item, None
            elif isinstance(item, Table):
                number = table_number
                table_number += 1
                for row_index, row in enumerate(item.rows):
                    seen: set[int] = set()
                    for column_index, cell in enumerate(row.cells):
                        if id(cell._tc) in seen:
                            continue
                        seen.add(id(cell._tc))
                        for paragraph in cell.paragraphs:
                            yield paragraph, TableCell(number, row_index, column_index)

    yield from walk(document)


def open_docx(path: Path) -> Any:
    """The python-docx document at ``path``.

    Raises:
        FileProblemError: not a readable Word document.
    """
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileProblemError(
            path,
            f"不是可以读取的 Word 文档（{exc}）",
            message_en=f"not a readable Word document ({exc})",
            hint="请在 Word 或 WPS 中另存为 .docx 后重试。",
            hint_en="Save it as .docx from Word or WPS and try again.",
        ) from exc


def _docx_paragraphs(path: Path) -> list[ReportParagraph]:
    document = open_docx(path)
    paragraphs: list[ReportParagraph] = []
    for index, (paragraph, cell) in enumerate(docx_paragraphs(document)):
        # A line break (Shift+Enter) or page break inside a paragraph reads as "\n": close it up.
        text = _glue_breaks(paragraph.text)
        if not text.strip():
            continue
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
        heading = style.startswith(("Heading", "Title", "标题")) or (
            cell is None and is_heading_line(text)
        )
        paragraphs.append(ReportParagraph(len(paragraphs) + 1, text.strip(), heading, cell, index))
    return paragraphs


def _glue_breaks(text: str) -> str:
    pieces = text.split("\n")
    joined = pieces[0]
    for piece in pieces[1:]:
        joined = _glue(joined, piece)
    return joined
