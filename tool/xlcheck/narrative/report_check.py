"""``report check``: read a report, name its figures, check them, annotate a copy of a .docx."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from xlcheck.findings import TemplateIdentity
from xlcheck.layout import Layout, lay_out
from xlcheck.narrative.consistency import ReportChecks
from xlcheck.narrative.mentions import Labeller
from xlcheck.narrative.outline import load_report_template
from xlcheck.narrative.outline_model import alt_bases_of
from xlcheck.narrative.report_text import read_report
from xlcheck.narrative.results import ReportCheckResult
from xlcheck.narrative.sections import section_names
from xlcheck.narrative.word_comments import annotate_report, checked_report_path
from xlcheck.output_files import check_output_path
from xlcheck.records import record
from xlcheck.spec import Spec
from xlcheck.spec_loading import load_spec

DEFAULT_TEMPLATE = "zhanjiang-overall"


@record
class ReportCheckOptions:
    """How ``check_report`` runs.

    Attributes:
        workbook: the filled workbook to compare every figure with (verified first).
        template: spec id or path when there is no workbook (else the workbook's own template).
        outline: a report template file instead of the built-in one for the spec.
        output: where the annotated copy of a .docx goes; None: ``<name>.checked.docx`` beside it.
        annotate: write the annotated copy (only a .docx gets one).
        force: overwrite an existing annotated copy.
        lang: ``zh`` or ``en`` for the comments.
    """

    workbook: Path | None = None
    template: str | Path | None = None
    outline: Path | None = None
    output: Path | None = None
    annotate: bool = True
    force: bool = False
    lang: str = "zh"


def check_report(path: Path, *, options: ReportCheckOptions | None = None) -> ReportCheckResult:
    """Check the figures of the report at ``path``: its own arithmetic, scores, grade, workbook.

    Raises:
        FileProblemError: the report cannot be read.
        WorkbookError, TemplateMismatchError: the workbook cannot be verified.
        SpecError: no report template for the spec, or a malformed one.
        OutputExistsError, OutputRefusedError: the annotated copy may not be written.
    """
    options = options or ReportCheckOptions()
    out = checked_report_path(path, options.output)
    annotating = options.annotate and path.suffix.lower() == ".docx"
    if annotating:
        check_output_path(out, force=options.force, inputs=[path])  # before any work
    paragraphs = read_report(path)
    spec, values, workbook_layout, workbook_status, workbook_errors = _spec_and_values(options)
    template = load_report_template(spec, options.outline)
    # Without a workbook, the report's own parts say how many projects it covers.
    layout = workbook_layout or lay_out(
        spec, tuple(sorted(section_names(paragraphs, spec, template).items()))
    )
    labeller = Labeller(layout, template, values)
    mentions = labeller.mentions(paragraphs)
    grades = labeller.grades(paragraphs, spec.grading.grades)
    bases = alt_bases_of(template, layout.by_key)
    findings = ReportChecks(layout, mentions, grades, values, bases).findings()
    result = ReportCheckResult(
        path=path,
        template=TemplateIdentity(spec.id, spec.version, spec.spec_hash, spec.title),
        findings=tuple(findings),
        workbook=options.workbook,
        workbook_status=workbook_status,
        workbook_errors=workbook_errors,
        figures_read=len(mentions),
        figures_named=sum(1 for m in mentions if m.key is not None),
    )
    if not annotating:
        return result
    written = annotate_report(path, findings, out, lang=options.lang, force=options.force)
    return dataclasses.replace(result, annotated=written)


def _spec_and_values(
    options: ReportCheckOptions,
) -> tuple[Spec, dict[str, Any] | None, Layout | None, str | None, int]:
    """The spec to read the report by, and when a workbook is given its verified values and the
    layout they were read by (every project's sheet, every row the unit inserted)."""
    if options.workbook is None:
        return load_spec(options.template or DEFAULT_TEMPLATE), None, None, None, 0
    from xlcheck.verification import verify_with_layout

    verified, layout = verify_with_layout(options.workbook, template=options.template)
    values = dict(verified.all_values)
    return layout.spec, values, layout, verified.status, verified.errors
