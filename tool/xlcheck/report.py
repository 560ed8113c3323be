"""Verification results → text for an accountant, or the JSON document for machines.

Both are written as results arrive (``TextReport``, ``JsonReport``), so a batch of any size is
printed without holding its results. Text from the units' files (names, subjects, messages)
never reaches a terminal raw: control characters are shown as escapes.
"""

from __future__ import annotations

import codecs
import json
import math
import textwrap
from collections.abc import Callable, Sequence
from typing import IO, Any

from xlcheck.control_characters import escape_controls, escape_json_controls
from xlcheck.findings import Amendment, Finding, MailOrigin, Severity, VerificationResult
from xlcheck.terminal_columns import pad
from xlcheck.version import __version__

#: Writes a piece of the report (no newline added).
Write = Callable[[str], None]
STATUSES = ("ok", "warnings", "errors", "unreadable")

_WORDS = {
    "zh": {
        Severity.ERROR: "错误",
        Severity.WARNING: "警告",
        "template": "模板",
        "app": "最后保存",
        "unknown": "未知",
        "ok": "未发现问题。",
        "annotated": "批注副本",
        "unreadable": "无法校验",
        "summary": "共 {errors} 个错误、{warnings} 个警告。",
        "across": "与本批其他工作簿核对后另有：",
    },
    "en": {
        Severity.ERROR: "error",
        Severity.WARNING: "warning",
        "template": "template",
        "app": "last saved by",
        "unknown": "unknown",
        "ok": "No problems found.",
        "annotated": "annotated copy",
        "unreadable": "cannot verify",
        "summary": "{errors} errors, {warnings} warnings.",
        "across": "checked against the other workbooks of this run, also:",
    },
}


def shown(value: object) -> str:
    """Text for a terminal: every control character (newlines too) written as its escape."""
    return escape_controls(str(value))


def render_block(result: VerificationResult, lang: str = "zh") -> str:
    """One workbook's block: its template, each finding with its cell, then the counts."""
    words = _WORDS[lang]
    separator = "：" if lang == "zh" else ": "
    lines = [shown(result.path)]
    if result.mail is not None:
        lines.append("  " + _mail_line(result.mail, lang))
    if result.unreadable_reason is not None:
        lines.append(f"  {words['unreadable']}{separator}{shown(result.unreadable_reason)}")
        return "\n".join(lines)
    template = (
        f"{result.template.id} {result.template.version}" if result.template else words["unknown"]
    )
    application = result.application or words["unknown"]
    lines.append(
        f"  {words['template']}{separator}{shown(template)}　"
        f"{words['app']}{separator}{shown(application)}"
    )
    lines.extend(_finding_line(finding, lang) for finding in result.findings)
    lines.append(
        "  "
        + (
            words["summary"].format(errors=result.errors, warnings=result.warnings)
            if result.findings
            else words["ok"]
        )
    )
    if result.annotated:
        lines.append(f"  {words['annotated']}{separator}{shown(result.annotated)}")
    return "\n".join(lines)


def _finding_line(finding: Finding, lang: str) -> str:
    where = shown(finding.location) if finding.location else "—"
    severity = pad(_WORDS[lang][finding.severity], 7 if lang == "en" else 4)
    return f"  {severity} {pad(where, 16)} {shown(finding.message_in(lang))}  [{finding.code}]"


def _mail_line(mail: MailOrigin, lang: str) -> str:
    """Which mail a workbook came from: file, sender, subject (and who it was forwarded from)."""
    where = shown(mail.mail_file) + (f" #{mail.message_number}" if mail.message_number else "")
    sender, subject = shown(mail.sender), shown(mail.subject)
    forwarded_from = shown(mail.forwarded_from) if mail.forwarded_from else None
    if lang == "en":
        forwarded = f", forwarded from {forwarded_from}" if forwarded_from else ""
        return f"from mail: {where}, sender {sender}, subject “{subject}”{forwarded}"
    forwarded = f"，转发自 {forwarded_from}" if forwarded_from else ""
    return f"来自邮件：{where}，发件人 {sender}，主题“{subject}”{forwarded}"


def totals_line(counts: dict[str, int], lang: str = "zh", mails_without_workbook: int = 0) -> str:
    """One line counting a batch's workbooks by status (and the mails that carried none)."""
    total = sum(counts.get(status, 0) for status in STATUSES)
    ok, warnings, errors, unreadable = (counts.get(status, 0) for status in STATUSES)
    if lang == "en":
        line = (
            f"{total} workbooks: {ok} clean, {warnings} with warnings, "
            f"{errors} with errors, {unreadable} could not be verified."
        )
        if mails_without_workbook:
            line += f" {mails_without_workbook} mails carried no workbook (not listed)."
        return line
    line = (
        f"共 {total} 个工作簿：{ok} 个无问题，{warnings} 个仅有警告，"
        f"{errors} 个有错误，{unreadable} 个无法校验。"
    )
    if mails_without_workbook:
        line += f"另有 {mails_without_workbook} 封邮件没有工作簿附件（未列出）。"
    return line


def render_totals(results: Sequence[VerificationResult], lang: str = "zh") -> str:
    """One line counting a batch's workbooks by status."""
    counts = dict.fromkeys(STATUSES, 0)
    for result in results:
        counts[result.status] += 1
    return totals_line(counts, lang)


def render_added(amendment: Amendment, lang: str = "zh") -> str:
    """The block of findings the links across workbooks added to a workbook already printed."""
    words = _WORDS[lang]
    lines = [f"{shown(amendment.path)}　{words['across']}"]
    lines.extend(_finding_line(finding, lang) for finding in amendment.added)
    counts = {"errors": amendment.errors, "warnings": amendment.warnings}
    lines.append("  " + words["summary"].format(**counts))
    return "\n".join(lines)


class TextReport:
    """The text report written block by block; ``finish`` adds the totals of a batch."""

    def __init__(self, write: Write, lang: str = "zh") -> None:
        self.write = write
        self.lang = lang
        self.counts = dict.fromkeys(STATUSES, 0)

    # Every write ends its last line: on a terminal, what comes between two blocks (the progress
    # bar, redrawn in place with "\r"; a line on stderr) then starts on a line of its own instead
    # of overwriting or running into the block's last line. Blocks are set apart by a blank line.

    def add(self, result: VerificationResult) -> None:
        written = sum(self.counts.values())
        self.write(("\n" if written else "") + render_block(result, self.lang) + "\n")
        self.counts[result.status] += 1

    def amend(self, amendment: Amendment) -> None:
        """Findings added to a workbook already printed (links across workbooks)."""
        self.write("\n" + render_added(amendment, self.lang) + "\n")
        self.counts[amendment.before] -= 1
        self.counts[amendment.after] += 1

    def finish(self, mails_without_workbook: int = 0) -> None:
        written = sum(self.counts.values())
        if written > 1 or mails_without_workbook:
            totals = totals_line(self.counts, self.lang, mails_without_workbook)
            self.write(("\n" if written else "\n\n") + totals + "\n")
        elif not written:
            self.write("\n")


def render_text(results: Sequence[VerificationResult], lang: str = "zh") -> str:
    """The whole text report of ``results``, as ``verify`` prints it (without the last newline)."""
    pieces: list[str] = []
    report = TextReport(pieces.append, lang)
    for result in results:
        report.add(result)
    report.finish()
    return "".join(pieces)[:-1]


def to_document(results: Sequence[VerificationResult], lang: str = "zh") -> dict[str, Any]:
    """The JSON document ``verify --format json`` prints."""
    return {"xlcheck": __version__, "results": [r.to_dict(lang) for r in results]}


class IndentedJson:
    """``json.dumps(value, ensure_ascii=ascii_only, indent=2, default=str)``, the same text.

    Given an indent, ``json`` encodes with its encoder written in Python, a generator step for
    every key, value and bracket: 65 µs a result, a batch parent's busiest code of its own
    after the workers' pipes. Here every string and number is encoded by ``json``'s C encoder
    and only the brackets and the indentation are put around them in Python (13 µs).
    """

    def __init__(self, *, ascii_only: bool = False) -> None:
        self._string: Callable[[str], str] = (
            json.encoder.encode_basestring_ascii if ascii_only else json.encoder.encode_basestring
        )
        #: Everything else json encodes by itself: subclasses, NaN and infinities, objects
        #: given to ``str`` (paths), containers with keys that are not text.
        self._json = json.JSONEncoder(ensure_ascii=ascii_only, indent=2, default=str)
        self._flat = json.JSONEncoder(ensure_ascii=ascii_only, default=str)

    def dumps(self, value: Any, level: int = 0) -> str:
        """The text of ``value`` as it stands ``level`` levels deep in a document."""
        kind = type(value)
        if kind is str:
            return self._string(value)
        if kind is dict or (kind is not list and isinstance(value, dict)):
            if not value:
                return "{}"
            if any(type(key) is not str for key in value):
                # json turns numbers, booleans and None into keys, or refuses the key.
                return self._json.encode(value).replace("\n", "\n" + "  " * level)
            inner = "\n" + "  " * (level + 1)
            items = (self._string(k) + ": " + self.dumps(v, level + 1) for k, v in value.items())
            return "{" + inner + ("," + inner).join(items) + "\n" + "  " * level + "}"
        if kind is list or isinstance(value, list | tuple):
            if not value:
                return "[]"
            inner = "\n" + "  " * (level + 1)
            items = (self.dumps(item, level + 1) for item in value)
            return "[" + inner + ("," + inner).join(items) + "\n" + "  " * level + "]"
        if value is None:
            return "null"
        if kind is int:
            return int.__repr__(value)
        if kind is float and math.isfinite(value):
            return float.__repr__(value)
        return self._flat.encode(value)  # booleans, and what json encodes its own way


class JsonReport:
    """The JSON document written result by result, the same text ``json.dumps(..., indent=2)``
    gives for the whole document.

    Args:
        ascii_only: escape every non-ASCII character (a stream that cannot carry UTF-8, such as
            a latin-1 or GBK console, still receives valid JSON).
    """

    def __init__(self, write: Write, lang: str = "zh", *, ascii_only: bool = False) -> None:
        self.write = write
        self.lang = lang
        self.ascii_only = ascii_only
        self.count = 0
        self.amended: list[dict[str, Any]] = []
        self._json = IndentedJson(ascii_only=ascii_only)
        self.write('{\n  "xlcheck": ' + self._dumps(__version__) + ',\n  "results": [')

    def _dumps(self, value: Any) -> str:
        text = self._json.dumps(value)
        return text if self.ascii_only else escape_json_controls(text)

    def add(self, result: VerificationResult) -> None:
        entry = _indented(self._dumps(result.to_dict(self.lang)), "    ")
        self.write(("," if self.count else "") + "\n" + entry)
        self.count += 1

    def amend(self, amendment: Amendment) -> None:
        """Findings added to a workbook already written, listed after the results under
        ``across_workbooks`` with the workbook's new status."""
        self.amended.append(
            {
                "path": str(amendment.path),
                "index": amendment.index,
                "status": amendment.after,
                "findings": [finding.to_dict(self.lang) for finding in amendment.added],
            }
        )

    def finish(self, mails_without_workbook: int = 0) -> None:
        self.write("\n  ]" if self.count else "]")
        if self.amended:
            entries = _indented(self._dumps(self.amended), "  ").lstrip()
            self.write(',\n  "across_workbooks": ' + entries)
        if mails_without_workbook:
            self.write(f',\n  "mails_without_workbook": {mails_without_workbook}')
        self.write("\n}\n")


def _indented(text: str, prefix: str) -> str:
    """``textwrap.indent(text, prefix)`` of JSON text, without a generator step per line.

    A line of ``json.dumps(..., indent=2)`` is never blank, and the only line breaks in it are its
    own, but for the two str.splitlines (and so textwrap) breaks that strings keep raw there:
    U+2028 and U+2029 (C0 and C1 controls are escaped). With those, textwrap indents as before.
    """
    if "\u2028" in text or "\u2029" in text:
        return textwrap.indent(text, prefix)
    return prefix + text.replace("\n", "\n" + prefix)


def render_json(
    results: Sequence[VerificationResult], lang: str = "zh", *, ascii_only: bool = False
) -> str:
    """The JSON document of ``results`` as text (without the last newline)."""
    pieces: list[str] = []
    report = JsonReport(pieces.append, lang, ascii_only=ascii_only)
    for result in results:
        report.add(result)
    report.finish()
    return "".join(pieces)[:-1]


def carries_utf8(stream: IO[str]) -> bool:
    """Whether ``stream`` encodes UTF-8 (a GBK console or a latin-1 pipe does not)."""
    try:
        name = codecs.lookup(getattr(stream, "encoding", None) or "ascii").name
    except LookupError:
        return False
    return name in ("utf-8", "utf-8-sig")


def open_report(
    output_format: str, write: Write, lang: str = "zh", *, stream: IO[str]
) -> TextReport | JsonReport:
    """The report ``verify`` prints into ``stream`` through ``write``: text, or JSON (escaped to
    ASCII where ``stream`` cannot carry UTF-8, so it stays valid)."""
    if output_format == "json":
        return JsonReport(write, lang, ascii_only=not carries_utf8(stream))
    return TextReport(write, lang)
