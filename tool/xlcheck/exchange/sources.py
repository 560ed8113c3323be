"""Inputs (files, folders, glob patterns, .eml and mbox files) → the workbooks to verify."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xlcheck.errors import XlcheckError
from xlcheck.exchange.file_names import NameAllocator
from xlcheck.file_kinds import WORKBOOK_SUFFIXES
from xlcheck.findings import MailOrigin

if TYPE_CHECKING:
    from xlcheck.exchange.mail_attachments import Attachment

MAIL_SUFFIXES = (".eml",)
MBOX_SUFFIXES = (".mbox", ".mbx")
#: Suffix of annotated copies; a folder scan skips them so a second run does not check its output.
CHECKED_SUFFIX = ".checked.xlsx"
#: Folder beside a mail file that receives its extracted attachments when no --out-dir is given.
ATTACHMENTS_SUFFIX = ".attachments"
_GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
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


def _is_candidate(path: Path) -> bool:
    """Whether a file found in a folder is something to verify."""
    name = path.name
    if name.startswith(("~$", ".")) or name.lower().endswith(CHECKED_SUFFIX):
        return False  # Excel's lock files, hidden files, our own annotated copies
    return name.lower().endswith(WORKBOOK_SUFFIXES + MAIL_SUFFIXES + MBOX_SUFFIXES)


def _scan(folder: Path, excluded: set[Path]) -> Iterator[Path]:
    """Files to verify under ``folder``, recursively, in a stable (sorted) order."""
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not d.endswith(ATTACHMENTS_SUFFIX)
            and (root_path / d).resolve() not in excluded
        )
        for name in sorted(files):
            if _is_candidate(root_path / name):
                yield root_path / name


def _is_mbox(path: Path) -> bool:
    if path.suffix.lower() in MBOX_SUFFIXES:
        return True
    if path.suffix.lower() in WORKBOOK_SUFFIXES + MAIL_SUFFIXES:
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def _missing(argument: str, *, pattern: bool) -> XlcheckError:
    if pattern:
        return XlcheckError(
            f"没有文件匹配 {argument}",
            message_en=f"no file matches {argument}",
            hint="请检查通配符模式；在 shell 中请给模式加引号。",
            hint_en="Check the pattern; quote it so the shell passes it on unexpanded.",
        )
    return XlcheckError(
        f"找不到文件或文件夹：{argument}",
        message_en=f"no such file or folder: {argument}",
        hint="请检查文件名和路径。",
        hint_en="Check the file name and path.",
    )


class SourceExpander:
    """Turns inputs into workbooks, extracting mail attachments into a folder as it goes.

    Args:
        attachments_dir: where extracted attachments go; None puts them in
            ``<mail file>.attachments/`` beside each mail.
        excluded: folders never scanned (the output folder of this run).
    """

    def __init__(self, attachments_dir: Path | None = None, excluded: Sequence[Path] = ()) -> None:
        self.attachments_dir = attachments_dir
        self.excluded = {p.resolve() for p in excluded}
        self.names = NameAllocator()
        self._seen: set[Path] = set()

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
        files = _scan(path, self.excluded) if path.is_dir() else iter([path])
        for file in files:
            resolved = file.resolve()
            if resolved in self._seen:
                continue
            self._seen.add(resolved)
            if file.suffix.lower() in MAIL_SUFFIXES:
                yield from self._from_eml(file)
            elif _is_mbox(file):
                yield from self._from_mbox(file)
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
        from xlcheck.exchange.mail_attachments import read_mbox  # the mail modules, for mail only

        try:
            for origin, attachments in read_mbox(path):
                if not attachments:
                    yield self._no_attachment(path, origin)
                for attachment in attachments:
                    yield self._extract(attachment)
        except XlcheckError as exc:
            yield WorkbookInput(path, problem=exc)

    @staticmethod
    def _no_attachment(path: Path, origin: MailOrigin | None) -> WorkbookInput:
        number = origin.message_number if origin else None
        where = f"{path}" + (f" 第 {number} 封" if number else "")
        where_en = f"{path}" + (f" message {number}" if number else "")
        subject = f"（{origin.subject}）" if origin and origin.subject else ""
        return WorkbookInput(
            path,
            mail=origin,
            problem=XlcheckError(
                f"{where}{subject}：邮件里没有 .xlsx/.xls 附件",
                message_en=f"{where_en}: the mail has no .xlsx/.xls attachment",
            ),
        )

    def _extract(self, attachment: Attachment) -> WorkbookInput:
        origin = attachment.origin
        mail_file = origin.mail_file
        folder = self.attachments_dir or mail_file.with_name(mail_file.name + ATTACHMENTS_SUFFIX)
        name = Path(attachment.filename)
        target = self.names.allocate(folder, name.stem, name.suffix)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(attachment.content)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return WorkbookInput(
                target,
                mail=origin,
                problem=XlcheckError(
                    f"无法保存附件 {attachment.filename} 到 {target}（{reason}）",
                    message_en=f"cannot save attachment {attachment.filename} to {target} ({reason})",
                ),
            )
        return WorkbookInput(target, mail=origin)


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
