"""The ``xlcheck`` command line: click commands that wrap the API. Errors become messages and
exit codes here (``XlcheckGroup``); the codes and shared options are in ``cli_options``, the
``report`` commands in ``cli_report``, ``collect`` and ``summary`` in ``cli_tables``."""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from xlcheck.cli_options import (
    JOBS_OPTION,
    LANG_OPTION,
    NO_ANNOTATE_OPTION,
    SOURCES_ARGUMENT,
    TEXT_OR_JSON_OPTION,
    ExitCode,
    echo_unreadable,
    exit_code_for,
    force_option,
    message_lang,
    output_option,
    template_option,
)
from xlcheck.cli_report import report
from xlcheck.cli_tables import collect, summary
from xlcheck.control_characters import escape_controls
from xlcheck.errors import XlcheckError
from xlcheck.version import __version__

if TYPE_CHECKING:
    from types import ModuleType

#: Exit codes of a run stopped from outside: 128 + the signal, as Unix shells report it.
INTERRUPTED = 128 + signal.SIGINT
TERMINATED = 128 + signal.SIGTERM


def _terminate(signum: int, _: object) -> None:
    """SIGTERM unwinds like Ctrl-C: workers stop, reserved names are freed, then exit 143."""
    raise SystemExit(TERMINATED)


class CannotVerify(click.ClickException):
    """xlcheck could not do its job: the message and hint, and exit code 3."""

    exit_code = ExitCode.CANNOT_VERIFY


def _debugging(ctx: click.Context) -> bool:
    flag = os.environ.get("XLCHECK_DEBUG", "")
    return bool((ctx.obj or {}).get("debug")) or flag not in ("", "0")


def _internal_error(ctx: click.Context, exc: Exception) -> CannotVerify:
    """A bug: its type and message in one line (the traceback only when debugging), exit 3."""
    lang = message_lang(ctx)
    if _debugging(ctx):
        traceback.print_exception(exc, file=sys.stderr)
    detail = escape_controls(f"{type(exc).__name__}: {exc}")
    if lang == "en":
        return CannotVerify(
            f"xlcheck internal error ({detail}); please report it "
            "(--debug or XLCHECK_DEBUG=1 shows the traceback)"
        )
    return CannotVerify(
        f"xlcheck 内部错误（{detail}），请报告此问题（加 --debug 或设 XLCHECK_DEBUG=1 可看到详细信息）"
    )


class XlcheckGroup(click.Group):
    """Turns xlcheck's own errors into their message (and hint) and exit code 3, and any other
    exception (a bug) into one line naming it, exit 3: never a traceback, never exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XlcheckError as exc:
            raise CannotVerify(escape_controls(exc.render(message_lang(ctx)), keep="\n")) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:  # Ctrl-C: the workers have stopped; exit as Unix shells expect
            click.echo("", err=True)
            ctx.exit(INTERRUPTED)
        except BrokenPipeError:
            # The reader of stdout went away (``| head``): nothing more can be said there.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(ExitCode.CANNOT_VERIFY)
        except Exception as exc:  # the one broad catch: a bug must still exit 3 with one line
            raise _internal_error(ctx, exc) from exc


EPILOG = """\b
退出码 / exit codes:
  0  没有错误（可以有警告） / no errors (warnings allowed)
  1  发现错误 / errors found
  2  用法错误 / usage error
  3  文件无法读取或校验，或输出文件已存在（未加 --force）
     a file could not be read or verified, or an output exists (no --force)
  130, 143  被 Ctrl-C 或 SIGTERM 中止 / stopped by Ctrl-C or SIGTERM
"""


@click.group(
    cls=XlcheckGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="xlcheck", help="显示版本 / show the version.")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="提示语言 / language of messages.",
)
@click.option("--debug", is_flag=True, help="出错时显示完整的错误跟踪 / show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, lang: str, debug: bool) -> None:
    """绩效自评表：生成填报模板、校验填好的工作簿、起草和核对自评报告。

    Fill-in templates, verification and the 自评报告 for performance self-evaluation workbooks.
    """
    ctx.obj = {"lang": lang, "debug": debug}


@cli.command()
@template_option(
    "内置模板 ID 或规格文件（.yaml）路径 / built-in template id or spec file.",
    default="zhanjiang-overall",
)
@output_option("输出文件，默认 <模板ID>.xlsx / output file (default <template id>.xlsx).")
@click.option("--year", type=click.IntRange(2000, 2100), help="评价年度 / the year evaluated.")
@click.option("--unit", help="评价单位名称 / the unit evaluated.")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="预填数据：JSON 对象 {字段键: 值}，见 xlcheck fields / prefill: a JSON object {field key: value}.",
)
@force_option()
@LANG_OPTION
def template(
    template: str,
    output: Path | None,
    year: int | None,
    unit: str | None,
    data_path: Path | None,
    force: bool,
) -> None:
    """生成填报模板 / write a fill-in template."""
    from xlcheck import api
    from xlcheck.spec_loading import load_spec

    spec = load_spec(template)
    prefill = api.load_prefill(data_path, spec) if data_path else None
    out = output or Path(f"{spec.id}.xlsx")
    written = api.write_template(
        out, template=template, year=year, unit=unit, prefill=prefill, force=force
    )
    click.echo(str(written))


@cli.command()
@template_option(
    "内置模板 ID 或规格文件（.yaml）路径 / built-in template id or spec file.",
    default="zhanjiang-overall",
)
@TEXT_OR_JSON_OPTION
@LANG_OPTION
def fields(template: str, output_format: str) -> None:
    """列出模板的所有单元格 / list every input and derived cell."""
    from xlcheck import api

    infos = api.list_fields(template)
    if output_format == "json":
        click.echo(json.dumps([i.to_dict() for i in infos], ensure_ascii=False, indent=2))
        return
    from xlcheck.terminal_columns import columns, pad

    place_width = max(columns(f"{info.sheet}!{info.cell}") for info in infos)
    repeat = None
    for info in infos:
        if info.repeat and info.repeat != repeat:
            click.echo(
                f'# “{info.sheet}”每项一张：--data 写 {{"{info.repeat}": [{{…}}, …]}}，每个对象一张表，'
                f"以 {info.name_field} 命名；结果中的字段键为 {info.repeat}[1].…、{info.repeat}[2].…"
            )
        repeat = info.repeat
        kind = "填写" if info.kind == "input" else "计算"
        unit = f" [{info.unit}]" if info.unit else ""
        click.echo(
            f"{pad(f'{info.sheet}!{info.cell}', place_width)} {kind} {info.type:<8} "
            f"{info.key:<36} {info.label}{unit}"
        )


def _more_than_one_workbook(sources: tuple[str, ...]) -> bool:
    """Whether ``sources`` surely name several workbooks before they are expanded: more than
    one, a folder or a glob pattern (a single mail may carry only one)."""
    if len(sources) != 1:
        return len(sources) > 1
    source = sources[0]
    return any(c in source for c in "*?[") or Path(source).is_dir()


@cli.command()
@SOURCES_ARGUMENT
@template_option(
    "按此模板校验；默认读取工作簿自带的模板标识 / verify against this template (default: the one the workbook names)."
)
@output_option(
    "批注副本的路径（仅限单个工作簿），默认 <文件名>.checked.xlsx / the annotated copy (one workbook only)."
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="批注副本与邮件附件存放的文件夹；同名文件自动编号，不会互相覆盖 / folder for copies and attachments, never overwritten.",
)
@JOBS_OPTION
@TEXT_OR_JSON_OPTION
@LANG_OPTION
@force_option(
    "覆盖已存在的批注副本和汇总表（--out-dir 里从不覆盖）/ overwrite existing copies and summary (never in --out-dir)."
)
@NO_ANNOTATE_OPTION
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="写出汇总表（每个工作簿一行、问题清单、分布图）/ write the batch summary (a row per workbook, findings, charts).",
)
@click.option(
    "--summary-format",
    type=click.Choice(["xlsx", "csv", "json"]),
    default=None,
    help="汇总表格式，默认按文件扩展名（.xlsx）/ summary format (default: by extension).",
)
@click.option(
    "--reply",
    is_flag=True,
    help="为每封来信在 --out-dir 写一封回复草稿（.eml），附批注副本 / draft a reply .eml per mail, the annotated copy attached.",
)
@click.option(
    "--reply-from",
    metavar="ADDRESS",
    default=None,
    help='回复草稿的发件人，如 "绩效科 <jx@czj.gov.cn>" / the From of the reply drafts.',
)
@click.pass_context
def verify(
    ctx: click.Context,
    sources: tuple[str, ...],
    template: str | None,
    output: Path | None,
    out_dir: Path | None,
    jobs: int | None,
    output_format: str,
    force: bool,
    no_annotate: bool,
    summary_path: Path | None,
    summary_format: str | None,
    reply: bool,
    reply_from: str | None,
) -> NoReturn:
    """校验填好的工作簿并写出批注副本 / verify workbooks and write annotated copies.

    \b
    输入可以是 .xlsx 文件、文件夹（递归）、通配符（如 "收件/**/*.xlsx"）、
    .eml 邮件（校验其 .xlsx/.xls 附件，含转发邮件里的附件）和 mbox 邮箱文件。
    Inputs: .xlsx files, folders (recursive), glob patterns, .eml mails (their
    workbook attachments, forwarded ones too) and mbox files.
    """
    if _more_than_one_workbook(sources):
        from xlcheck.exchange.worker_pool import start_first_workers

        start_first_workers(jobs)  # their imports run beside this process's own
    from xlcheck import api, report
    from xlcheck.exchange.batch_run import SideOutputs
    from xlcheck.exchange.progress import ProgressBar

    lang = message_lang(ctx)
    if output is not None and (len(sources) > 1 or out_dir is not None):
        raise click.UsageError(
            "-o 只能用于单个文件，多个文件请用 --out-dir / -o takes a single input file; use --out-dir"
        )
    options = api.VerifyOptions(
        template=template, output=output, force=force, annotate=not no_annotate, lang=lang
    )
    side = SideOutputs(summary_path, summary_format, reply, reply_from)
    bar = ProgressBar.for_stderr(lang)
    run = api.start_batch(
        sources, options=options, side=side, jobs=jobs, out_dir=out_dir, progress=bar
    )

    def write(text: str) -> None:
        if bar is not None:
            bar.clear()  # the block goes where the bar was; the bar is redrawn below it
        click.echo(text, nl=False)

    shown = report.open_report(output_format, write, lang, stream=sys.stdout)  # click.echo's
    for result in run:  # each result printed as it comes: the report is out before the summary
        shown.add(result)
        if result.unreadable_reason is not None:
            echo_unreadable([result])
    for amendment in run.amendments:
        shown.amend(amendment)
    shown.finish(run.mails_without_workbook)
    written = run.finish()
    if output_format != "json":
        for path in written:
            click.echo(("写出：" if lang == "zh" else "wrote: ") + escape_controls(str(path)))
    for failure in run.failures:
        click.echo(escape_controls(failure), err=True)
    ctx.exit(exit_code_for([s for s, n in run.statuses.items() if n], failed=bool(run.failures)))


cli.add_command(collect)
cli.add_command(summary)
cli.add_command(report)


def _threads_to_wait_for(threading: ModuleType) -> bool:
    """Whether a thread other than this one runs that the interpreter's shutdown would join."""
    current = threading.current_thread()
    return any(not t.daemon for t in threading.enumerate() if t is not current)


def main() -> None:
    # Importing pandas and openpyxl allocates millions of objects; with CPython's default
    # generation-0 threshold (700) the collector runs thousands of times during start-up, about a
    # fifth of a short run. A higher threshold keeps collection (long batch runs still free
    # openpyxl's reference cycles) without paying for it at import.
    gc.set_threshold(20_000, 20, 20)
    # A console or pipe that cannot encode a character (a GBK console, PYTHONIOENCODING=latin-1)
    # shows it as an escape instead of ending the run with UnicodeEncodeError; JSON goes out
    # ASCII-escaped there, so it stays valid.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli(prog_name="xlcheck")
    except SystemExit as stop:
        import atexit
        import contextlib

        # Tearing the interpreter down (every module, every object) is a sixth of a one-workbook
        # run and more after a batch, which imports more, and the OS reclaims all of it anyway. So
        # flush, run the exit handlers and leave at once. A batch's workers have ended by then
        # (its pool closes before the command returns), and multiprocessing's own exit handler,
        # which ends and joins any left, is one of the handlers run here. Not so for
        # concurrent.futures (its workers are joined by threading's shutdown), nor while a thread
        # that the shutdown would wait for runs (daemon threads it abandons, as ``os._exit``
        # does): those, a message as exit status, or output that cannot be flushed (a closed
        # pipe) exit as usual.
        threading = sys.modules.get("threading")
        if (
            not isinstance(stop.code, int | None)
            or "concurrent.futures" in sys.modules
            or (threading is not None and _threads_to_wait_for(threading))
        ):
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:
            raise stop from None  # the usual shutdown reports it, as it always has
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):
                stream.flush()
        os._exit(stop.code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
