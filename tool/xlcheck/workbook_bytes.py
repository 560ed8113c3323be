"""A workbook file's bytes, read once: regular files only, within a size limit.

A FIFO named ``x.xlsx`` would make ``open`` wait forever for a writer and ``/dev/zero`` never
ends: both are refused before a byte is read. The file is opened without blocking, its type and
size are checked on the open handle (so what is checked is what is read), and it is read once
into memory; every parser then reads those bytes, never the path again.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from xlcheck.errors import WorkbookError
from xlcheck.file_kinds import refuse

#: Refuse a file larger than this before reading it: a filled template is about 20 KB, a large
#: real workbook with scanned pictures a few tens of MB.
MAX_FILE_BYTES = 100 * 1024 * 1024


def read_once(path: Path) -> bytes:
    """The bytes of ``path``, a regular file of at most ``MAX_FILE_BYTES``.

    Raises:
        WorkbookError: a missing, unreadable, non-regular or oversized file.
    """
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as exc:
        raise refuse(
            path,
            "找不到该文件",
            "file not found",
            "请检查文件名和路径。",
            "Check the file name and path.",
        ) from exc
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    try:
        status = os.fstat(handle)
        mode, size = status.st_mode, status.st_size
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode)
        data = _read_to_end(path, handle, size)
    finally:
        os.close(handle)
    if size > MAX_FILE_BYTES or len(data) > MAX_FILE_BYTES:
        raise refuse(
            path,
            f"文件超过 {MAX_FILE_BYTES // 1048576} MB 的上限，不像填报工作簿，已拒绝读取",
            f"the file is larger than the limit of {MAX_FILE_BYTES // 1048576} MB; refused as not a report workbook",
            "填报工作簿通常不到 1 MB；请检查是否发错了文件，或删除其中的大图片后保存。",
            "A report workbook is usually under 1 MB; check the file, or remove large pictures and save.",
        )
    return data


def _not_regular(path: Path, mode: int) -> WorkbookError:
    if stat.S_ISDIR(mode):
        what, what_en = "文件夹", "a folder"
    elif stat.S_ISFIFO(mode):
        what, what_en = "管道（FIFO）", "a pipe (FIFO)"
    else:
        what, what_en = "设备或其他特殊文件", "a device or other special file"
    return refuse(
        path,
        f"这是{what}，不是普通文件，xlcheck 只读取普通文件",
        f"this is {what_en}, not a regular file; xlcheck reads regular files only",
        "请指定工作簿文件本身。",
        "Name the workbook file itself.",
    )


def _read_to_end(path: Path, handle: int, size: int) -> bytes:
    """The file's bytes to its end (it may grow while it is read), never past the limit."""
    chunks: list[bytes] = []
    read = 0
    while size <= MAX_FILE_BYTES and read <= MAX_FILE_BYTES:
        try:
            chunk = os.read(handle, min(max(size - read + 1, 1 << 16), MAX_FILE_BYTES + 1 - read))
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        if not chunk:
            break
        chunks.append(chunk)
        read += len(chunk)
    return b"".join(chunks)


def _unreadable(path: Path, exc: OSError) -> WorkbookError:
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
    return refuse(
        path,
        f"无法读取该文件（{reason}）",
        f"cannot read the file ({reason})",
        "请检查文件权限。",
        "Check the file's permissions.",
    )
