"""The rule catalogue: one module per rule family, ``run_rules`` over all of them, and the
catalogue ``docs/findings.md`` is generated from, so codes stay documented and unique."""

from __future__ import annotations

from xlcheck.findings import Finding, Rule
from xlcheck.rules import (
    bounds,
    checks,
    derived,
    indicators,
    inputs,
    links,  # noqa: F401  (declares the rules xlcheck.cross_workbook applies to a run)
    placement,
    scoring,
    tables,
    workbook,
)
from xlcheck.rules.registry import REGISTRY, Check, RuleContext, make_finding, rule

__all__ = [
    "REGISTRY",
    "Check",
    "Rule",
    "RuleContext",
    "all_rules",
    "make_finding",
    "render_catalogue",
    "rule",
    "run_rules",
]

FAMILIES: tuple[Check, ...] = (
    placement.check,
    inputs.check,
    derived.check,
    bounds.check,
    scoring.check,
    indicators.check,
    checks.check,
    tables.check,
    workbook.check,
)


def run_rules(context: RuleContext) -> list[Finding]:
    """Every finding of every rule family, sorted by sheet, row and column."""
    findings = [finding for family in FAMILIES for finding in family(context)]
    return sorted(findings, key=Finding.sort_key)


def all_rules() -> list[Rule]:
    """The catalogue in code order."""
    return sorted(REGISTRY.values(), key=lambda r: r.code)


def render_catalogue() -> str:
    """``docs/findings.md``: every rule code, its severity and meaning, from the registry."""
    lines = [
        "# Finding codes",
        "",
        "Generated from the rule registry (`xlcheck.rules.render_catalogue`); a test keeps it current.",
        "Codes are stable: scripts may rely on them. Severity `error` makes `verify` exit 1.",
        "A severity marked “spec” is the default for a check a template spec declares: the spec may",
        "set `severity: warning` (or `error`) per check, so the same code can come as either; the",
        "built-in `zhanjiang-overall` spec, for one, emits `limit-exceeded` as a warning.",
        "",
        "| code | severity | 含义 | meaning | message |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in all_rules():
        severity = entry.severity.value + (" (spec)" if entry.severity_from_spec else "")
        lines.append(
            f"| `{entry.code}` | {severity} | {entry.title}：{entry.description} | {entry.title_en} | {entry.message} |"
        )
    return "\n".join(lines) + "\n"
