"""Findings (problems in the user's workbook) and the verification result: pure data."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from xlcheck.records import record


class Severity(enum.StrEnum):
    """How bad a finding is: errors make ``verify`` exit 1, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@record
class Rule:
    """A finding code and what it means. Messages are ``str.format`` templates."""

    code: str
    severity: Severity
    title: str
    title_en: str
    description: str
    message: str
    message_en: str
    #: The spec may set this code's severity for each check it declares (``severity: warning``).
    severity_from_spec: bool = False


def declare_rule(catalogue: dict[str, Rule], rule: Rule) -> Rule:
    """Add ``rule`` to ``catalogue`` (the workbook rules' or the report's): a code is declared once."""
    if rule.code in catalogue:
        raise AssertionError(f"rule code {rule.code} declared twice")
    catalogue[rule.code] = rule
    return rule


def column_letters(number: int) -> str:
    """Excel column letters of a 1-based column number."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@record(order=True)
class CellRef:
    """A cell in a sheet, ordered by sheet order, then row, then column."""

    sheet_index: int
    row_number: int
    column_number: int
    sheet: str = field(compare=False)

    @property
    def cell_ref(self) -> str:
        return f"{column_letters(self.column_number)}{self.row_number}"

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell_ref}"


@record
class Finding:
    """One problem at one place in a workbook.

    ``message`` is Chinese, ``message_en`` English; ``expected`` and ``actual`` are plain JSON
    values (numbers, strings or None) so reports and the annotated copy show them as they are.
    """

    code: str
    severity: Severity
    message: str
    message_en: str
    location: CellRef | None = None
    field: str | None = None
    expected: Any = None
    actual: Any = None
    #: For people, not for JSON (which names the field by key): the field's Chinese label path
    #: (数据表/实际支出/基本支出) and the expected and actual values as the cell shows them
    #: (99.72%, 1,131.12 万元).
    label: str | None = dataclasses.field(default=None, compare=False)
    expected_text: str | None = dataclasses.field(default=None, compare=False)
    actual_text: str | None = dataclasses.field(default=None, compare=False)

    def message_in(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message

    def sort_key(self) -> tuple[int, int, int, str, str]:
        if self.location is None:
            return (-1, 0, 0, self.code, self.field or "")
        loc = self.location
        return (loc.sheet_index, loc.row_number, loc.column_number, self.code, self.field or "")

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "sheet": self.location.sheet if self.location else None,
            "cell": self.location.cell_ref if self.location else None,
            "field": self.field,
            "message": self.message_in(lang),
            "expected": self.expected,
            "actual": self.actual,
        }


#: Custom document properties naming the template a workbook was built from; Excel, WPS and
#: LibreOffice all keep custom properties when they save.
PROPERTY_TEMPLATE = "xlcheck.template"
PROPERTY_VERSION = "xlcheck.version"
PROPERTY_SPEC_HASH = "xlcheck.spec_hash"


@record
class TemplateIdentity:
    """Which template and version a workbook says it was built from."""

    id: str
    version: str
    spec_hash: str | None = None
    #: The spec's title (部门整体支出绩效自评表), once a spec was chosen for the workbook.
    title: str | None = None


@record
class MailOrigin:
    """The mail a workbook arrived in, so a batch can name it and a reply can answer it."""

    #: The .eml or mbox file, plus the message's 1-based position for an mbox.
    mail_file: Path
    message_number: int | None = None
    subject: str = ""
    #: Who sent the mail to the bureau (From), and where replies go (Reply-To, else From).
    sender: str = ""
    reply_to: str = ""
    message_id: str = ""
    #: The mail's References header, so a reply continues the thread.
    references: str = ""
    #: ISO 8601 date of the mail, for telling which of two submissions is newer.
    date: str | None = None
    #: The attachment's own file name, as the sender named it.
    attachment: str = ""
    #: For an attachment inside a forwarded message: that message's sender.
    forwarded_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.mail_file),
            "message": self.message_number,
            "subject": self.subject,
            "sender": self.sender,
            "message_id": self.message_id,
            "date": self.date,
            "attachment": self.attachment,
            "forwarded_from": self.forwarded_from,
        }


class CheckedFile:
    """What a checked file's result shows the same way for a workbook (``VerificationResult``) and
    a report (``narrative.results.ReportCheckResult``): counts, status, the JSON head."""

    path: Path
    template: TemplateIdentity | None
    #: Workbook findings, or a report's (``ReportFinding``): each has a ``severity``.
    findings: Sequence[Any]
    annotated: Path | None

    @property
    def unreadable(self) -> bool:
        return False

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)

    @property
    def status(self) -> str:
        if self.unreadable:
            return "unreadable"
        if self.errors:
            return "errors"
        return "warnings" if self.warnings else "ok"

    def head_dict(self, application: str | None, reason: str | None) -> dict[str, Any]:
        """The JSON fields every result starts with, findings not included."""
        return {
            "path": str(self.path),
            "template": (
                {"id": self.template.id, "version": self.template.version}
                if self.template
                else None
            ),
            "status": self.status,
            "errors": self.errors,
            "warnings": self.warnings,
            "annotated": str(self.annotated) if self.annotated else None,
            "application": application,
            "reason": reason,
        }


@record
class VerificationResult(CheckedFile):
    """Everything ``verify`` learned about one workbook."""

    path: Path
    template: TemplateIdentity | None
    findings: tuple[Finding, ...] = ()
    annotated: Path | None = None
    application: str | None = None
    #: Key figures recomputed from the inputs (role → value), for summaries.
    values: dict[str, Any] = field(default_factory=dict)
    #: The field playing each of the spec's roles in this workbook (role → field key), so a
    #: summary can tell which findings concern a key figure.
    role_fields: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    #: Set when the file could not be verified at all; findings are then empty.
    unreadable_reason: str | None = None
    #: The mail the workbook was extracted from, when it came from an .eml or mbox file.
    mail: MailOrigin | None = None
    #: Every field's value (inputs as normalised, derived values recomputed), field key → value;
    #: for ``xlcheck collect``. Left out of ``to_dict`` to keep the JSON output small.
    all_values: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: Where each field stands in this workbook (field key → cell), so checks across workbooks
    #: can name the other file's cell.
    locations: dict[str, CellRef] = field(default_factory=dict, repr=False, compare=False)

    @property
    def unreadable(self) -> bool:
        return self.unreadable_reason is not None

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        data = self.head_dict(self.application, self.unreadable_reason)
        data["findings"] = [f.to_dict(lang) for f in self.findings]
        if self.mail is not None:
            data["mail"] = self.mail.to_dict()
        return data


@record
class Amendment:
    """Findings the links across workbooks added to a result a batch already handed on.

    Attributes:
        index: the result's place in the stream (0 for the first).
        path: its workbook.
        before: its status as handed on; ``after``, with the new findings.
        errors, warnings: its counts with the new findings.
        added: the new findings.
    """

    index: int
    path: Path
    before: str
    after: str
    errors: int
    warnings: int
    added: tuple[Finding, ...]
