"""Every file xlcheck writes goes through here: never through a symlink, never onto an input,
never half-written, with the user's umask (or the replaced file's mode under ``--force``)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from xlcheck.errors import OutputExistsError, XlcheckError

#: Writes the whole content of the new file into the open (binary) handle.
ContentWriter = Callable[[BinaryIO], None]


class OutputRefusedError(XlcheckError):
    """An output path that must not be written: a symlink, not a regular file, or an input."""

    def __init__(self, path: Path, problem: str, problem_en: str) -> None:
        super().__init__(
            f"拒绝写入 {path}：{problem}",
            message_en=f"refusing to write {path}: {problem_en}",
            hint="请用 -o / --out-dir 另选一个输出位置。",
            hint_en="Choose another output place with -o / --out-dir.",
        )
        self.path = path


def _umask_mode() -> int:
    """The mode a plain ``open(..., "w")`` would give a new file: 0666 less the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


class InputPaths(Collection[Path]):
    """The input files of a run as ``check_output_path`` compares an output with them: each made
    absolute once, when first compared, and their identities (device and inode) read once, when
    an output first exists.

    A batch checks every output against every input: each check cost a Path and two ``abspath``
    calls per input (8 ms for 300 inputs), and checking the copies planned beside 300 workbooks
    took that 300 times.
    """

    def __init__(self, paths: Iterable[Path]) -> None:
        self._paths = tuple(paths)
        self._absolute: frozenset[Path] | None = None
        self._identities: frozenset[tuple[int, int]] | None = None

    def __iter__(self) -> Iterator[Path]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, item: object) -> bool:
        return item in self._paths

    def names(self, target: Path) -> bool:
        """Whether ``target`` is the path of an input."""
        if self._absolute is None:
            self._absolute = frozenset(map(_absolute, self._paths))
        return _absolute(target) in self._absolute

    def holds(self, status: os.stat_result) -> bool:
        """Whether the existing file of ``status`` (a regular file) is an input under another
        name, as ``os.path.samefile`` compares them; an input that cannot be seen is none."""
        if self._identities is None:
            identities = set()
            for path in self._paths:
                with contextlib.suppress(OSError):
                    found = os.stat(path)
                    identities.add((found.st_dev, found.st_ino))
            self._identities = frozenset(identities)
        return (status.st_dev, status.st_ino) in self._identities


def check_output_path(
    target: Path, *, force: bool, inputs: Collection[Path] = ()
) -> os.stat_result | None:
    """Refuse ``target`` unless a new file may be written there; the existing file's status if any.

    Args:
        inputs: the files that must never be written; an ``InputPaths`` when the same inputs
            are checked against many outputs.

    Raises:
        OutputRefusedError: ``target`` is a symlink, not a regular file, or one of ``inputs``.
        OutputExistsError: ``target`` exists and ``force`` is false.
    """
    try:
        status = os.lstat(target)
    except FileNotFoundError:
        status = None
    if status is not None:
        if stat.S_ISLNK(status.st_mode):
            raise OutputRefusedError(
                target,
                "它是一个符号链接（不会顺着链接写入）",
                "it is a symbolic link (never followed)",
            )
        if not stat.S_ISREG(status.st_mode):
            raise OutputRefusedError(target, "它不是普通文件", "it is not a regular file")
    known = inputs if isinstance(inputs, InputPaths) else InputPaths(inputs)
    if known and (known.names(target) or (status is not None and known.holds(status))):
        raise OutputRefusedError(
            target,
            "它是输入文件本身，输入从不被改动",
            "it is an input, and inputs are never changed",
        )
    if status is not None and not force:
        raise OutputExistsError(target)
    return status


def write_output(
    target: Path,
    content: bytes | ContentWriter,
    *,
    force: bool = False,
    inputs: Collection[Path] = (),
) -> Path:
    """Write a new file at ``target`` atomically: a temporary file beside it, then renamed.

    Without ``force`` the name is claimed with an exclusive link, so two runs writing into one
    folder at the same moment never overwrite each other (the second gets ``OutputExistsError``).

    Raises:
        OutputRefusedError, OutputExistsError: see ``check_output_path``.
        OSError: the folder cannot be written.
    """
    existing = check_output_path(target, force=force, inputs=inputs)
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else _umask_mode()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name[:40]}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            if isinstance(content, bytes):
                stream.write(content)
            else:
                content(stream)
        os.chmod(temporary, mode)
        if existing is None:
            try:
                os.link(temporary, target)  # fails if the name was taken meanwhile
            except FileExistsError:
                raise OutputExistsError(target) from None
            except OSError:
                # File systems without hard links: an exclusive create claims the name instead.
                claim = os.open(
                    target,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                    mode,
                )
                os.close(claim)
                os.replace(temporary, target)
        else:
            os.replace(
                temporary, target
            )  # replaces a symlink put there meanwhile, never follows it
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return target
