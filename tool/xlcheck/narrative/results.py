"""Report findings and the result of checking one report: pure data, text for people, JSON.

The JSON document has the shape ``xlcheck verify --format json`` prints (``{"xlcheck": version,
"results": [...]}``, each result with path, template, status, errors, warnings, annotated, reason,
findings); a report finding names its ``paragraph`` and quotes its ``sentence`` where a workbook
finding names its ``sheet`` and ``cell``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlcheck.findings import CheckedFile, Severity, TemplateIdentity
from xlcheck.records import record
from xlcheck.terminal_columns import pad
from xlcheck.version import __version__


@record
class ReportFinding:
    """One problem at one sentence of a report.

    ``expected`` and ``actual`` are JSON values in the field's unit (万元, a fraction for a
    percentage), as ``verify`` gives them; ``expected_text``/``actual_text`` as a reader writes them.
    """

    code: str
    severity: Severity
    message: str
    message_en: str
    paragraph: int
    sentence: str
    field: str | None = None
    expected: Any = None
    actual: Any = None
    #: Where in the paragraph the figure is (for ordering and for the annotated copy).
    offset: int = dataclasses.field(default=0, compare=False)
    docx_index: int | None = dataclasses.field(default=None, compare=False)
    expected_text: str | None = dataclasses.field(default=None, compare=False)
    actual_text: str | None = dataclasses.field(default=None, compare=False)

    def message_in(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message

    def sort_key(self) -> tuple[int, int, str, str]:
        return (self.paragraph, self.offset, self.code, self.field or "")

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "paragraph": self.paragraph,
            "sentence": self.sentence,
            "field": self.field,
            "message": self.message_in(lang),
            "expected": self.expected,
            "actual": self.actual,
        }


@record
class ReportCheckResult(CheckedFile):
    """Everything ``report check`` learned about one report."""

    path: Path
    template: TemplateIdentity | None
    findings: tuple[ReportFinding, ...] = ()
    annotated: Path | None = None
    #: The workbook the figures were compared with, and how its own verification ended.
    workbook: Path | None = None
    workbook_status: str | None = None
    workbook_errors: int = 0
    #: How many stated figures were named (a field found for them), out of all figures read.
    figures_named: int = 0
    figures_read: int = 0

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {
            **self.head_dict(None, None),
            "workbook": (
                {
                    "path": str(self.workbook),
                    "status": self.workbook_status,
                    "errors": self.workbook_errors,
                }
                if self.workbook
                else None
            ),
            "figures": {"read": self.figures_read, "named": self.figures_named},
            "findings": [f.to_dict(lang) for f in self.findings],
        }


def to_document(results: Sequence[ReportCheckResult], lang: str = "zh") -> dict[str, Any]:
    """The JSON document ``report check --format json`` prints."""
    return {"xlcheck": __version__, "results": [r.to_dict(lang) for r in results]}


def render_json(results: Sequence[ReportCheckResult], lang: str = "zh") -> str:
    return json.dumps(to_document(results, lang), ensure_ascii=False, indent=2)


def _quote(sentence: str, limit: int = 60) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def render_text(result: ReportCheckResult, lang: str = "zh") -> str:
    """The report's findings for people: each with its paragraph and sentence, then the counts."""
    zh = lang != "en"
    lines = [str(result.path)]
    template = f"{result.template.id} {result.template.version}" if result.template else "—"
    lines.append(
        f"  模板：{template}　读到 {result.figures_read} 个数字，认出 {result.figures_named} 个"
        if zh
        else f"  template: {template}; {result.figures_read} figures read, {result.figures_named} named"
    )
    if result.workbook is not None:
        lines.append(
            f"  对照工作簿：{result.workbook}（工作簿本身 {result.workbook_errors} 个错误，见 xlcheck verify）"
            if zh
            else f"  compared with: {result.workbook} ({result.workbook_errors} errors of its own; see xlcheck verify)"
        )
    for finding in result.findings:
        severity = (
            ("错误" if finding.severity is Severity.ERROR else "警告")
            if zh
            else finding.severity.value
        )
        where = f"第 {finding.paragraph} 段" if zh else f"paragraph {finding.paragraph}"
        lines.append(
            f"  {pad(severity, 7 if not zh else 4)} {pad(where, 10)} {finding.message_in(lang)}"
            f"  [{finding.code}]"
        )
        lines.append(f"         “{_quote(finding.sentence)}”")
    if result.findings:
        lines.append(
            f"  共 {result.errors} 个错误、{result.warnings} 个警告。"
            if zh
            else f"  {result.errors} errors, {result.warnings} warnings."
        )
    else:
        lines.append("  未发现问题。" if zh else "  No problems found.")
    if result.annotated is not None:
        lines.append(
            f"  批注副本：{result.annotated}" if zh else f"  annotated copy: {result.annotated}"
        )
    return "\n".join(lines)
