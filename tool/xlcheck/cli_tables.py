"""``xlcheck collect`` and ``xlcheck summary merge``: tables over many workbooks."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from xlcheck.cli_options import (
    JOBS_OPTION,
    LANG_OPTION,
    SOURCES_ARGUMENT,
    echo_unreadable,
    exit_code_for,
    force_option,
    message_lang,
    output_option,
    template_option,
)
from xlcheck.control_characters import escape_controls


@click.command()
@SOURCES_ARGUMENT
@output_option(
    "输出表：.csv、.xlsx 或 .parquet（需 pyarrow）/ the table: .csv, .xlsx or .parquet (needs pyarrow).",
    required=True,
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "xlsx", "parquet"]),
    default=None,
    help="输出格式，默认按扩展名 / output format (default: by extension).",
)
@template_option(
    "按此模板读取；默认读取工作簿自带的模板标识 / read with this template (default: the one the workbook names)."
)
@JOBS_OPTION
@LANG_OPTION
@force_option()
@click.pass_context
def collect(
    ctx: click.Context,
    sources: tuple[str, ...],
    output: Path,
    output_format: str | None,
    template: str | None,
    jobs: int | None,
    force: bool,
) -> NoReturn:
    """把所有工作簿的每个填报值和重算值汇成一张长表 / every value of every workbook as a tidy table.

    \b
    列 / columns: file, unit, year, template, sheet, cell, key, label, kind,
    value（数值）, text（文本、日期、等级）, unit_of_measure, status。
    """
    from xlcheck import api
    from xlcheck.exchange.progress import ProgressBar

    lang = message_lang(ctx)
    results = api.collect_values(
        sources,
        output,
        template=template,
        jobs=jobs,
        output_format=output_format,
        force=force,
        lang=lang,
        progress=ProgressBar.for_stderr(lang),
    )
    echo_unreadable(results)
    click.echo(escape_controls(str(output)))
    unreadable = any(r.unreadable_reason is not None for r in results)
    ctx.exit(exit_code_for(["unreadable"] if unreadable else []))


@click.group()
def summary() -> None:
    """汇总表操作 / work with batch summaries."""


@summary.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
@output_option(
    "合并后的汇总表（.xlsx、.csv 或 .json）/ the merged summary (.xlsx, .csv or .json).",
    required=True,
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["xlsx", "csv", "json"]),
    default=None,
    help="输出格式，默认按扩展名 / output format (default: by extension).",
)
@LANG_OPTION
@force_option()
@click.pass_context
def summary_merge(
    ctx: click.Context,
    shards: tuple[Path, ...],
    output: Path,
    output_format: str | None,
    force: bool,
) -> None:
    """合并各台机器分片校验的汇总（JSON/CSV）/ merge shard summaries into one.

    \b
    各分片用 xlcheck verify ... --summary 分片N.json 校验，再在一台机器上合并：
      xlcheck summary merge 分片1.json 分片2.json -o 汇总表.xlsx
    """
    from xlcheck import api

    merged = api.merge_summaries(
        list(shards), output, output_format=output_format, lang=message_lang(ctx), force=force
    )
    click.echo(escape_controls(str(merged)))
