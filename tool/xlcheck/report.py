"""Verification results → text for an accountant, or the JSON document for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from xlcheck import __version__
from xlcheck.findings import Severity, VerificationResult

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
    return "\n\n".join(blocks)


def to_document(results: Sequence[VerificationResult], lang: str = "zh") -> dict[str, Any]:
    """The JSON document ``verify --format json`` prints."""
    return {"xlcheck": __version__, "results": [r.to_dict(lang) for r in results]}


def render_json(results: Sequence[VerificationResult], lang: str = "zh") -> str:
    return json.dumps(to_document(results, lang), ensure_ascii=False, indent=2, default=str)
