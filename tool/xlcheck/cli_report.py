"""``xlcheck report``: draft the 自评报告 from a verified workbook, check a written report's figures."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from xlcheck.cli_options import (
    LANG_OPTION,
    NO_ANNOTATE_OPTION,
    OUTLINE_OPTION,
    TEXT_OR_JSON_OPTION,
    ExitCode,
    exit_code_for,
    force_option,
    message_lang,
    output_option,
    template_option,
)
from xlcheck.control_characters import escape_controls


@click.group()
def report() -> None:
    """自评报告：从工作簿起草、核对报告里的数字 / draft the 自评报告, check a report's figures."""


@report.command("draft")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option("草稿 .docx 的路径，默认 <文件名>-自评报告.docx / the draft .docx.")
@template_option("按此模板读取工作簿 / read the workbook with this template.")
@OUTLINE_OPTION
@click.option(
    "--allow-errors",
    is_flag=True,
    help="工作簿有错误时也起草（默认拒绝并列出错误）/ draft even when the workbook has errors.",
)
@LANG_OPTION
@force_option()
@click.pass_context
def report_draft(
    ctx: click.Context,
    workbook: Path,
    output: Path | None,
    template: str | None,
    outline: Path | None,
    allow_errors: bool,
    force: bool,
) -> NoReturn:
    """按校验过的工作簿起草自评报告（.docx）/ draft the report from a verified workbook.

    \b
    每个数字都取自校验（重新计算）后的工作簿；只有单位能写的内容以黄底【……】标出。
    Every figure comes from the verified workbook; what only the unit can write is a
    highlighted 【……】 placeholder. A workbook with errors is refused unless --allow-errors.
    """
    from xlcheck import api
    from xlcheck import report as verify_report

    lang = message_lang(ctx)
    out = output or workbook.with_name(f"{workbook.stem}-自评报告.docx")
    result = api.draft_report(
        workbook, out, template=template, outline=outline, allow_errors=allow_errors, force=force
    )
    errors = result.verification.errors
    if result.refused:
        click.echo(verify_report.render_text([result.verification], lang))
        click.echo(
            f"未起草：工作簿有 {errors} 个错误；请改正后重试，或加 --allow-errors 照样起草。"
            if lang == "zh"
            else f"Not drafted: the workbook has {errors} errors; fix them, or add --allow-errors.",
            err=True,
        )
        ctx.exit(ExitCode.FINDINGS)
    if errors:
        click.echo(
            f"注意：工作簿有 {errors} 个错误（xlcheck verify 查看），草稿里相应的数字也会有错。"
            if lang == "zh"
            else f"Note: the workbook has {errors} errors (see xlcheck verify); the draft repeats them.",
            err=True,
        )
    click.echo(escape_controls(str(result.written)))
    ctx.exit(ExitCode.OK)


@report.command("check")
@click.argument(
    "report_path", metavar="REPORT", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--workbook",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="与这份填好的工作簿逐个核对数字 / check each figure against this workbook.",
)
@template_option(
    "没有 --workbook 时按此模板认数字，默认 zhanjiang-overall / template for figures without --workbook."
)
@OUTLINE_OPTION
@output_option(
    "批注副本（仅 .docx），默认 <文件名>.checked.docx / the commented copy (.docx only)."
)
@NO_ANNOTATE_OPTION
@TEXT_OR_JSON_OPTION
@LANG_OPTION
@force_option("覆盖已存在的批注副本 / overwrite an existing copy.")
@click.pass_context
def report_check(
    ctx: click.Context,
    report_path: Path,
    workbook: Path | None,
    template: str | None,
    outline: Path | None,
    output: Path | None,
    no_annotate: bool,
    output_format: str,
    force: bool,
) -> NoReturn:
    """核对自评报告里的数字 / check the figures of a written report.

    \b
    REPORT 为 .docx、.txt、.md 或 .pdf（需 pip install 'xlcheck[pdf]'）。核对报告自身的
    合计与分项、占比、比率的分母、得分与满分、等级与得分；加 --workbook 时逐个对照工作簿。
    .docx 另写一份批注副本，在每个问题所在的句子上加批注。
    REPORT is .docx, .txt, .md or .pdf (pip install 'xlcheck[pdf]'). Checks the report's
    own totals and parts, shares, the bases of rates, scores and grades; with --workbook each
    figure against the workbook. A .docx gets a copy commented at each problem's sentence.
    """
    from xlcheck import api
    from xlcheck.narrative import results
    from xlcheck.narrative.report_check import ReportCheckOptions

    lang = message_lang(ctx)
    if output is not None and report_path.suffix.lower() != ".docx":
        raise click.UsageError(
            "-o 只用于 .docx 报告的批注副本 / -o names the annotated copy of a .docx report"
        )
    options = ReportCheckOptions(
        workbook=workbook,
        template=template,
        outline=outline,
        output=output,
        annotate=not no_annotate,
        force=force,
        lang=lang,
    )
    result = api.check_report(report_path, options=options)
    if output_format == "json":
        click.echo(results.render_json([result], lang))
    else:
        click.echo(results.render_text(result, lang))
    ctx.exit(exit_code_for([result.status]))
