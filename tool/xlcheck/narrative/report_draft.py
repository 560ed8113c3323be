"""``report draft``: verify a workbook, then write the 自评报告 draft its report template describes."""

from __future__ import annotations

from pathlib import Path

from xlcheck.findings import VerificationResult
from xlcheck.narrative.draft_outline import fill_template
from xlcheck.narrative.drafting import DraftParagraph
from xlcheck.narrative.outline import load_report_template
from xlcheck.narrative.word_writer import write_document
from xlcheck.output_files import check_output_path
from xlcheck.records import record


@record
class DraftResult:
    """What ``draft_report`` did.

    Attributes:
        verification: the workbook's verification (its findings are the reason for a refusal).
        written: the .docx written; None when the draft was refused.
    """

    verification: VerificationResult
    written: Path | None

    @property
    def refused(self) -> bool:
        """The workbook has errors and ``allow_errors`` was not given: nothing was written."""
        return self.written is None


def draft_report(
    workbook: Path,
    out: Path,
    *,
    template: str | Path | None = None,
    outline: Path | None = None,
    allow_errors: bool = False,
    force: bool = False,
) -> DraftResult:
    """Write the report draft for ``workbook`` to ``out`` (.docx), every figure from its verified
    values; a workbook with errors is refused (``result.refused``) unless ``allow_errors``.

    Raises:
        WorkbookError, TemplateMismatchError: the workbook cannot be verified.
        SpecError: no report template for the workbook's template, or a malformed one.
        OutputExistsError, OutputRefusedError: ``out`` may not be written.
    """
    from xlcheck.verification import verify_with_layout

    check_output_path(out, force=force, inputs=[workbook])  # before any work
    verification, layout = verify_with_layout(workbook, template=template)
    if verification.errors and not allow_errors:
        return DraftResult(verification, None)
    spec = layout.spec
    report_template = load_report_template(spec, outline)
    elements = fill_template(report_template, layout, verification.all_values)
    titles = [e.text for e in elements if isinstance(e, DraftParagraph) and e.kind == "title"]
    written = write_document(
        elements,
        out,
        title=max(titles, key=len, default=""),
        comment=f"由 xlcheck 根据 {workbook.name}（模板 {spec.id} {spec.version}）起草",
        force=force,
        inputs=[workbook],
    )
    return DraftResult(verification, written)
