"""The verify core: choose the spec, open the package, relocate, read, recompute, run the rules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlcheck.cell_values import is_blank, json_value, normalise
from xlcheck.errors import OutputExistsError, TemplateMismatchError
from xlcheck.findings import TemplateIdentity, VerificationResult
from xlcheck.layout import lay_out, scoring_sheet
from xlcheck.spec import Spec, builtin_spec_ids, load_spec

if TYPE_CHECKING:
    from xlcheck.reader import FilledWorkbook


@dataclass(frozen=True)
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
    elif identity.id not in builtin_spec_ids():
        raise TemplateMismatchError(
            path,
            f"工作簿由模板 {identity.id} 生成，但本机没有这个模板的规格",
            message_en=f"the workbook was built from template {identity.id}, whose spec is not installed here",
            hint="用 -t 指定该模板的规格文件（.yaml）。",
            hint_en="Pass that template's spec file (.yaml) with -t.",
        )
    else:
        spec = load_spec(identity.id)
    if identity is not None and identity.version != spec.version:
        raise TemplateMismatchError(
            path,
            f"工作簿由模板 {spec.id} 的 {identity.version} 版生成，而校验用的规格是 {spec.version} 版",
            message_en=f"the workbook was built from version {identity.version} of {spec.id}, but the spec is version {spec.version}",
            hint=f"用 -t 指定 {identity.version} 版的规格文件，或把数据转填到 {spec.version} 版的新模板。",
            hint_en=f"Pass the version {identity.version} spec with -t, or move the data into a version {spec.version} template.",
        )
    return spec


def verify_workbook(path: Path, *, options: VerifyOptions | None = None) -> VerificationResult:
    """Verify one workbook: recompute every derived value, run every rule, annotate a copy.

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
        result = check_filled(spec, filled)
        if not options.annotate:
            return result
        from xlcheck.annotator import annotate_workbook

        # A read-only input folder moves the default copy elsewhere; None: openpyxl cannot load
        # the package. TODO(#9): the annotator is to work on filled.package.data (the bytes
        # verified), not re-read the path.
        written = annotate_workbook(
            result, out, lang=options.lang, may_relocate=out == annotated_path(path)
        )
    return dataclasses.replace(result, annotated=written)


def check_filled(spec: Spec, filled: FilledWorkbook) -> VerificationResult:
    """Recompute every derived value of a read workbook and run every rule on it."""
    from xlcheck.recompute import recompute_derived
    from xlcheck.rules import RuleContext, run_rules

    layout = filled.layout if filled.layout is not None else lay_out(spec)
    scoring = scoring_sheet(layout.spec)
    grades = scoring.grades if scoring else ()
    by_key = layout.by_key
    inputs = {
        key: normalise(cell.raw, by_key[key].spec.value_type, by_key[key].spec.unit)
        for key, cell in filled.cells.items()
        if by_key[key].is_input
    }
    values = recompute_derived(layout, {k: n.value for k, n in inputs.items()}, grades)
    shown = {
        key: normalise(cell.raw, by_key[key].spec.value_type, by_key[key].spec.unit).value
        for key, cell in filled.cells.items()
        if not by_key[key].is_input and cell.formula is None and not is_blank(cell.raw)
    }
    findings = tuple(run_rules(RuleContext(layout, filled, inputs, values, shown, scoring)))

    def shown_in_json(key: str) -> Any:
        spec_of = by_key[key].spec
        return json_value(values.get(key), spec_of.value_type, spec_of.decimals)

    return VerificationResult(
        path=filled.path,
        template=TemplateIdentity(spec.id, spec.version, spec.spec_hash),
        findings=findings,
        application=filled.application,
        values={role: shown_in_json(key) for role, key in spec.roles},
        all_values={placed.key: shown_in_json(placed.key) for placed in layout.fields},
    )
