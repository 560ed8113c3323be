"""Checks across the workbooks of one run: a 部门整体 workbook's 项目支出 list against each project's
own 项目支出绩效自评表 (same unit and year), as a spec's ``links`` declare.

``cross_workbook_findings`` is a pure step over the results' values and cell locations;
``add_cross_workbook_findings`` loads the specs and returns the results with the findings added,
for a batch to call once every workbook is verified. A streaming batch keeps of each result only
the values its links read (``link_patterns``, read by ``verify_workbook``), so a run of thousands of
workbooks holds a few figures of each, not every value.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from xlcheck.cell_values import values_match
from xlcheck.errors import SpecError
from xlcheck.findings import CellRef, Finding, Rule, VerificationResult
from xlcheck.layout import lay_out
from xlcheck.records import record
from xlcheck.rules.links import PROJECT_AMOUNT_DIFFERS, PROJECT_SHEET_MISSING, PROJECT_TOTAL_DIFFERS
from xlcheck.rules.registry import make_finding
from xlcheck.spec import LinkSpec, Spec
from xlcheck.spec_loading import builtin_spec_ids, load_spec

#: A unit code some provinces print before the name (219001-池州市…棠溪镇人民政府).
_UNIT_CODE = re.compile(r"^\d+[-－—_]*")
_ROW = re.compile(r"^(?P<table>.+)\[(?P<row>\d+)\]\.(?P<column>[^.\[\]]+)$")


@record
class _Figure:
    """One item's name and figure in one workbook, with where they stand."""

    result: int
    name: str
    name_key: str
    amount: Any
    amount_key: str
    #: For a row of the list: its row in the table.
    row: int = 0

    @property
    def matched_name(self) -> str:
        return _normal(self.name)


def _normal(text: Any) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


def _unit(text: Any) -> str:
    return _UNIT_CODE.sub("", _normal(text)) if text not in (None, "") else ""


def _value(result: VerificationResult, key: str | None, prefix: str = "") -> Any:
    if key is None:
        return None
    return result.all_values.get(prefix + key, result.all_values.get(key))


def _listed(index: int, result: VerificationResult, link: LinkSpec) -> list[_Figure]:
    """The rows of the list table that name an item."""
    rows = []
    for key, value in result.all_values.items():
        match = _ROW.match(key)
        if (
            match is None
            or match["table"] != link.table
            or match["column"] != link.name
            or value in (None, "")
        ):
            continue
        amount_key = f"{link.table}[{match['row']}].{link.amount}"
        amount = result.all_values.get(amount_key)
        rows.append(_Figure(index, str(value), key, amount, amount_key, int(match["row"])))
    return sorted(rows, key=lambda f: f.row)


def _details(
    index: int, result: VerificationResult, spec: Spec, link: LinkSpec
) -> list[tuple[str, Any, _Figure]]:
    """Every item sheet of ``result`` (one per project), with its unit and year."""
    figures = []
    for key, value in result.all_values.items():
        if not key.endswith(link.detail_name) or value in (None, ""):
            continue
        prefix = key[: len(key) - len(link.detail_name)]
        if prefix and not prefix.endswith("."):
            continue
        unit = _unit(_value(result, spec.role("unit"), prefix))
        year = _value(result, spec.role("year"), prefix)
        amount_key = prefix + link.detail_amount
        figure = _Figure(index, str(value), key, result.all_values.get(amount_key), amount_key)
        figures.append((unit, year, figure))
    return figures


def _details_by_unit(
    results: Sequence[VerificationResult], spec: Spec, link: LinkSpec
) -> dict[str, list[tuple[Any, _Figure]]]:
    """The item sheets of every result of the link's template, by unit (read once per run)."""
    by_unit: dict[str, list[tuple[Any, _Figure]]] = {}
    for index, result in enumerate(results):
        if result.template is None or result.template.id != link.template:
            continue
        for unit, year, figure in _details(index, result, spec, link):
            by_unit.setdefault(unit, []).append((year, figure))
    return by_unit


def _place(result: VerificationResult, key: str) -> str:
    where = result.locations.get(key)
    return str(where) if where is not None else key


def _finding(rule_: Rule, result: VerificationResult, key: str, **params: Any) -> Finding:
    location: CellRef | None = result.locations.get(key)
    finding = make_finding(rule_, None, location=location, **params)
    return dataclasses.replace(finding, field=key)


@record
class _Labels:
    listed: str
    detail: str
    detail_title: str


def _labels(spec: Spec, detail_spec: Spec, link: LinkSpec) -> _Labels:
    listed = lay_out(spec).by_key.get(f"{link.table}[1].{link.amount}")
    detail_layout = lay_out(detail_spec)
    found = detail_layout.instances_of(link.detail_amount)
    detail = detail_layout.by_key[found[0]] if found else None
    return _Labels(
        listed.spec.label if listed else link.amount,
        detail.short_label if detail else link.detail_amount,
        detail_spec.title,
    )


def cross_workbook_findings(
    results: Sequence[VerificationResult], specs: Mapping[str, Spec]
) -> dict[int, list[Finding]]:
    """Findings to add to results of one run (result index → findings), from the ``links`` of
    the specs (template id → spec) their workbooks were verified against."""
    found: dict[int, list[Finding]] = {}
    indexed: dict[LinkSpec, dict[str, list[tuple[Any, _Figure]]]] = {}
    for index, result in enumerate(results):
        spec = specs.get(result.template.id) if result.template else None
        for link in spec.links if spec else ():
            assert spec is not None
            detail_spec = specs.get(link.template)
            unit = _unit(_value(result, spec.role("unit")))
            if detail_spec is None or not unit:
                continue
            if link not in indexed:
                indexed[link] = _details_by_unit(results, detail_spec, link)
            year = _value(result, spec.role("year"))
            details = [
                figure
                for their_year, figure in indexed[link].get(unit, [])
                if year is None or their_year in (None, year)
            ]
            if details:
                labels = _labels(spec, detail_spec, link)
                for position, finding in _compare(results, index, link, details, labels):
                    found.setdefault(position, []).append(finding)
    return found


def _compare(
    results: Sequence[VerificationResult],
    index: int,
    link: LinkSpec,
    details: list[_Figure],
    labels: _Labels,
) -> list[tuple[int, Finding]]:
    result = results[index]
    listed = _listed(index, result, link)
    by_name: dict[str, list[_Figure]] = {}
    for detail in details:
        by_name.setdefault(detail.matched_name, []).append(detail)
    out: list[tuple[int, Finding]] = []
    differs = missing = False
    for row in listed:
        matches = by_name.get(row.matched_name, [])
        if not matches:
            missing = True
            out.append(
                (
                    index,
                    _finding(
                        PROJECT_SHEET_MISSING,
                        result,
                        row.name_key,
                        name=row.name,
                        count=len(details),
                        detail_title=labels.detail_title,
                        detail_title_en=labels.detail_title,
                    ),
                )
            )
            continue
        for detail in matches:
            if not isinstance(row.amount, int | float) or not isinstance(
                detail.amount, int | float
            ):
                continue
            if values_match(row.amount, detail.amount, 2):
                continue
            differs = True
            other = results[detail.result]
            out.append((index, _amounts(result, row, other, detail, labels.listed, labels.detail)))
            out.append(
                (
                    detail.result,
                    _amounts(other, detail, result, row, labels.detail, labels.listed),
                )
            )
    total_key = f"{link.table}.total.{link.amount}"
    total = result.all_values.get(total_key)
    if missing or differs or not isinstance(total, int | float):
        return out
    amounts = [d.amount for d in details if isinstance(d.amount, int | float)]
    if len(amounts) != len(details) or values_match(total, sum(amounts), 2):
        return out
    listed_names = {row.matched_name for row in listed}
    unlisted = [d.name for d in details if d.matched_name not in listed_names]
    out.append(
        (
            index,
            _finding(
                PROJECT_TOTAL_DIFFERS,
                result,
                total_key,
                expected=round(sum(amounts), 2),
                actual=total,
                here_label=f"{labels.listed}合计",
                here=f"{total:.2f}",
                count=len(details),
                there_label=labels.detail,
                there=f"{sum(amounts):.2f}",
                extra=f"（未列入项目支出表的：{'、'.join(unlisted)}）" if unlisted else "",
                extra_en=f" (not in the list: {', '.join(unlisted)})" if unlisted else "",
            ),
        )
    )
    return out


def _amounts(
    here: VerificationResult,
    figure: _Figure,
    there: VerificationResult,
    other: _Figure,
    here_label: str,
    there_label: str,
) -> Finding:
    return _finding(
        PROJECT_AMOUNT_DIFFERS,
        here,
        figure.amount_key,
        expected=other.amount,
        actual=figure.amount,
        name=figure.name,
        here_label=here_label,
        here=f"{figure.amount:.2f}",
        there_label=there_label,
        there=f"{other.amount:.2f}",
        other_file=Path(there.path).name,
        other_place=_place(there, other.amount_key),
    )


def _load(template: str | Path) -> Spec | None:
    try:
        return load_spec(template)
    except SpecError:
        return None  # a workbook of a template not installed here: nothing to link


def add_cross_workbook_findings(
    results: Sequence[VerificationResult], *, template: str | Path | None = None
) -> list[VerificationResult]:
    """The results of one run with the findings across workbooks added (sorted as usual).

    Args:
        template: the spec every workbook was verified against (``verify -t``), if one was given.
    """
    found = findings_across(results, template)
    return [
        dataclasses.replace(
            result,
            findings=tuple(sorted((*result.findings, *found[i]), key=Finding.sort_key)),
        )
        if i in found
        else result
        for i, result in enumerate(results)
    ]


def findings_across(
    results: Sequence[VerificationResult], template: str | Path | None = None
) -> dict[int, list[Finding]]:
    """``cross_workbook_findings`` of a run's results (index → its new findings), specs loaded."""
    verified = [r for r in results if r.template is not None and r.unreadable_reason is None]
    if len(verified) < 2:
        return {}  # a link needs two workbooks of one run
    specs: dict[str, Spec] = {}
    given = _load(template) if template is not None else None
    if given is not None:
        specs[given.id] = given
    for result in results:
        if result.template is not None and result.template.id not in specs:
            loaded = _load(result.template.id)
            if loaded is not None:
                specs[loaded.id] = loaded
    if not any(spec.links for spec in specs.values()):
        return {}
    return cross_workbook_findings(results, specs)


def link_patterns(specs: Iterable[Spec]) -> dict[str, str]:
    """Template id → a pattern matching the field keys the links between ``specs`` read from a
    workbook of that template (its unit and year, the listed names and amounts, the item sheets'
    names and amounts); a template no link reads has none."""
    keys: dict[str, set[str]] = {}
    by_id = {spec.id: spec for spec in specs}
    for spec in by_id.values():
        for link in spec.links:
            detail = by_id.get(link.template)
            if detail is None:
                continue
            table, name, amount = (re.escape(part) for part in (link.table, link.name, link.amount))
            lister = keys.setdefault(spec.id, set())
            lister.add(rf"{table}\[\d+\]\.(?:{name}|{amount})")
            lister.add(rf"{table}\.total\.{amount}")
            lister.update(re.escape(key) for key in _role_keys(spec))
            item = keys.setdefault(detail.id, set())
            endings = (link.detail_name, link.detail_amount, *_role_keys(detail))
            item.add(r"(?:.*\.)?(?:" + "|".join(re.escape(key) for key in endings) + ")")
    return {template: "|".join(sorted(patterns)) for template, patterns in keys.items()}


def _role_keys(spec: Spec) -> list[str]:
    return [key for key in (spec.role("unit"), spec.role("year")) if key is not None]


def run_link_patterns(template: str | Path | None) -> dict[str, str]:
    """``link_patterns`` of the specs a run may meet: the one given (``verify -t``) and the
    installed ones."""
    specs = [spec for spec in map(_load, builtin_spec_ids()) if spec is not None]
    given = _load(template) if template is not None else None
    if given is not None:
        specs = [spec for spec in specs if spec.id != given.id] + [given]
    return link_patterns(specs)
