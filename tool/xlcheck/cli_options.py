"""What the commands of the command line share: exit codes, the message language and the options
several commands take (so each is defined, and explained in both languages, once)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xlcheck.control_characters import escape_controls

if TYPE_CHECKING:
    from xlcheck.findings import VerificationResult

#: A click decorator (an option or argument) applied to a command function.
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class ExitCode(enum.IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    CANNOT_VERIFY = 3


def exit_code_for(statuses: Collection[str], *, failed: bool = False) -> ExitCode:
    """The exit code of a run, the worst over all its workbooks.

    0  no errors (warnings allowed)
    1  errors found in at least one workbook
    2  usage error (a bad option or argument; click exits with it)
    3  a file could not be read or verified, an output could not be written (``failed``), an
       output exists and --force was not given, or xlcheck hit an internal error
    130, 143  stopped by Ctrl-C or SIGTERM (128 + the signal, as shells report it)
    """
    if failed or "unreadable" in statuses:
        return ExitCode.CANNOT_VERIFY
    if "errors" in statuses:
        return ExitCode.FINDINGS
    return ExitCode.OK


def message_lang(ctx: click.Context) -> str:
    lang = (ctx.obj or {}).get("lang")
    return str(lang) if lang else "zh"


def set_lang(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    """``--lang`` given to a command (or the group) applies to everything it says, errors too."""
    if value:
        ctx.ensure_object(dict)["lang"] = value


LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    expose_value=False,
    is_eager=True,
    callback=set_lang,
    help="提示语言 / language of messages.",
)


JOBS_OPTION = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="并行进程数，默认等于本进程可用的 CPU 核数 / worker processes (default: the cores this process may use).",
)


def template_option(help_text: str, default: str | None = None) -> Decorator:
    """``-t/--template``: a built-in template id or a spec file."""
    return click.option(
        "-t",
        "--template",
        default=default,
        show_default=default is not None,
        metavar="ID|SPEC",
        help=help_text,
    )


def output_option(help_text: str, *, required: bool = False) -> Decorator:
    """``-o/--output``: the file a command writes."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        required=required,
        help=help_text,
    )


def force_option(
    help_text: str = "覆盖已存在的输出文件 / overwrite an existing output file.",
) -> Decorator:
    return click.option("--force", is_flag=True, help=help_text)


TEXT_OR_JSON_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="报告格式：文本或 JSON / report format: text or JSON.",
)
OUTLINE_OPTION = click.option(
    "--outline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="报告模板（.yaml），默认用工作簿模板自带的 / report template (default: the workbook template's own).",
)
NO_ANNOTATE_OPTION = click.option(
    "--no-annotate", is_flag=True, help="不写批注副本 / write no annotated copy."
)
SOURCES_ARGUMENT = click.argument(
    "sources", nargs=-1, required=True, metavar="FILES|FOLDERS|GLOBS|MAILS..."
)


def echo_unreadable(results: Sequence[VerificationResult]) -> None:
    """Each workbook that could not be verified, with its reason, on stderr."""
    for result in results:
        if result.unreadable_reason is not None:
            click.echo(
                f"{escape_controls(str(result.path))}: {escape_controls(result.unreadable_reason)}",
                err=True,
            )
