"""One ``verify`` over many inputs with its side outputs: the summary and the reply drafts are
built as the results stream past, and whatever fails late is recorded, never raised.

The caller prints each result as it comes, then the ``amendments`` (findings across workbooks,
known only once every workbook is verified), and the report's totals before ``finish`` writes the
summary, so the report is out before anything that may fail late.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlcheck.errors import XlcheckError
from xlcheck.exchange.batch import ProgressCallback, iter_verify
from xlcheck.exchange.sources import SourceExpander, WorkbookInput
from xlcheck.findings import (
    Amendment,
    CellRef,
    Severity,
    TemplateIdentity,
    VerificationResult,
)
from xlcheck.output_files import InputPaths, check_output_path
from xlcheck.records import record
from xlcheck.verification import VerifyOptions

if TYPE_CHECKING:
    from xlcheck.exchange.replies import ReplyDrafter
    from xlcheck.exchange.summary_rows import SummaryBuilder
    from xlcheck.exchange.summary_workbook import SummaryWorkbook


@record
class SideOutputs:
    """What a batch writes besides the annotated copies.

    Attributes:
        summary: the summary file (汇总表), or None.
        summary_format: xlsx, csv or json; None goes by the file name.
        reply: draft a reply .eml per mail.
        reply_from: the From of the drafts.
    """

    summary: Path | None = None
    summary_format: str | None = None
    reply: bool = False
    reply_from: str | None = None


@record(slots=True)
class _Linked:
    """What a batch keeps of a result whose links may add findings: about a kilobyte, however
    long the batch (the values the links read, where they stand, the counts), not the result."""

    index: int
    path: str
    template_id: str
    errors: int
    warnings: int
    unit: Any
    year: Any
    values: tuple[tuple[str, Any], ...]
    #: (key, sheet index, row, column, sheet) of each value's cell; keys and sheet names are
    #: interned, as every workbook of a template repeats them.
    cells: tuple[tuple[str, int, int, int, str], ...]

    @classmethod
    def of(cls, index: int, result: VerificationResult) -> _Linked:
        assert result.template is not None
        return cls(
            index,
            str(result.path),
            sys.intern(result.template.id),
            result.errors,
            result.warnings,
            result.values.get("unit"),
            result.values.get("year"),
            tuple((sys.intern(key), value) for key, value in result.all_values.items()),
            tuple(
                (
                    sys.intern(key),
                    cell.sheet_index,
                    cell.row_number,
                    cell.column_number,
                    sys.intern(cell.sheet),
                )
                for key, cell in result.locations.items()
            ),
        )

    def result(self) -> VerificationResult:
        """A result carrying what ``cross_workbook`` reads (no findings)."""
        return VerificationResult(
            Path(self.path),
            TemplateIdentity(self.template_id, ""),
            values={"unit": self.unit, "year": self.year},
            all_values=dict(self.values),
            locations={
                key: CellRef(sheet_index, row, column, sheet)
                for key, sheet_index, row, column, sheet in self.cells
            },
        )


def input_files(inputs: Sequence[WorkbookInput]) -> list[Path]:
    """Every file a batch reads: the workbooks and the mail files they came from."""
    files = {item.path for item in inputs if item.problem is None}
    files.update(item.mail.mail_file for item in inputs if item.mail is not None)
    return sorted(files)


class BatchRun:
    """Iterate it for the results in input order; then call ``finish``.

    Raises (on creation, before any workbook is verified):
        OutputExistsError: the summary or an annotated copy exists and ``options.force`` is false.
        OutputRefusedError: the summary or ``-o`` is an input, a symlink or not a regular file.
    """

    def __init__(
        self,
        sources: Sequence[str | Path],
        *,
        options: VerifyOptions,
        side: SideOutputs = SideOutputs(),
        jobs: int | None = None,
        out_dir: Path | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.options = options
        self.side = side
        if side.summary is not None:  # before mail attachments are extracted
            check_output_path(side.summary, force=options.force)
        attachments = out_dir / "attachments" if out_dir is not None else None
        expander = SourceExpander(attachments, excluded=[out_dir] if out_dir else [])
        self.inputs = expander.expand(sources)
        self.mails_without_workbook = expander.mails_without_workbook
        #: Every output is checked against these (``InputPaths``: each made absolute once).
        self.input_files = InputPaths(input_files(self.inputs))
        if side.summary is not None:
            check_output_path(side.summary, force=options.force, inputs=self.input_files)
        self._results = iter_verify(
            self.inputs,
            options=options,
            jobs=jobs,
            out_dir=out_dir,
            progress=progress,
            keep_all_values=False,
        )
        self._summary: SummaryBuilder | None = None
        self._workbook: SummaryWorkbook | None = None
        if side.summary is not None:
            from xlcheck.exchange.summary_rows import SummaryBuilder  # with --summary only

            self._workbook = self._begin_workbook(side.summary)
            stream = self._write_findings if self._workbook is not None else None
            self._summary = SummaryBuilder(options.lang, on_findings=stream)
        self._replies: ReplyDrafter | None = None
        if side.reply:
            from xlcheck.exchange.replies import ReplyDrafter  # the mail modules, for replies only

            self._replies = ReplyDrafter(out_dir, lang=options.lang, sender=side.reply_from)
        self.statuses: dict[str, int] = {}
        #: One line for each side output that could not be written.
        self.failures: list[str] = []
        #: Filled once every result is handed on (see ``Amendment``).
        self.amendments: list[Amendment] = []
        self._linked: list[_Linked] = []

    def _begin_workbook(self, path: Path) -> SummaryWorkbook | None:
        """The summary workbook begun now, when it is an .xlsx: xlsxwriter imported and the
        sheets set up while the fork server imports what the workers need, the findings
        written as they come, so less is left to do after the last result."""
        from xlcheck.exchange.summary import begin_summary_workbook

        try:
            return begin_summary_workbook(path, self.side.summary_format, self.options.lang)
        except Exception:
            # Written from scratch at the end instead, as it always was: whatever failed here
            # fails there too, and is reported after the results, not before them.
            return None

    def _write_findings(self, rows: list[dict[str, Any]]) -> None:
        if self._workbook is None:
            return
        try:
            self._workbook.add_findings(rows)
        except Exception:
            # As above: the workbook is written from scratch at the end, from the summary's own
            # findings, and what failed is reported then.
            self._drop_workbook()

    def _drop_workbook(self) -> None:
        if self._workbook is not None:
            self._workbook.discard()
            self._workbook = None
        if self._summary is not None:
            self._summary.on_findings = None

    def __iter__(self) -> Generator[VerificationResult, None, None]:
        try:
            for index, result in enumerate(self._results):
                self.statuses[result.status] = self.statuses.get(result.status, 0) + 1
                linked = bool(result.all_values)  # it kept the values its links read
                if linked and result.template is not None:
                    self._linked.append(_Linked.of(index, result))
                if self._summary is not None:
                    self._summary.add(result, index=index if linked else None)
                if self._replies is not None:
                    self._replies.add(result, index=index if linked else None)
                yield result
        except BaseException:
            self._drop_workbook()  # stopped early: no summary will be written
            raise
        finally:
            self._results.close()  # stopped early: the workers stop, reserved names are freed
        self._amend()

    def _amend(self) -> None:
        linked, self._linked = self._linked, []
        if len(linked) < 2:
            return  # a link needs two workbooks (nor is its module loaded for one)
        from xlcheck.cross_workbook import findings_across

        results = [kept.result() for kept in linked]
        found = findings_across(results, self.options.template)
        for position, added in sorted(found.items()):
            kept, slim = linked[position], results[position]
            index, errors, warnings = kept.index, kept.errors, kept.warnings
            before = "errors" if errors else "warnings" if warnings else "ok"
            errors += sum(1 for f in added if f.severity is Severity.ERROR)
            warnings += sum(1 for f in added if f.severity is Severity.WARNING)
            after = "errors" if errors else "warnings" if warnings else "ok"
            amendment = Amendment(index, slim.path, before, after, errors, warnings, tuple(added))
            self.statuses[before] -= 1
            self.statuses[after] = self.statuses.get(after, 0) + 1
            if self._summary is not None:
                self._summary.amend(amendment, slim)
            if self._replies is not None:
                self._replies.amend(index, amendment.added)
            self.amendments.append(amendment)

    def finish(self) -> list[Path]:
        """Write the summary and the last reply draft; every side output written.

        A failure is recorded in ``failures`` (one line), never raised.
        """
        written: list[Path] = []
        if self._summary is not None and self.side.summary is not None:
            from xlcheck.exchange.summary import write_summary

            summary = self._summary.finish()
            try:
                written.append(
                    write_summary(
                        summary,
                        self.side.summary,
                        output_format=self.side.summary_format,
                        lang=self.options.lang,
                        force=self.options.force,
                        inputs=self.input_files,
                        begun=self._workbook,
                    )
                )
            except XlcheckError as exc:
                self.failures.append(exc.render_line(self.options.lang))
            finally:
                summary.findings.close()
                self._drop_workbook()
        if self._replies is not None:
            written.extend(self._replies.finish())
            self.failures.extend(self._replies.failures)
        return written
