"""Input files read once, within a size cap, and only when they are regular files.

A FIFO named ``x.eml`` would make ``open`` wait forever for a writer, and ``/dev/zero`` named
``x.eml`` never ends: both are refused before a byte is read. The file is opened without
blocking, its type checked on the open handle (so a file swapped after a check is not read), and
read once into memory up to its cap.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from xlcheck.control_characters import escape_controls
from xlcheck.errors import XlcheckError


class InputRefusedError(XlcheckError):
    """An input that is not a regular file, or larger than its cap."""


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:,.0f} MB"


def not_regular(path: Path, what: str, what_en: str) -> InputRefusedError:
    """The refusal of a path that is not a regular file (a FIFO would block the read forever)."""
    shown = escape_controls(str(path))
    return InputRefusedError(
        f"{shown}：不是普通文件（可能是管道、设备或文件夹），不作为{what}读取",
        message_en=f"{shown}: not a regular file (a pipe, device or folder); not read as {what_en}",
        hint="请传入保存在磁盘上的文件。",
        hint_en="Pass a file saved on disk.",
    )


def is_regular_file(path: Path) -> bool:
    """Whether ``path`` (followed if a symlink) is a regular file; False if it cannot be seen."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return False


def check_regular_file(path: Path, *, what: str, what_en: str) -> None:
    """Refuse ``path`` unless it is a regular file (a symlink to one is fine).

    Raises:
        InputRefusedError: a FIFO, device, socket or folder.
        OSError: the file cannot be seen at all.
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise not_regular(path, what, what_en)


def read_regular_file(path: Path, *, limit: int, what: str, what_en: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, read once.

    Args:
        what, what_en: what the file is read as ("邮件文件", "a mail file"), for the messages.

    Raises:
        InputRefusedError: not a regular file, or larger than ``limit``.
        OSError: the file cannot be opened or read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(os.close, descriptor)
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise not_regular(path, what, what_en)
        if status.st_size > limit:
            raise InputRefusedError(
                f"{path}：{what}有 {_megabytes(status.st_size)}，超过上限 {_megabytes(limit)}",
                message_en=f"{path}: the {what_en} is {_megabytes(status.st_size)}, above the "
                f"limit of {_megabytes(limit)}",
                hint="请确认文件无误；过大的文件请拆分后再校验。",
                hint_en="Check the file; split one that large before verifying it.",
            )
        handle = os.fdopen(descriptor, "rb", closefd=False)
        cleanup.enter_context(handle)
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew after the size was read
        raise InputRefusedError(
            f"{path}：{what}超过上限 {_megabytes(limit)}",
            message_en=f"{path}: the {what_en} is above the limit of {_megabytes(limit)}",
        )
    return data
