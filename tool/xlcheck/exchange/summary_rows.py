"""The batch summary (汇总表) as data: one row per workbook and one per finding, built as results
stream past (findings spooled to a temporary file), duplicates flagged, problems first."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from xlcheck.findings import Amendment, Finding, VerificationResult

#: Column key → (Chinese header, English header), in the order the summary shows them.
COLUMNS: dict[str, tuple[str, str]] = {
    "file": ("文件", "File"),
    "mail_file": ("邮件", "Mail"),
    "sender": ("发件人", "Sender"),
    "subject": ("邮件主题", "Subject"),
    "received": ("收到/修改时间", "Received"),
    "unit": ("单位", "Unit"),
    "year": ("年度", "Year"),
    "template": ("模板", "Template"),
    "template_version": ("模板版本", "Version"),
    "application": ("最后保存的软件", "Last saved by"),
    "status": ("状态", "Status"),
    "errors": ("错误数", "Errors"),
    "warnings": ("警告数", "Warnings"),
    "budget": ("预算数（万元）", "Budget"),
    "income": ("实际收入（万元）", "Income"),
    "spending": ("实际支出（万元）", "Spending"),
    "execution_rate": ("预算执行率（重算）", "Execution rate (recomputed)"),
    "total_score": ("总分", "Total score"),
    "grade": ("等级", "Grade"),
    "duplicate": ("重复提交", "Duplicate"),
    "reason": ("无法校验的原因", "Why it could not be verified"),
    "annotated": ("批注副本", "Annotated copy"),
    # Last, so CSV readers that count columns still find the others where they were.
    "execution_rate_reported": ("单位填报（≠ 重算）", "As reported (≠ recomputed)"),
}
FINDING_COLUMNS: dict[str, tuple[str, str]] = {
    "file": ("文件", "File"),
    "unit": ("单位", "Unit"),
    "year": ("年度", "Year"),
    "severity": ("级别", "Severity"),
    "code": ("代码", "Code"),
    "sheet": ("工作表", "Sheet"),
    "cell": ("单元格", "Cell"),
    "field": ("字段", "Field"),
    "message": ("说明", "Message"),
    "expected": ("应为", "Expected"),
    "actual": ("实际", "Actual"),
    # As the cells show them (99.72%, 1,131.12 万元): what the 汇总表 prints under 应为 and 实际.
    "expected_text": ("应为（显示）", "Expected (as shown)"),
    "actual_text": ("实际（显示）", "Actual (as shown)"),
}
STATUS_WORDS = {
    "zh": {"unreadable": "无法校验", "errors": "有错误", "warnings": "有警告", "ok": "通过"},
    "en": {"unreadable": "unreadable", "errors": "errors", "warnings": "warnings", "ok": "ok"},
}
#: Columns holding numbers (whole numbers for the first three).
INTEGER_COLUMNS = ("year", "errors", "warnings")
NUMBER_COLUMNS = (
    *INTEGER_COLUMNS,
    "budget",
    "income",
    "spending",
    "execution_rate",
    "execution_rate_reported",
    "total_score",
)
#: Rule codes saying that a derived cell shows another figure than its inputs give, with that
#: figure as the finding's ``actual``: the unit's own result, where the summary recomputes one.
DIFFERING_FIGURE_CODES = frozenset({"derived-mismatch", "ratio-wrong-base", "shown-value-wrong"})
#: Problems first: a reviewer works down the list from the top.
_STATUS_ORDER = {"unreadable": 0, "errors": 1, "warnings": 2, "ok": 3}
#: Findings kept in memory before the spool moves to a temporary file.
_SPOOL_IN_MEMORY = 4 * 1_048_576


class FindingRows:
    """Every finding row of a summary, appended as results come and read back in that order.

    The rows go to a spooled temporary file as JSON lines: a batch of 10,000 workbooks with
    findings does not keep them all in memory, and the file is gone when the summary is.
    """

    def __init__(self, rows: Iterable[dict[str, Any]] = ()) -> None:
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        # Closed by close(), or quietly when these rows are garbage.
        self._closer = weakref.finalize(self, self._spool.close)
        self._count = 0
        self.extend(rows)

    def append(self, row: dict[str, Any]) -> None:
        self._write_line(row)

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self._write_line(row)

    def extend_read_back(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append ``rows`` and return them as reading these rows gives them back (a tuple as a
        list, a date as its text), for whoever writes them out as they come."""
        return [json.loads(self._write_line(row)) for row in rows]

    def _write_line(self, row: dict[str, Any]) -> bytes:
        line = json.dumps(row, ensure_ascii=False, default=str).encode() + b"\n"
        self._spool.seek(0, os.SEEK_END)
        self._spool.write(line)
        self._count += 1
        return line

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._spool.seek(0)
        for line in iter(self._spool.readline, b""):
            position = self._spool.tell()
            yield json.loads(line)
            self._spool.seek(position)  # another reader (or an append) may have moved it

    def close(self) -> None:
        self._closer()


@dataclass
class Summary:
    """The rows of a summary (column key → value) and its findings (one row per finding)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: FindingRows = field(default_factory=FindingRows)


def _received(result: VerificationResult) -> str | None:
    """When the workbook arrived: the mail's date, else the file's modification time."""
    if result.mail is not None and result.mail.date:
        return result.mail.date
    try:
        moment = dt.datetime.fromtimestamp(os.stat(result.path).st_mtime, dt.UTC)
    except (OSError, ValueError):
        return None
    return moment.astimezone().isoformat(timespec="seconds")


def reported_figure(result: VerificationResult, role: str) -> Any:
    """The number the workbook itself shows for ``role`` when it differs from the recomputed
    one (a finding on the role's field says so), else None."""
    key = result.role_fields.get(role)
    if key is None:
        return None
    for finding in result.findings:
        actual = finding.actual
        if (
            finding.field == key
            and finding.code in DIFFERING_FIGURE_CODES
            and isinstance(actual, int | float)
            and not isinstance(actual, bool)
            and math.isfinite(actual)
        ):
            return actual
    return None


def summary_row(result: VerificationResult) -> dict[str, Any]:
    """One workbook's row: where it came from, its status and counts, its key figures."""
    values = result.values
    mail = result.mail
    return {
        "file": str(result.path),
        "mail_file": str(mail.mail_file) if mail else None,
        "sender": mail.sender if mail else None,
        "subject": mail.subject if mail else None,
        "received": _received(result),
        "unit": values.get("unit"),
        "year": values.get("year"),
        "template": result.template.id if result.template else None,
        "template_version": result.template.version if result.template else None,
        "application": result.application,
        "status": result.status,
        "errors": result.errors,
        "warnings": result.warnings,
        "budget": values.get("budget"),
        "income": values.get("income"),
        "spending": values.get("spending"),
        "execution_rate": values.get("execution_rate"),
        "total_score": values.get("total_score"),
        "grade": values.get("grade"),
        "duplicate": None,
        "reason": result.unreadable_reason,
        "annotated": str(result.annotated) if result.annotated else None,
        "execution_rate_reported": reported_figure(result, "execution_rate"),
    }


def finding_rows(
    result: VerificationResult, lang: str = "zh", findings: Sequence[Finding] | None = None
) -> list[dict[str, Any]]:
    """Every finding of one workbook (or only ``findings``) as tidy rows."""
    base = {
        "file": str(result.path),
        "unit": result.values.get("unit"),
        "year": result.values.get("year"),
    }
    rows = []
    for finding in result.findings if findings is None else findings:
        data = finding.to_dict(lang)
        data.update(expected_text=finding.expected_text, actual_text=finding.actual_text)
        rows.append({**base, **{k: data[k] for k in FINDING_COLUMNS if k not in base}})
    return rows


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)


def received_instant(text: Any) -> dt.datetime:
    """A row's ``received`` as an instant: ISO text with its offset (without one: local time);
    missing or unreadable sorts as the earliest."""
    if not isinstance(text, str) or not text:
        return _EARLIEST
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return _EARLIEST
    try:
        return moment if moment.tzinfo is not None else moment.astimezone()
    except (OverflowError, ValueError, OSError):  # a naive date at the ends of time
        return _EARLIEST


def mark_duplicates(rows: list[dict[str, Any]], lang: str = "zh") -> None:
    """Flag rows with the same unit and year, naming the newer submission on each of them.

    "Newer" compares instants: 09:00+08:00 is earlier than 02:00Z the same day.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        row["duplicate"] = None
        if row.get("unit") not in (None, "") and row.get("year") not in (None, ""):
            groups.setdefault((str(row["unit"]), str(row["year"])), []).append(row)
    for group in groups.values():
        if len(group) < 2:
            continue
        newest = max(group, key=lambda r: (received_instant(r.get("received")), str(r["file"])))
        for row in group:
            if row is newest:
                row["duplicate"] = (
                    f"同单位同年度共 {len(group)} 份，此份最新"
                    if lang == "zh"
                    else f"newest of {len(group)} submissions for this unit and year"
                )
            else:
                row["duplicate"] = (
                    f"同单位同年度共 {len(group)} 份，较新的是 {newest['file']}"
                    if lang == "zh"
                    else f"{len(group)} submissions for this unit and year; newer: {newest['file']}"
                )


def sort_rows(rows: list[dict[str, Any]]) -> None:
    """Problems first (unreadable, errors, warnings, ok), then by unit, year and file."""
    rows.sort(
        key=lambda r: (
            _STATUS_ORDER.get(str(r.get("status")), 9),
            -int(r.get("errors") or 0),
            str(r.get("unit") or ""),
            str(r.get("year") or ""),
            str(r.get("file")),
        )
    )


#: Told each result's finding rows as they are added, as the summary's findings will give them
#: back (``FindingRows.extend_read_back``).
FindingsListener = Callable[[list[dict[str, Any]]], None]


class SummaryBuilder:
    """Collects a summary as results stream past: ``add`` each result, then ``finish``.

    Args:
        on_findings: called with the finding rows of each result (and amendment) as they are
            added, in the order of the summary's findings: the summary workbook writes them
            then, not after the last result.
    """

    def __init__(self, lang: str = "zh", *, on_findings: FindingsListener | None = None) -> None:
        self.lang = lang
        self.summary = Summary()
        self.on_findings = on_findings
        self._held_rows: dict[int, dict[str, Any]] = {}

    def add(self, result: VerificationResult, *, index: int | None = None) -> None:
        """Add a result's row and findings; a result with an ``index`` (its place in the batch)
        may be amended later."""
        row = summary_row(result)
        self.summary.rows.append(row)
        self._add_findings(finding_rows(result, self.lang))
        if index is not None:
            self._held_rows[index] = row

    def amend(self, amendment: Amendment, result: VerificationResult) -> None:
        """Count and list the findings added to the result added under ``amendment.index``."""
        row = self._held_rows[amendment.index]
        row.update(status=amendment.after, errors=amendment.errors, warnings=amendment.warnings)
        self._add_findings(finding_rows(result, self.lang, amendment.added))

    def _add_findings(self, rows: list[dict[str, Any]]) -> None:
        if self.on_findings is None:
            self.summary.findings.extend(rows)
        elif rows:
            self.on_findings(self.summary.findings.extend_read_back(rows))

    def finish(self) -> Summary:
        """The summary: duplicates flagged, rows sorted problems first."""
        self._held_rows = {}
        mark_duplicates(self.summary.rows, self.lang)
        sort_rows(self.summary.rows)
        return self.summary


def build_summary(results: Iterable[VerificationResult], lang: str = "zh") -> Summary:
    """The summary of a batch: rows sorted problems first, duplicates flagged, all findings."""
    builder = SummaryBuilder(lang)
    for result in results:
        builder.add(result)
    return builder.finish()


def summary_format(path: Path, requested: str | None, formats: tuple[str, ...]) -> str:
    """The format asked for, else the one the file name suggests (xlsx when it suggests none)."""
    if requested:
        return requested
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in formats else "xlsx"
