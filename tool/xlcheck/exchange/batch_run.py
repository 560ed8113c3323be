"""One ``verify`` over many inputs with its side outputs: the summary and the reply drafts are
built as the results stream past, and whatever fails late is recorded, never raised.

The caller prints each result as it comes, then the ``amendments`` (findings across workbooks,
known only once every workbook is verified), and the report's totals before ``finish`` writes the
summary, so the report is out before anything that may fail late.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xlcheck.errors import XlcheckError
from xlcheck.exchange.batch import ProgressCallback, iter_verify
from xlcheck.exchange.sources import SourceExpander, WorkbookInput
from xlcheck.exchange.summary_rows import SummaryBuilder
from xlcheck.findings import Finding, VerificationResult
from xlcheck.output_files import check_output_path
from xlcheck.verification import VerifyOptions

if TYPE_CHECKING:
    from xlcheck.exchange.replies import ReplyDrafter


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Amendment:
    """A workbook the links across workbooks found problems in, after its result was handed on.

    Attributes:
        streamed: the result as the batch handed it on.
        amended: the same result with the new findings.
        added: the new findings.
    """

    streamed: VerificationResult
    amended: VerificationResult
    added: tuple[Finding, ...]


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
        self.input_files = input_files(self.inputs)
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
        self._summary = SummaryBuilder(options.lang) if side.summary is not None else None
        self._replies: ReplyDrafter | None = None
        if side.reply:
            from xlcheck.exchange.replies import ReplyDrafter  # the mail modules, for replies only

            self._replies = ReplyDrafter(out_dir, lang=options.lang, sender=side.reply_from)
        self.statuses: dict[str, int] = {}
        #: One line for each side output that could not be written.
        self.failures: list[str] = []
        #: Filled once every result is handed on (see ``Amendment``).
        self.amendments: list[Amendment] = []
        self._linked: list[VerificationResult] = []

    def __iter__(self) -> Generator[VerificationResult, None, None]:
        try:
            for result in self._results:
                self.statuses[result.status] = self.statuses.get(result.status, 0) + 1
                linked = bool(result.all_values)  # it kept the values its links read
                if linked:
                    self._linked.append(result)
                if self._summary is not None:
                    self._summary.add(result, held=linked)
                if self._replies is not None:
                    self._replies.add(result, held=linked)
                yield result
        finally:
            self._results.close()  # stopped early: the workers stop, reserved names are freed
        self._amend()

    def _amend(self) -> None:
        from xlcheck.cross_workbook import findings_across

        found = findings_across(self._linked, self.options.template)
        for index, added in sorted(found.items()):
            streamed = self._linked[index]
            amended = dataclasses.replace(
                streamed,
                findings=tuple(sorted((*streamed.findings, *added), key=Finding.sort_key)),
            )
            self.statuses[streamed.status] -= 1
            self.statuses[amended.status] = self.statuses.get(amended.status, 0) + 1
            if self._summary is not None:
                self._summary.amend(streamed, amended, added)
            if self._replies is not None:
                self._replies.amend(streamed, amended)
            self.amendments.append(Amendment(streamed, amended, tuple(added)))
        self._linked = []

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
                    )
                )
            except XlcheckError as exc:
                self.failures.append(exc.render_line(self.options.lang))
            finally:
                summary.findings.close()
        if self._replies is not None:
            written.extend(self._replies.finish())
            self.failures.extend(self._replies.failures)
        return written
