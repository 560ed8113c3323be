"""The use cases a library user calls: templates, fields, verification, batches, summaries."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlcheck.cell_values import is_blank, normalise
from xlcheck.errors import OutputExistsError, XlcheckError
from xlcheck.findings import VerificationResult
from xlcheck.layout import lay_out
from xlcheck.spec import Spec, load_spec
from xlcheck.verification import VerifyOptions, annotated_path, verify_workbook

__all__ = [
    "FieldInfo",
    "VerifyOptions",
    "annotated_path",
    "collect_values",
    "list_fields",
    "load_prefill",
    "merge_summaries",
    "prefill_values",
    "start_batch",
    "verify_batch",
    "verify_paths",
    "verify_workbook",
    "write_replies",
    "write_summary",
    "write_template",
]

if TYPE_CHECKING:
    from xlcheck.exchange.batch_run import BatchRun, SideOutputs

DEFAULT_TEMPLATE = "zhanjiang-overall"


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


def verify_paths(
    paths: Iterable[Path], *, options: VerifyOptions | None = None
) -> list[VerificationResult]:
    """Verify several workbook files in this process; one that cannot be verified is ``unreadable``.

    Raises:
        OutputExistsError: an annotated copy exists and ``options.force`` is false.
    """
    from xlcheck.exchange.batch import verify_inputs
    from xlcheck.exchange.sources import WorkbookInput

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
    cannot be read becomes an ``unreadable`` result; the batch goes on. For batches of thousands,
    ``start_batch`` streams the results instead of returning them all at once.

    Args:
        jobs: worker processes; None uses every core this process may use.
        out_dir: folder for annotated copies (names never collide, existing files are never
            overwritten); None writes each beside its workbook.
        progress: called with (done, total) after each workbook.

    Raises:
        OutputExistsError: an annotated copy exists and ``options.force`` is false.
        OutputRefusedError: ``options.output`` is an input, a symlink or not a regular file.
    """
    from xlcheck.exchange.batch import verify_inputs
    from xlcheck.exchange.sources import expand_sources

    attachments = out_dir / "attachments" if out_dir is not None else None
    excluded = [out_dir] if out_dir is not None else []
    inputs = expand_sources(sources, attachments_dir=attachments, excluded=excluded)
    return verify_inputs(
        inputs, options=options or VerifyOptions(), jobs=jobs, out_dir=out_dir, progress=progress
    )


def start_batch(
    sources: Sequence[str | Path],
    *,
    options: VerifyOptions | None = None,
    side: SideOutputs | None = None,
    jobs: int | None = None,
    out_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchRun:
    """A batch whose results stream in input order (iterate it), with its summary and reply
    drafts written as they pass; call ``finish()`` after the last result.

    Raises (before any workbook is verified):
        OutputExistsError: the summary or an annotated copy exists and ``options.force`` is false.
        OutputRefusedError: the summary or ``options.output`` is an input, a symlink or not a
            regular file.
    """
    from xlcheck.exchange.batch_run import BatchRun, SideOutputs

    return BatchRun(
        sources,
        options=options or VerifyOptions(),
        side=side or SideOutputs(),
        jobs=jobs,
        out_dir=out_dir,
        progress=progress,
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
        OutputRefusedError: ``out`` is one of the workbooks, a symlink or not a regular file.
    """
    from xlcheck.exchange import summary

    return summary.write_summary(
        summary.build_summary(results, lang),
        out,
        output_format=output_format,
        lang=lang,
        force=force,
        inputs=[r.path for r in results],
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

    Every shard is checked (types, finite numbers, nesting) before anything is written.

    Raises:
        XlcheckError: a shard is not a valid xlcheck summary.
        OutputExistsError: ``out`` exists and ``force`` is false.
        OutputRefusedError: ``out`` is one of the shards, a symlink or not a regular file.
    """
    from xlcheck.exchange import summary, summary_shards
    from xlcheck.output_files import check_output_path

    check_output_path(out, force=force, inputs=shards)
    merged = summary_shards.merge_summaries(shards, lang)
    try:
        return summary.write_summary(
            merged, out, output_format=output_format, lang=lang, force=force, inputs=shards
        )
    finally:
        merged.findings.close()


def write_replies(
    results: Sequence[VerificationResult],
    out_dir: Path | None,
    *,
    lang: str = "zh",
    sender: str | None = None,
) -> list[Path]:
    """Draft reply .eml files, one per mail the results came from; see ``replies.write_replies``."""
    from xlcheck.exchange import replies

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
        The verification results (without ``all_values``), so a caller can report the
        workbooks that gave no values.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is false (checked before verifying).
        OutputRefusedError: ``out`` is an input, a symlink or not a regular file.
        XlcheckError: an unknown format, or pyarrow missing for Parquet.
    """
    from xlcheck.exchange import collect
    from xlcheck.exchange.batch import iter_verify
    from xlcheck.exchange.batch_run import input_files
    from xlcheck.exchange.sources import expand_sources
    from xlcheck.output_files import check_output_path

    collect.collect_format(out, output_format)
    check_output_path(out, force=force)
    inputs = expand_sources(sources)
    files = input_files(inputs)
    check_output_path(out, force=force, inputs=files)
    options = VerifyOptions(template=template, annotate=False, lang=lang)
    table = collect.ValueRows(template)
    results = []
    for result in iter_verify(inputs, options=options, jobs=jobs, progress=progress):
        table.add(result)
        results.append(dataclasses.replace(result, all_values={}))
    collect.write_values(table.rows, out, output_format=output_format, force=force, inputs=files)
    return results
