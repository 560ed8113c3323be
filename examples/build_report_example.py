"""Rebuild the 自评报告 examples: the seed's report as Word, a draft from the example workbook,
and what ``xlcheck report check`` says about each.

1. ``zhanjiang-xinfang-2023-report.docx``: the seed report (湛江市信访局 2023 年度整体绩效自评报告)
   as Word, built from its text ``zhanjiang-xinfang-2023-report.md`` (as extracted from the
   published PDF: headings marked with #, bold with **, paragraphs cut by page breaks, which this
   script joins back as the unit's Word file had them).
2. ``report check`` on it writes ``zhanjiang-xinfang-2023-report.checked.docx``: a comment at the
   101 分 and at the 99.93%.
3. ``report draft --allow-errors`` from ``zhanjiang-xinfang-2023.xlsx`` writes
   ``zhanjiang-xinfang-2023-draft.docx``; ``report check --workbook`` on the draft writes
   ``zhanjiang-xinfang-2023-draft.checked.docx`` (only the workbook's own errors: 101 分 and the
   预算使用效益 part's 26 of 25).
4. ``report draft --allow-errors`` from ``national-project-2022.xlsx`` (one sheet per project)
   writes ``national-project-2022-draft.docx``: a report part per project; ``report check
   --workbook`` finds nothing in it (each part against its own project's cells).

Run from the repository root: ``python examples/build_report_example.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from xlcheck import api
from xlcheck.narrative.report_check import ReportCheckOptions
from xlcheck.narrative.results import render_text

HERE = Path(__file__).resolve().parent
SEED_TEXT = HERE / "zhanjiang-xinfang-2023-report.md"
SEED_DOCX = HERE / "zhanjiang-xinfang-2023-report.docx"
WORKBOOK = HERE / "zhanjiang-xinfang-2023.xlsx"
DRAFT = HERE / "zhanjiang-xinfang-2023-draft.docx"
NATIONAL_WORKBOOK = HERE / "national-project-2022.xlsx"
NATIONAL_DRAFT = HERE / "national-project-2022-draft.docx"
#: A paragraph ends with one of these; one that does not was cut by a page of the PDF.
_ENDS = (*"。；：！？”", "一致")
_HEADING_LEVELS = {1: "Title", 2: "Heading 1", 3: "Heading 2", 4: "Heading 3"}


def seed_paragraphs(text: str) -> list[tuple[int, str]]:
    """(heading level or 0, text) per paragraph, page-cut paragraphs joined back."""
    paragraphs: list[tuple[int, str]] = []
    for block in re.split(r"\n\s*\n", text):
        line = block.strip()
        if not line:
            continue
        level = len(line) - len(line.lstrip("#"))
        line = line.lstrip("#").strip()
        previous = paragraphs[-1] if paragraphs else None
        if (
            level == 0
            and previous is not None
            and previous[0] == 0
            and len(previous[1]) > 20
            and not previous[1].endswith(_ENDS)
        ):
            paragraphs[-1] = (0, previous[1] + line)
        else:
            paragraphs.append((level, line))
    return paragraphs


def build_seed_docx(source: Path, out: Path) -> Path:
    """The seed report as a Word document: its headings, bold lead-ins and paragraphs."""
    document = Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋")
    for level, line in seed_paragraphs(source.read_text(encoding="utf-8")):
        paragraph = (
            document.add_paragraph(style=_HEADING_LEVELS[min(level, 4)])
            if level
            else document.add_paragraph()
        )
        if level == 1:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for index, piece in enumerate(re.split(r"\*\*", line)):
            if piece:
                paragraph.add_run(piece).bold = index % 2 == 1 and not level
    document.save(str(out))
    return out


def main() -> int:
    build_seed_docx(SEED_TEXT, SEED_DOCX)
    seed = api.check_report(SEED_DOCX, options=ReportCheckOptions(force=True))
    print(render_text(seed))
    draft = api.draft_report(WORKBOOK, DRAFT, allow_errors=True, force=True)
    checked = api.check_report(DRAFT, options=ReportCheckOptions(workbook=WORKBOOK, force=True))
    print(f"\n{draft.written}\n{render_text(checked)}")
    api.draft_report(NATIONAL_WORKBOOK, NATIONAL_DRAFT, allow_errors=True, force=True)
    national = api.check_report(
        NATIONAL_DRAFT, options=ReportCheckOptions(workbook=NATIONAL_WORKBOOK, annotate=False)
    )
    print(f"\n{render_text(national)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
