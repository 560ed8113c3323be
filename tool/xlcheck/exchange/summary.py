"""The batch summary (汇总表) as data: one row per workbook, every finding, CSV/JSON, shard merging."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlcheck.cell_values import safe_text
from xlcheck.errors import OutputExistsError, XlcheckError
from xlcheck.findings import VerificationResult
from xlcheck.version import __version__

SUMMARY_KIND = "xlcheck-summary"
FORMATS = ("xlsx", "csv", "json")

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
}
STATUS_WORDS = {
    "zh": {"unreadable": "无法校验", "errors": "有错误", "warnings": "有警告", "ok": "通过"},
    "en": {"unreadable": "unreadable", "errors": "errors", "warnings": "warnings", "ok": "ok"},
}
#: Problems first: a reviewer works down the list from the top.
_STATUS_ORDER = {"unreadable": 0, "errors": 1, "warnings": 2, "ok": 3}
_NUMERIC = (
    "year",
    "errors",
    "warnings",
    "budget",
    "income",
    "spending",
    "execution_rate",
    "total_score",
)


@dataclass
class Summary:
    """The rows of a summary (column key → value) and its findings (one row per finding)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)


def _received(result: VerificationResult) -> str | None:
    """When the workbook arrived: the mail's date, else the file's modification time."""
    if result.mail is not None and result.mail.date:
        return result.mail.date
    try:
        moment = dt.datetime.fromtimestamp(os.stat(result.path).st_mtime, dt.UTC)
    except OSError:
        return None
    return moment.astimezone().isoformat(timespec="seconds")


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
    }


def finding_rows(result: VerificationResult, lang: str = "zh") -> list[dict[str, Any]]:
    """Every finding of one workbook as tidy rows."""
    base = {
        "file": str(result.path),
        "unit": result.values.get("unit"),
        "year": result.values.get("year"),
    }
    return [
        {**base, **{k: f.to_dict(lang)[k] for k in FINDING_COLUMNS if k not in base}}
        for f in result.findings
    ]


def mark_duplicates(rows: list[dict[str, Any]], lang: str = "zh") -> None:
    """Flag rows with the same unit and year, naming the newer submission on each of them."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        row["duplicate"] = None
        if row.get("unit") not in (None, "") and row.get("year") not in (None, ""):
            groups.setdefault((str(row["unit"]), str(row["year"])), []).append(row)
    for group in groups.values():
        if len(group) < 2:
            continue
        newest = max(group, key=lambda r: (str(r.get("received") or ""), str(r["file"])))
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


def build_summary(results: Iterable[VerificationResult], lang: str = "zh") -> Summary:
    """The summary of a batch: rows sorted problems first, duplicates flagged, all findings."""
    summary = Summary()
    for result in results:
        summary.rows.append(summary_row(result))
        summary.findings.extend(finding_rows(result, lang))
    mark_duplicates(summary.rows, lang)
    sort_rows(summary.rows)
    return summary


def summary_format(path: Path, requested: str | None) -> str:
    """The format asked for, else the one the file name suggests (xlsx when it suggests none)."""
    if requested:
        return requested
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "xlsx"


def write_summary(
    summary: Summary,
    path: Path,
    *,
    output_format: str | None = None,
    lang: str = "zh",
    force: bool = False,
) -> Path:
    """Write the summary as an .xlsx workbook, a CSV file (rows only) or a JSON document.

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is false.
        XlcheckError: the file cannot be written.
    """
    if path.exists() and not force:
        raise OutputExistsError(path)
    chosen = summary_format(path, output_format)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if chosen == "xlsx":
            from xlcheck.exchange.summary_workbook import write_summary_workbook

            write_summary_workbook(summary, path, lang=lang)
        elif chosen == "csv":
            with path.open("w", encoding="utf-8-sig", newline="") as handle:  # -sig: Excel reads it
                writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
                writer.writeheader()
                # Unit names and file names come from the units: never a formula in a spreadsheet.
                writer.writerows({k: safe_text(v) for k, v in row.items()} for row in summary.rows)
        else:
            document = {
                "xlcheck": __version__,
                "kind": SUMMARY_KIND,
                "workbooks": summary.rows,
                "findings": summary.findings,
            }
            path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    except OSError as exc:
        raise XlcheckError(
            f"无法写入汇总表 {path}（{exc.strerror or exc}）",
            message_en=f"cannot write the summary {path} ({exc.strerror or exc})",
        ) from exc
    return path


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row's text back to numbers, and empty cells back to None."""
    typed: dict[str, Any] = {}
    for key in COLUMNS:
        value = row.get(key)
        if value in (None, ""):
            typed[key] = None
        elif key in _NUMERIC:
            number = float(value)
            typed[key] = int(number) if key in ("year", "errors", "warnings") else number
        else:
            typed[key] = value
    return typed


def read_summary(path: Path) -> Summary:
    """A summary written by ``verify --summary`` as JSON or CSV (a shard to merge).

    Raises:
        XlcheckError: the file cannot be read or is not an xlcheck summary.
    """

    def bad(problem: str, problem_en: str) -> XlcheckError:
        return XlcheckError(
            f"{path}：{problem}",
            message_en=f"{path}: {problem_en}",
            hint="请传入 xlcheck verify --summary-format json 或 csv 写出的汇总文件。",
            hint_en="Pass summaries written by xlcheck verify --summary-format json or csv.",
        )

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise bad(f"无法读取（{exc}）", f"cannot read it ({exc})") from exc
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise bad(f"不是有效的 JSON（{exc}）", f"not valid JSON ({exc})") from exc
        if not isinstance(document, dict) or document.get("kind") != SUMMARY_KIND:
            raise bad("不是 xlcheck 汇总文件", "not an xlcheck summary")
        return Summary(
            [_typed(r) for r in document.get("workbooks", [])], list(document.get("findings", []))
        )
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames is None or not {"file", "status"} <= set(reader.fieldnames):
            raise bad(
                "不是 xlcheck 汇总 CSV（缺少 file、status 列）",
                "not an xlcheck summary CSV (no file, status columns)",
            )
        try:
            return Summary([_typed(r) for r in reader])
        except ValueError as exc:
            raise bad(f"数值列有误（{exc}）", f"a numeric column is wrong ({exc})") from exc
    raise bad("只能合并 .json 或 .csv 汇总文件", "only .json or .csv summaries can be merged")


def merge_summaries(paths: Sequence[Path], lang: str = "zh") -> Summary:
    """Shards verified on different machines → one summary, duplicates flagged across shards."""
    merged = Summary()
    for path in paths:
        shard = read_summary(path)
        merged.rows.extend(shard.rows)
        merged.findings.extend(shard.findings)
    mark_duplicates(merged.rows, lang)
    sort_rows(merged.rows)
    return merged
