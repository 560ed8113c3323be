"""Verification results → text for an accountant, or the JSON document for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from xlcheck.findings import MailOrigin, Severity, VerificationResult
from xlcheck.version import __version__

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
    },
}


def render_text(results: Sequence[VerificationResult], lang: str = "zh") -> str:
    """One block per workbook: its template, each finding with its cell, then the counts."""
    words = _WORDS[lang]
    blocks = []
    for result in results:
        lines = [str(result.path)]
        if result.mail is not None:
            lines.append("  " + _mail_line(result.mail, lang))
        if result.unreadable_reason is not None:
            lines.append(
                f"  {words['unreadable']}：{result.unreadable_reason}"
                if lang == "zh"
                else f"  {words['unreadable']}: {result.unreadable_reason}"
            )
            blocks.append("\n".join(lines))
            continue
        template = (
            f"{result.template.id} {result.template.version}"
            if result.template
            else words["unknown"]
        )
        separator = "：" if lang == "zh" else ": "
        lines.append(
            f"  {words['template']}{separator}{template}　{words['app']}{separator}{result.application or words['unknown']}"
        )
        for finding in result.findings:
            where = str(finding.location) if finding.location else "—"
            lines.append(
                f"  {words[finding.severity]:<4} {where:<14} {finding.message_in(lang)}  [{finding.code}]"
            )
        lines.append(
            "  "
            + (
                words["summary"].format(errors=result.errors, warnings=result.warnings)
                if result.findings
                else words["ok"]
            )
        )
        if result.annotated:
            lines.append(f"  {words['annotated']}{separator}{result.annotated}")
        blocks.append("\n".join(lines))
    if len(results) > 1:
        blocks.append(render_totals(results, lang))
    return "\n\n".join(blocks)


def _mail_line(mail: MailOrigin, lang: str) -> str:
    """Which mail a workbook came from: file, sender, subject (and who it was forwarded from)."""
    where = f"{mail.mail_file}" + (f" #{mail.message_number}" if mail.message_number else "")
    if lang == "en":
        forwarded = f", forwarded from {mail.forwarded_from}" if mail.forwarded_from else ""
        return f"from mail: {where}, sender {mail.sender}, subject “{mail.subject}”{forwarded}"
    forwarded = f"，转发自 {mail.forwarded_from}" if mail.forwarded_from else ""
    return f"来自邮件：{where}，发件人 {mail.sender}，主题“{mail.subject}”{forwarded}"


def render_totals(results: Sequence[VerificationResult], lang: str = "zh") -> str:
    """One line counting a batch's workbooks by status."""
    counts = {status: 0 for status in ("ok", "warnings", "errors", "unreadable")}
    for result in results:
        counts[result.status] += 1
    if lang == "en":
        return (
            f"{len(results)} workbooks: {counts['ok']} clean, {counts['warnings']} with warnings, "
            f"{counts['errors']} with errors, {counts['unreadable']} could not be verified."
        )
    return (
        f"共 {len(results)} 个工作簿：{counts['ok']} 个无问题，{counts['warnings']} 个仅有警告，"
        f"{counts['errors']} 个有错误，{counts['unreadable']} 个无法校验。"
    )


def to_document(results: Sequence[VerificationResult], lang: str = "zh") -> dict[str, Any]:
    """The JSON document ``verify --format json`` prints."""
    return {"xlcheck": __version__, "results": [r.to_dict(lang) for r in results]}


def render_json(results: Sequence[VerificationResult], lang: str = "zh") -> str:
    return json.dumps(to_document(results, lang), ensure_ascii=False, indent=2, default=str)
