"""The verify core: choose the spec, open the package, relocate, read, recompute, run the rules."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlcheck.cell_values import Normalised, is_blank, json_value, normalise
from xlcheck.errors import OutputExistsError, TemplateMismatchError
from xlcheck.findings import TemplateIdentity, VerificationResult
from xlcheck.layout import Layout, PlacedField, lay_out
from xlcheck.layout.self_check import SELF_CHECK_ROLE
from xlcheck.records import record
from xlcheck.spec import Spec
from xlcheck.spec_loading import builtin_spec_ids, builtin_spec_path, load_spec

if TYPE_CHECKING:
    from xlcheck.reader import FilledWorkbook


@record
class VerifyOptions:
    """How ``verify_workbook`` runs.

    Attributes:
        template: built-in template id or spec path; None reads it from the workbook.
        output: where the annotated copy goes; None puts ``<name>.checked.xlsx`` beside the input.
        force: overwrite an existing annotated copy.
        annotate: write the annotated copy at all.
        lang: ``zh`` or ``en`` for messages in the annotated copy.
    """

    template: str | Path | None = None
    output: Path | None = None
    force: bool = False
    annotate: bool = True
    lang: str = "zh"


def annotated_path(path: Path, output: Path | None = None) -> Path:
    """Where the annotated copy of ``path`` goes: ``output``, or ``<name>.checked.xlsx`` beside it."""
    if output is not None:
        return output
    return path.with_name(f"{path.stem}.checked.xlsx")


def select_spec(path: Path, identity: TemplateIdentity | None, template: str | Path | None) -> Spec:
    if template is not None:
        spec = load_spec(template)
        if identity is not None and identity.id != spec.id:
            raise TemplateMismatchError(
                path,
                f"此工作簿由模板 {identity.id}（{identity.version} 版）生成，不是 {spec.id}",
                message_en=f"this workbook was built from template {identity.id} (version {identity.version}), not {spec.id}",
                hint=f"去掉 -t 让 xlcheck 按工作簿自带的模板校验，或用 -t 指定 {identity.id} 的规格文件。",
                hint_en=f"Drop -t to verify against the workbook's own template, or pass the spec of {identity.id}.",
            )
    elif identity is None:
        raise TemplateMismatchError(
            path,
            "工作簿里没有 xlcheck 模板标识，无法确定按哪个模板校验",
            message_en="the workbook carries no xlcheck template mark, so its template is unknown",
            hint=f"用 -t 指定模板（内置：{'、'.join(builtin_spec_ids())}），或用 xlcheck template 生成模板后填写。",
            hint_en=f"Name the template with -t (built in: {', '.join(builtin_spec_ids())}), or fill a template made by `xlcheck template`.",
        )
    elif (builtin := builtin_spec_path(identity.id)) is None:
        raise TemplateMismatchError(
            path,
            f"工作簿由模板 {identity.id} 生成，但本机没有这个模板的规格",
            message_en=f"the workbook was built from template {identity.id}, whose spec is not installed here",
            hint="用 -t 指定该模板的规格文件（.yaml）。",
            hint_en="Pass that template's spec file (.yaml) with -t.",
        )
    else:
        spec = load_spec(builtin)
    if identity is not None and identity.version != spec.version:
        raise TemplateMismatchError(
            path,
            f"工作簿由模板 {spec.id} 的 {identity.version} 版生成，而校验用的规格是 {spec.version} 版",
            message_en=f"the workbook was built from version {identity.version} of {spec.id}, but the spec is version {spec.version}",
            hint=f"用 -t 指定 {identity.version} 版的规格文件，或把数据转填到 {spec.version} 版的新模板。",
            hint_en=f"Pass the version {identity.version} spec with -t, or move the data into a version {spec.version} template.",
        )
    return spec


def verify_workbook(
    path: Path,
    *,
    options: VerifyOptions | None = None,
    linked_only: Mapping[str, str] | None = None,
) -> VerificationResult:
    """Verify one workbook: recompute every derived value, run every rule, annotate a copy.

    The result keeps each field's value and cell (``all_values``, ``locations``: for
    ``collect``, the links across workbooks, the 自评报告). A batch keeps only what the links
    across its workbooks read: ``linked_only`` maps a template id to the pattern of those keys
    (``cross_workbook.link_patterns``); a template it does not name keeps none.

    Raises:
        WorkbookError: the file cannot be read, or the annotated copy cannot be written.
        TemplateMismatchError: the workbook is not from the template (version) it is checked against.
        OutputExistsError: the annotated copy exists and ``options.force`` is false.
    """
    from xlcheck import reader  # openpyxl and calamine only when verifying

    options = options or VerifyOptions()
    out = annotated_path(path, options.output)
    if options.annotate and out.exists() and not options.force:
        raise OutputExistsError(out)
    from xlcheck.relocation import relocate

    with reader.open_workbook(path) as source:
        spec = select_spec(path, source.identity(), options.template)
        layout = lay_out(spec)
        relocation = relocate(layout, source.grids(layout), source.formula_at)
        filled = source.read(relocation.layout, relocation.notes)
        result = check_filled(spec, filled, linked_only=linked_only)
        if not options.annotate:
            return result
        from xlcheck.annotator import annotate_workbook

        # A read-only input folder moves the default copy elsewhere; None: not an Office Open
        # XML package (.xls), which the formulas-unread finding reports.
        written = annotate_workbook(
            result,
            out,
            source=source.package.data,  # the bytes verified, read once
            parts=source.package.parts,  # and the parts already inflated from them
            lang=options.lang,
            force=options.force,
            may_relocate=out == annotated_path(path),
            frozen=frozen_panes(filled.layout or layout),
        )
    return dataclasses.replace(result, annotated=written)


def verify_with_layout(
    path: Path, *, template: str | Path | None = None
) -> tuple[VerificationResult, Layout]:
    """Verify one workbook (no annotated copy), with the layout it was read by: its sheets as the
    workbook has them, every instance of a sheet written once per item and the rows a unit
    inserted, so the result's ``all_values`` keys are that layout's fields (the 自评报告 needs it).

    Raises:
        WorkbookError, TemplateMismatchError: as ``verify_workbook``.
    """
    from xlcheck import reader
    from xlcheck.relocation import relocate

    with reader.open_workbook(path) as source:
        spec = select_spec(path, source.identity(), template)
        layout = lay_out(spec)
        relocation = relocate(layout, source.grids(layout), source.formula_at)
        filled = source.read(relocation.layout, relocation.notes)
        return check_filled(spec, filled), filled.layout or layout


def typed_subtotals(
    layout: Layout, cells: Mapping[str, Normalised], typed: Mapping[str, Any]
) -> dict[str, float]:
    """Sums typed as a number over input parts that are all blank: field key → typed figure.

    Units often have 基本支出 from the final accounts but not its breakdown; the figure they type
    then stands for the parts in every total above it, instead of the totals counting it as 0.
    """
    found: dict[str, float] = {}
    for key, value in typed.items():
        derive = layout.by_key[key].spec.derive
        if derive is None or derive.verb != "sum" or not isinstance(value, int | float):
            continue
        parts = derive.field_keys()
        if parts and all(
            layout.by_key[part].is_input
            and part in cells
            and cells[part].value is None
            and cells[part].problem is None
            for part in parts
        ):
            found[key] = float(value)
    return found


def frozen_panes(layout: Layout) -> dict[str, tuple[int, int]]:
    """Sheet name (in the workbook) → (rows, columns) the template freezes on it."""
    return {sheet.name: sheet.frozen for sheet in layout.sheets if any(sheet.frozen)}


@functools.lru_cache(maxsize=16)
def _cell_types(layout: Layout) -> dict[str, tuple[str, str | None, bool]]:
    """Field key → (value type, unit, whether an input): how a cell read is normalised and kept.

    The same for every workbook of a layout (which hashes by identity), so worked out once
    instead of asked of each field for every cell of every workbook."""
    return {f.key: (f.spec.value_type, f.spec.unit, f.is_input) for f in layout.fields}


@functools.lru_cache(maxsize=16)
def _data_fields(layout: Layout) -> tuple[PlacedField, ...]:
    """The fields whose values a summary collects: the 自查 sheet's results are not data."""
    return tuple(placed for placed in layout.fields if placed.role != SELF_CHECK_ROLE)


@functools.lru_cache(maxsize=16)
def _linked_fields(layout: Layout, pattern: str) -> tuple[PlacedField, ...]:
    """The data fields whose keys the links across workbooks read (``pattern``), matched once
    per layout rather than every key again for every workbook of a batch."""
    linked = re.compile(pattern).fullmatch
    return tuple(placed for placed in _data_fields(layout) if linked(placed.key))


@functools.lru_cache(maxsize=16)
def _role_fields(layout: Layout, spec: Spec) -> dict[str, str]:
    """Role → the key of the field playing it in ``layout`` (see ``Layout.role``)."""
    return {role: found for role, _ in spec.roles if (found := layout.role(role))}


def check_filled(
    spec: Spec, filled: FilledWorkbook, *, linked_only: Mapping[str, str] | None = None
) -> VerificationResult:
    """Recompute every derived value of a read workbook and run every rule on it. The result
    keeps each field's value and cell, or with ``linked_only`` (as ``verify_workbook``) only the
    values, not blank, that the links across workbooks read."""
    from xlcheck.recompute import recompute_derived
    from xlcheck.rules import RuleContext, run_rules

    layout = filled.layout if filled.layout is not None else lay_out(spec)
    by_key = layout.by_key
    cell_types = _cell_types(layout)
    # Every cell read is normalised once, here, and handed on.
    cells: dict[str, Normalised] = {}
    inputs: dict[str, Any] = {}
    typed: dict[str, Any] = {}  # derived cells holding a typed value instead of their formula
    for key, reading in filled.cells.items():
        value_type, unit, is_input = cell_types[key]
        cells[key] = normalised = normalise(reading.raw, value_type, unit)
        if is_input:
            inputs[key] = normalised.value
        elif reading.formula is None and not is_blank(reading.raw):
            typed[key] = normalised.value
    subtotals = typed_subtotals(layout, cells, typed) if filled.formulas_read else {}
    values = recompute_derived(layout, inputs, overrides=subtotals)
    context = RuleContext(layout, filled, cells, values, typed, frozenset(subtotals))
    findings = tuple(run_rules(context))

    def shown_in_json(key: str) -> Any:
        spec_of = by_key[key].spec
        return json_value(values.get(key), spec_of.value_type, spec_of.decimals)

    if linked_only is None:
        all_values = {placed.key: shown_in_json(placed.key) for placed in _data_fields(layout)}
    elif (pattern := linked_only.get(spec.id)) is None:
        all_values = {}
    else:
        # Blank cells are as good as absent to the links: an empty 项目支出 row is not kept.
        all_values = {
            placed.key: shown
            for placed in _linked_fields(layout, pattern)
            if (shown := shown_in_json(placed.key)) not in (None, "")
        }
    role_fields = _role_fields(layout, spec)
    return VerificationResult(
        path=filled.path,
        template=TemplateIdentity(spec.id, spec.version, spec.spec_hash, spec.title),
        findings=findings,
        application=filled.application,
        values={role: shown_in_json(key) for role, key in role_fields.items()},
        role_fields=dict(role_fields),
        all_values=all_values,
        locations={key: by_key[key].location for key in all_values},
    )
