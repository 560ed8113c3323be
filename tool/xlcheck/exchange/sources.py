"""Inputs (files, folders, glob patterns, .eml and mbox files) → the workbooks to verify."""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from xlcheck.control_characters import escape_controls
from xlcheck.errors import XlcheckError
from xlcheck.exchange.file_names import (
    NameAllocator,
    create_exclusively,
    make_folder,
    release,
    safe_file_name,
)
from xlcheck.file_kinds import WORKBOOK_SUFFIXES
from xlcheck.findings import MailOrigin
from xlcheck.input_files import is_regular_file, not_regular
from xlcheck.output_files import write_output
from xlcheck.records import record

if TYPE_CHECKING:
    from xlcheck.exchange.mail_attachments import Attachment

MAIL_SUFFIXES = (".eml",)
MBOX_SUFFIXES = (".mbox", ".mbx")
#: Suffix of annotated copies; a folder scan skips them so a second run does not check its output.
CHECKED_SUFFIX = ".checked.xlsx"
#: Suffix of the reply drafts xlcheck writes; a folder scan skips them too (they carry the copies).
REPLY_SUFFIX = ".reply.eml"
#: Folder beside a mail file that receives its extracted attachments when no --out-dir is given.
ATTACHMENTS_SUFFIX = ".attachments"
#: File xlcheck leaves in every attachments folder it makes, so a later scan skips that folder.
ATTACHMENTS_MARKER = ".xlcheck-attachments"
_GLOB_CHARACTERS = frozenset("*?[")


@record
class WorkbookInput:
    """One workbook to verify, or the reason an input gave none.

    Attributes:
        path: the workbook file (for a mail: the extracted attachment); for a problem, the input.
        mail: the mail the workbook came from, if any.
        problem: why this input yields no workbook (missing file, unreadable mbox, a mail
            without workbook attachments); it becomes an ``unreadable`` result.
    """

    path: Path
    mail: MailOrigin | None = None
    problem: XlcheckError | None = None


def is_own_output(name: str) -> bool:
    """Whether a file name is one xlcheck writes (annotated copy, reply draft)."""
    lowered = name.lower()
    return lowered.endswith((CHECKED_SUFFIX, REPLY_SUFFIX))


def _is_candidate(name: str) -> bool:
    """Whether a file found in a folder is something to verify."""
    if name.startswith(("~$", ".")) or is_own_output(name):
        return False  # Excel's lock files, hidden files, our own copies and reply drafts
    return name.lower().endswith(WORKBOOK_SUFFIXES + MAIL_SUFFIXES + MBOX_SUFFIXES)


def _is_attachments_folder(folder: Path) -> bool:
    return folder.name.endswith(ATTACHMENTS_SUFFIX) or (folder / ATTACHMENTS_MARKER).exists()


def _walk(top: str) -> Iterator[tuple[str, list[str], list[os.DirEntry[str]]]]:
    """``os.walk(top)`` (top down, a symlinked folder listed but not entered, a folder that
    cannot be read skipped), with each file as its ``os.DirEntry``, which knows whether it is a
    symlink without a system call."""
    dirs: list[str] = []
    files: list[os.DirEntry[str]] = []
    try:
        with os.scandir(top) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    dirs.append(entry.name)
                else:
                    files.append(entry)
    except OSError:
        return
    yield top, dirs, files
    for name in dirs:
        inner = os.path.join(top, name)
        if not os.path.islink(inner):
            yield from _walk(inner)


def _scan(folder: Path, excluded: set[Path]) -> Iterator[tuple[Path, str | None]]:
    """Files to verify under ``folder``, recursively, in a stable (sorted) order, each with its
    resolved path where the scan knows it: a file that is not a symlink, in a folder resolved
    once (``Path.resolve`` per file took six system calls and most of a scan's time)."""
    for root, dirs, files in _walk(os.fspath(folder)):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not _is_attachments_folder(root_path / d)
            and (root_path / d).resolve() not in excluded
        )
        real_root: str | None = None
        for entry in sorted(files, key=lambda e: e.name):
            if not _is_candidate(entry.name):
                continue
            resolved = None
            with contextlib.suppress(OSError):
                if not entry.is_symlink():
                    real_root = real_root or os.path.realpath(root)
                    resolved = os.path.join(real_root, entry.name)
            yield root_path / entry.name, resolved


def _is_mbox(path: Path) -> bool:
    if path.suffix.lower() in MBOX_SUFFIXES:
        return True
    if path.suffix.lower() in WORKBOOK_SUFFIXES + MAIL_SUFFIXES or not is_regular_file(path):
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def _missing(argument: str, *, pattern: bool) -> XlcheckError:
    shown = escape_controls(argument)
    if pattern:
        return XlcheckError(
            f"没有文件匹配 {shown}",
            message_en=f"no file matches {shown}",
            hint="请检查通配符模式；在 shell 中请给模式加引号。",
            hint_en="Check the pattern; quote it so the shell passes it on unexpanded.",
        )
    return XlcheckError(
        f"找不到文件或文件夹：{shown}",
        message_en=f"no such file or folder: {shown}",
        hint="请检查文件名和路径。",
        hint_en="Check the file name and path.",
    )


def _not_readable(path: Path, exc: Exception) -> XlcheckError:
    shown = escape_controls(str(path))
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return XlcheckError(
        f"{shown}：无法读取（{reason}）", message_en=f"{shown}: cannot be read ({reason})"
    )


class SourceExpander:
    """Turns inputs into workbooks, extracting mail attachments into a folder as it goes.

    Args:
        attachments_dir: where extracted attachments go; None puts them in
            ``<mail file>.attachments/`` beside each mail.
        excluded: folders never scanned (the output folder of this run).

    Attributes:
        mails_without_workbook: messages of mbox files that carried no workbook; they are
            counted, not listed (an mbox holds newsletters too) and get no reply.
    """

    def __init__(self, attachments_dir: Path | None = None, excluded: Sequence[Path] = ()) -> None:
        self.attachments_dir = attachments_dir
        self.excluded = {p.resolve() for p in excluded}
        self.names = NameAllocator()
        self.mails_without_workbook = 0
        self._seen: set[str] = set()  # resolved paths as text: a tenth of a Path's memory

    def expand(self, arguments: Sequence[str | Path]) -> list[WorkbookInput]:
        """Every workbook named by ``arguments``, in argument order, each file once."""
        inputs: list[WorkbookInput] = []
        for argument in arguments:
            text = str(argument)
            path = Path(text)
            if path.exists():
                inputs.extend(self._expand_existing(path))
            elif _GLOB_CHARACTERS & set(text):
                matches = sorted(glob.glob(text, recursive=True))
                if not matches:
                    inputs.append(WorkbookInput(path, problem=_missing(text, pattern=True)))
                for match in matches:
                    inputs.extend(self._expand_existing(Path(match)))
            else:
                inputs.append(WorkbookInput(path, problem=_missing(text, pattern=False)))
        return inputs

    def _expand_existing(self, path: Path) -> Iterator[WorkbookInput]:
        files = _scan(path, self.excluded) if path.is_dir() else iter([(path, None)])
        for file, known in files:
            try:
                resolved = known or os.fspath(file.resolve())
            except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
                yield WorkbookInput(file, problem=_not_readable(file, exc))
                continue
            if resolved in self._seen:
                continue
            self._seen.add(resolved)
            if file.suffix.lower() in MAIL_SUFFIXES:
                yield from self._from_eml(file)
            elif _is_mbox(file):
                yield from self._from_mbox(file)
            elif not is_regular_file(file):
                yield WorkbookInput(file, problem=not_regular(file, "工作簿", "a workbook"))
            else:
                yield WorkbookInput(file)

    def _from_eml(self, path: Path) -> Iterator[WorkbookInput]:
        from xlcheck.exchange.mail_attachments import read_eml  # the mail modules, for mail only

        try:
            origin, attachments = read_eml(path)
        except XlcheckError as exc:
            yield WorkbookInput(path, problem=exc)
            return
        if not attachments:
            yield self._no_attachment(path, origin)
        for attachment in attachments:
            yield self._extract(attachment)

    def _from_mbox(self, path: Path) -> Iterator[WorkbookInput]:
        from xlcheck.exchange.mail_attachments import read_mail, read_mbox  # for mail only

        try:
            for number, data in read_mbox(path):
                if isinstance(data, XlcheckError):
                    yield WorkbookInput(path, problem=data)
                    continue
                try:
                    _, attachments = read_mail(data, path, number)
                except XlcheckError as exc:
                    yield WorkbookInput(path, problem=exc)
                    continue
                if not attachments:
                    self.mails_without_workbook += 1
                for attachment in attachments:
                    yield self._extract(attachment)
        except XlcheckError as exc:
            yield WorkbookInput(path, problem=exc)

    @staticmethod
    def _no_attachment(path: Path, origin: MailOrigin | None) -> WorkbookInput:
        subject = f"（{origin.subject}）" if origin and origin.subject else ""
        shown = escape_controls(str(path))
        return WorkbookInput(
            path,
            mail=origin,
            problem=XlcheckError(
                f"{shown}{subject}：邮件里没有 .xlsx/.xls 附件",
                message_en=f"{shown}: the mail has no .xlsx/.xls attachment",
            ),
        )

    def _extract(self, attachment: Attachment) -> WorkbookInput:
        origin = attachment.origin
        mail_file = origin.mail_file
        folder = self.attachments_dir or mail_file.with_name(mail_file.name + ATTACHMENTS_SUFFIX)
        name = Path(safe_file_name(attachment.filename))
        target: Path | None = None
        try:
            self._make_attachments_folder(folder)
            target = self.names.reserve(folder, name.stem, name.suffix)
            write_output(target, attachment.content, force=True)  # over its own reservation
        except (OSError, XlcheckError) as exc:
            if target is not None:
                release(target)
            reason = (
                exc.render_line() if isinstance(exc, XlcheckError) else exc.strerror or str(exc)
            )
            reason_en = (
                exc.render_line("en") if isinstance(exc, XlcheckError) else exc.strerror or str(exc)
            )
            where = escape_controls(str(target or folder))
            return WorkbookInput(
                target or folder / name,
                mail=origin,
                problem=XlcheckError(
                    f"无法保存附件 {attachment.filename} 到 {where}（{reason}）",
                    message_en=f"cannot save attachment {attachment.filename} to {where} "
                    f"({reason_en})",
                ),
            )
        return WorkbookInput(target, mail=origin)

    @staticmethod
    def _make_attachments_folder(folder: Path) -> None:
        """The folder for extracted attachments, marked so that later folder scans skip it."""
        make_folder(folder)
        with contextlib.suppress(FileExistsError):  # an empty file: nothing to write atomically
            create_exclusively(folder / ATTACHMENTS_MARKER)


def expand_sources(
    arguments: Sequence[str | Path],
    *,
    attachments_dir: Path | None = None,
    excluded: Sequence[Path] = (),
) -> list[WorkbookInput]:
    """Every workbook named by files, folders, glob patterns, .eml and mbox files.

    An input that yields no workbook is kept as a ``WorkbookInput`` with a ``problem``, so the
    batch reports it instead of stopping.
    """
    return SourceExpander(attachments_dir, excluded).expand(arguments)
