"""The annotated copy of a Word report: a comment at each finding's sentence, the rest untouched.

Word anchors a comment on whole runs, so the runs at the sentence's ends are split there first
(a split run keeps its formatting); where a paragraph's runs do not spell its text (a hyperlink
in it), the comment covers the whole paragraph instead.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from xlcheck.narrative.figures import normalise_text, sentence_span
from xlcheck.narrative.report_text import docx_paragraphs, open_docx
from xlcheck.narrative.results import ReportFinding
from xlcheck.output_files import write_output

AUTHOR = "xlcheck"
INITIALS = "XC"


def checked_report_path(path: Path, output: Path | None = None) -> Path:
    """Where the annotated copy of a .docx goes: ``output``, or ``<name>.checked.docx`` beside it."""
    return output if output is not None else path.with_name(f"{path.stem}.checked.docx")


def annotate_report(
    source: Path,
    findings: Sequence[ReportFinding],
    out: Path,
    *,
    lang: str = "zh",
    force: bool = False,
) -> Path:
    """Write a copy of the .docx at ``source`` with a comment per finding, through ``write_output``.

    Raises:
        FileProblemError: ``source`` is not a readable Word document.
        OutputRefusedError, OutputExistsError: see ``write_output``.
    """
    document = open_docx(source)
    paragraphs = [paragraph for paragraph, _ in docx_paragraphs(document)]
    for finding in findings:
        if finding.docx_index is None or finding.docx_index >= len(paragraphs):
            continue
        runs = _sentence_runs(paragraphs[finding.docx_index], finding.offset)
        if not runs:
            continue
        suffix = f"（xlcheck · {finding.code}）" if lang != "en" else f" (xlcheck · {finding.code})"
        document.add_comment(
            runs, text=finding.message_in(lang) + suffix, author=AUTHOR, initials=INITIALS
        )

    def save(stream: BinaryIO) -> None:
        document.save(stream)

    return write_output(out, save, force=force, inputs=[source])


def _sentence_runs(paragraph: Any, offset: int) -> list[Any]:
    """The runs spelling the sentence at ``offset`` of the paragraph's text (breaks removed)."""
    runs = [run for run in paragraph.runs if run.text]
    if not runs:
        return []
    spelled = "".join(run.text for run in runs).replace("\n", "")
    text = normalise_text(paragraph.text.replace("\n", ""))
    if normalise_text(spelled) != text:
        return runs
    start, end = sentence_span(text, min(offset, max(len(text) - 1, 0)))
    runs = _split_at(paragraph, runs, start)
    runs = _split_at(paragraph, runs, end)
    covered: list[Any] = []
    position = 0
    for run in runs:
        length = len(run.text.replace("\n", ""))
        if position < end and position + length > start:
            covered.append(run)
        position += length
    return covered or runs


def _split_at(paragraph: Any, runs: list[Any], at: int) -> list[Any]:
    """``runs`` with the run holding offset ``at`` split in two there (formatting kept)."""
    from docx.text.run import Run

    position = 0
    for index, run in enumerate(runs):
        text = run.text
        length = len(text.replace("\n", ""))
        if position < at < position + length and "\n" not in text and "\t" not in text:
            cut = at - position
            twin = copy.deepcopy(run._r)
            run._r.addnext(twin)
            run.text = text[:cut]
            second = Run(twin, paragraph)
            second.text = text[cut:]
            return [*runs[: index + 1], second, *runs[index + 1 :]]
        position += length
    return runs
