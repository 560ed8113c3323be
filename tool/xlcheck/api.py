"""Use cases: write a template, list its fields, verify workbooks (and annotate them)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlcheck.cell_values import is_blank, json_value, normalise
from xlcheck.errors import OutputExistsError, TemplateMismatchError, XlcheckError
from xlcheck.findings import TemplateIdentity, VerificationResult
from xlcheck.layout import lay_out, scoring_sheet
from xlcheck.spec import Spec, builtin_spec_ids, load_spec

if TYPE_CHECKING:
    from xlcheck.reader import FilledWorkbook

DEFAULT_TEMPLATE = "zhanjiang-overall"


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


@dataclass(frozen=True)
class FieldInfo:
    """One cell of a template, as ``xlcheck fields`` lists it."""

    key: str
    label: str
    sheet: str
    cell: str
    kind: str
    type: str
    unit: str | None
    required: bool
    min: float | None
    max: float | None
    choices: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "sheet": self.sheet,
            "cell": self.cell,
            "kind": self.kind,
            "type": self.type,
            "unit": self.unit,
            "required": self.required,
        }
        if self.min is not None:
            data["min"] = self.min
        if self.max is not None:
            data["max"] = self.max
        if self.choices:
            data["choices"] = list(self.choices)
        return data


def list_fields(template: str | Path = DEFAULT_TEMPLATE) -> list[FieldInfo]:
    """Every input and derived cell of a template, in sheet order."""
    layout = lay_out(load_spec(template))
    return [
        FieldInfo(
            key=f.key,
            label=f.label_path,
            sheet=f.sheet,
            cell=f.cell_ref,
            kind="input" if f.is_input else "derived",
            type=f.spec.value_type,
            unit=f.spec.unit,
            required=f.spec.required,
            min=f.spec.minimum,
            max=f.spec.maximum,
            choices=f.spec.choices,
        )
        for f in layout.fields
    ]


def load_prefill(path: Path, spec: Spec) -> dict[str, Any]:
    """Read a JSON object of field key → value for ``template --data``, checked against the spec.

    Raises:
        XlcheckError: unreadable JSON, an unknown or derived key, or a value of the wrong type.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise XlcheckError(
            f"无法读取预填数据 {path}（{exc}）",
            message_en=f"cannot read prefill data {path} ({exc})",
            hint='预填数据应为 UTF-8 编码的 JSON 对象：{"字段键": 值}。',
            hint_en='Prefill data is a UTF-8 JSON object: {"field key": value}.',
        ) from exc
    if not isinstance(data, dict):
        raise XlcheckError(
            f"{path}：预填数据应为 JSON 对象",
            message_en=f"{path}: prefill data must be a JSON object",
        )
    return prefill_values(data, spec, source=str(path))


def prefill_values(
    data: Mapping[str, Any], spec: Spec, *, source: str = "--data"
) -> dict[str, Any]:
    """Field key → value checked and normalised for the template's input cells."""
    by_key = lay_out(spec).by_key
    values: dict[str, Any] = {}
    for key, raw in data.items():
        placed = by_key.get(key)
        if placed is None:
            raise XlcheckError(
                f"{source}：模板 {spec.id} 没有字段 {key}",
                message_en=f"{source}: template {spec.id} has no field {key}",
                hint="用 xlcheck fields 查看所有字段键。",
                hint_en="List the field keys with `xlcheck fields`.",
            )
        if not placed.is_input:
            raise XlcheckError(
                f"{source}：{key}（{placed.label_path}）由公式计算，不能预填",
                message_en=f"{source}: {key} ({placed.label_path}) is computed by a formula and cannot be pre-filled",
            )
        if is_blank(raw):
            continue
        normalised = normalise(raw, placed.spec.value_type, placed.spec.unit)
        if normalised.problem is not None or normalised.value is None:
            raise XlcheckError(
                f"{source}：{key}（{placed.label_path}）的值 {raw!r} 不是{placed.spec.value_type}类型",
                message_en=f"{source}: {key} ({placed.label_path}) value {raw!r} is not of type {placed.spec.value_type}",
            )
        values[key] = normalised.value
    return values


def write_template(
    out: Path,
    *,
    template: str | Path = DEFAULT_TEMPLATE,
    year: int | None = None,
    unit: str | None = None,
    prefill: Mapping[str, Any] | None = None,
    force: bool = False,
) -> Path:
    """Write a fill-in template; ``year`` and ``unit`` fill the spec's year and unit fields.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is false.
        SpecError, XlcheckError: a bad spec or pre-fill value.
    """
    from xlcheck import template_writer

    spec = load_spec(template)
    if out.exists() and not force:
        raise OutputExistsError(out)
    values = dict(prefill or {})
    year_key, unit_key = spec.role("year"), spec.role("unit")
    given = {year_key: year, unit_key: unit}
    extra = {key: value for key, value in given.items() if key is not None and value is not None}
    values.update(prefill_values(extra, spec, source="--year/--unit"))
    year_shown = values.get(year_key) if year_key else None
    suffix = f"（{year_shown} 年度）" if year_shown else ""
    return template_writer.write_template(spec, out, prefill=values, title_suffix=suffix)


def annotated_path(path: Path, output: Path | None = None) -> Path:
    """Where the annotated copy of ``path`` goes: ``output``, or ``<name>.checked.xlsx`` beside it."""
    if output is not None:
        return output
    return path.with_name(f"{path.stem}.checked.xlsx")


def _select_spec(
    path: Path, identity: TemplateIdentity | None, template: str | Path | None
) -> Spec:
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
    with reader.open_workbook(path) as source:
        spec = _select_spec(path, source.identity(), options.template)
        filled = source.read(lay_out(spec))
        result = check_filled(spec, filled)
        if not options.annotate:
            return result
        from xlcheck.annotator import annotate_workbook

        # A read-only input folder moves the default copy elsewhere; None: openpyxl cannot load
        # the package, which the formulas-unread finding reports. The annotator marks the
        # workbook the reader loaded, so the file is parsed once.
        written = annotate_workbook(
            result,
            out,
            lang=options.lang,
            may_relocate=out == annotated_path(path),
            document=filled.document,
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


def verify_paths(
    paths: Iterable[Path], *, options: VerifyOptions | None = None
) -> list[VerificationResult]:
    """Verify several workbook files in this process; one that cannot be verified is ``unreadable``.

    Raises:
        OutputExistsError: an annotated copy exists and ``options.force`` is false.
    """
    from xlcheck.batch import verify_inputs
    from xlcheck.sources import WorkbookInput

    inputs = [WorkbookInput(Path(p)) for p in paths]
    return verify_inputs(inputs, options=options or VerifyOptions(), jobs=1)


def verify_batch(
    sources: Sequence[str | Path],
    *,
    options: VerifyOptions | None = None,
    jobs: int | None = None,
    out_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[VerificationResult]:
    """Verify every workbook named by files, folders, glob patterns, .eml and mbox files.

    Mail attachments are saved to ``out_dir/attachments/`` (or ``<mail>.attachments/`` beside the
    mail) and verified like files; each result names its mail in ``result.mail``. An input that
    cannot be read becomes an ``unreadable`` result; the batch goes on.

    Args:
        jobs: worker processes; None uses every core.
        out_dir: folder for annotated copies (names never collide); None writes each beside its
            workbook.
        progress: called with (done, total) after each workbook.

    Raises:
        OutputExistsError: an annotated copy exists and ``options.force`` is false.
    """
    from xlcheck.batch import verify_inputs
    from xlcheck.sources import expand_sources

    attachments = out_dir / "attachments" if out_dir is not None else None
    excluded = [out_dir] if out_dir is not None else []
    inputs = expand_sources(sources, attachments_dir=attachments, excluded=excluded)
    return verify_inputs(
        inputs, options=options or VerifyOptions(), jobs=jobs, out_dir=out_dir, progress=progress
    )


def write_summary(
    results: Sequence[VerificationResult],
    out: Path,
    *,
    output_format: str | None = None,
    lang: str = "zh",
    force: bool = False,
) -> Path:
    """Write the batch summary (汇总表): .xlsx with chart, or CSV/JSON by ``output_format``/suffix.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is false.
    """
    from xlcheck import summary

    return summary.write_summary(
        summary.build_summary(results, lang),
        out,
        output_format=output_format,
        lang=lang,
        force=force,
    )


def merge_summaries(
    shards: Sequence[Path],
    out: Path,
    *,
    output_format: str | None = None,
    lang: str = "zh",
    force: bool = False,
) -> Path:
    """Merge JSON/CSV summaries of shards verified on different machines into one summary.

    Raises:
        XlcheckError: a shard is not an xlcheck summary.
        OutputExistsError: ``out`` exists and ``force`` is false.
    """
    from xlcheck import summary

    merged = summary.merge_summaries(shards, lang)
    return summary.write_summary(merged, out, output_format=output_format, lang=lang, force=force)


def write_replies(
    results: Sequence[VerificationResult],
    out_dir: Path | None,
    *,
    lang: str = "zh",
    sender: str | None = None,
) -> list[Path]:
    """Draft reply .eml files, one per mail the results came from; see ``replies.write_replies``."""
    from xlcheck import replies

    return replies.write_replies(results, out_dir, lang=lang, sender=sender)


def collect_values(
    sources: Sequence[str | Path],
    out: Path,
    *,
    template: str | Path | None = None,
    jobs: int | None = None,
    output_format: str | None = None,
    force: bool = False,
    lang: str = "zh",
    progress: Callable[[int, int], None] | None = None,
) -> list[VerificationResult]:
    """Verify the workbooks (no annotated copies) and write every value as a tidy table to ``out``.

    Returns:
        The verification results, so a caller can report the workbooks that gave no values.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is false (checked before verifying).
        XlcheckError: an unknown format, or pyarrow missing for Parquet.
    """
    from xlcheck import collect

    collect.collect_format(out, output_format)
    if out.exists() and not force:
        raise OutputExistsError(out)
    options = VerifyOptions(template=template, annotate=False, lang=lang)
    results = verify_batch(sources, options=options, jobs=jobs, progress=progress)
    collect.write_values(
        collect.collect_rows(results, template), out, output_format=output_format, force=force
    )
    return results
