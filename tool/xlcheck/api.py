"""The use cases a library user calls: templates, fields, verification, batches, summaries."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlcheck.errors import XlcheckError
from xlcheck.findings import VerificationResult
from xlcheck.layout import PlacedField, lay_out
from xlcheck.output_files import check_output_path, write_output
from xlcheck.prefill import Prefill, build_prefill, check_values, read_prefill
from xlcheck.records import record
from xlcheck.spec import Spec
from xlcheck.spec_loading import load_spec
from xlcheck.verification import VerifyOptions, annotated_path, verify_workbook

if TYPE_CHECKING:
    from xlcheck.narrative.report_check import ReportCheckOptions
    from xlcheck.narrative.report_draft import DraftResult
    from xlcheck.narrative.results import ReportCheckResult

__all__ = [
    "FieldInfo",
    "Prefill",
    "VerifyOptions",
    "annotated_path",
    "check_report",
    "collect_values",
    "draft_report",
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


@record
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
    #: On a sheet written once per item: its repeat key (``project``) and the field naming each
    #: sheet; ``key`` then reads ``project[n].…`` (``project[1].…``, ``project[2].…`` in results).
    repeat: str | None = None
    name_field: str | None = None

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
        # Bounds are written as the spec gives them: a year's minimum is 2000, not 2000.0.
        if self.min is not None:
            data["min"] = int(self.min) if float(self.min).is_integer() else self.min
        if self.max is not None:
            data["max"] = int(self.max) if float(self.max).is_integer() else self.max
        if self.choices:
            data["choices"] = list(self.choices)
        if self.repeat:
            data["repeat"] = {"key": self.repeat, "name_field": self.name_field}
        return data


def list_fields(template: str | Path = DEFAULT_TEMPLATE) -> list[FieldInfo]:
    """Every input and derived cell of a template, in sheet order; on a sheet written once per
    item the key reads ``project[n].…`` and ``repeat`` names the list ``--data`` takes."""
    layout = lay_out(load_spec(template))
    repeats = {s.index: (s.key_prefix, s.sheet.repeat) for s in layout.sheets if s.sheet.repeat}

    def key_of(f: PlacedField) -> str:
        prefix, repeat = repeats.get(f.sheet_index, ("", None))
        return f"{repeat.key}[n].{f.key.removeprefix(prefix)}" if repeat else f.key

    return [
        FieldInfo(
            key=key_of(f),
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
            repeat=repeat.key if (repeat := repeats.get(f.sheet_index, ("", None))[1]) else None,
            name_field=repeat.name_field if repeat else None,
        )
        for f in layout.fields
    ]


def load_prefill(path: Path, spec: Spec) -> Prefill:
    """Read the JSON values for ``template --data``, checked against the spec (see ``prefill``)."""
    return read_prefill(path, spec)


def prefill_values(data: Mapping[str, Any], spec: Spec, *, source: str = "--data") -> Prefill:
    """Field key → value (lists for sheets written once per item), checked and normalised."""
    return build_prefill(data, spec, source=source)


def write_template(
    out: Path,
    *,
    template: str | Path = DEFAULT_TEMPLATE,
    year: int | None = None,
    unit: str | None = None,
    prefill: Prefill | Mapping[str, Any] | None = None,
    force: bool = False,
) -> Path:
    """Write a fill-in template; ``year`` and ``unit`` fill the spec's year and unit fields.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is false.
        SpecError, XlcheckError: a bad spec or pre-fill value.
    """
    from xlcheck import template_writer

    spec = load_spec(template)
    check_output_path(out, force=force)
    given = prefill if isinstance(prefill, Prefill) else build_prefill(prefill or {}, spec)
    layout = given.layout(spec)
    values = dict(given.values)
    year_key = layout.role("year")
    # On a sheet written once per item (one per project) every item takes the year and unit.
    extra = {
        key: value
        for role, value in (("year", year), ("unit", unit))
        if value is not None
        for key in layout.instances_of(spec.role(role) or "")
    }
    values.update(check_values(extra, spec, layout, source="--year/--unit"))
    year_shown = values.get(year_key) if year_key else None
    suffix = f"（{year_shown} 年度）" if year_shown else ""
    content = template_writer.write_template(
        spec, out, prefill=values, title_suffix=suffix, layout=layout
    )
    try:
        return write_output(out, content, force=force)
    except OSError as exc:
        raise XlcheckError(
            f"无法写入模板 {out}（{exc.strerror or exc}）",
            message_en=f"cannot write the template {out} ({exc.strerror or exc})",
        ) from exc


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


def draft_report(
    workbook: Path,
    out: Path,
    *,
    template: str | Path | None = None,
    outline: Path | None = None,
    allow_errors: bool = False,
    force: bool = False,
) -> DraftResult:
    """Draft the 自评报告 (.docx) from a verified workbook; see ``narrative.report_draft``.

    A workbook with errors is refused (``result.refused``, nothing written) unless ``allow_errors``.

    Raises:
        WorkbookError, TemplateMismatchError: the workbook cannot be verified.
        SpecError: no (or a malformed) report template for the workbook's template.
        OutputExistsError: ``out`` exists and ``force`` is false.
    """
    from xlcheck.narrative import report_draft

    return report_draft.draft_report(
        workbook, out, template=template, outline=outline, allow_errors=allow_errors, force=force
    )


def check_report(report: Path, *, options: ReportCheckOptions | None = None) -> ReportCheckResult:
    """Check the figures of a written report (.docx/.txt/.md/.pdf); see ``narrative.report_check``.

    Raises:
        FileProblemError: the report cannot be read.
        WorkbookError, TemplateMismatchError: ``options.workbook`` cannot be verified.
        OutputExistsError: the annotated copy exists and ``options.force`` is false.
    """
    from xlcheck.narrative import report_check

    return report_check.check_report(report, options=options)
