"""Verification result + source package → a NEW annotated workbook; the input is never touched.

The copy is made at the package level (``package_copy``): every part the marks have no reason to
touch (charts, pictures, shapes, text boxes, form controls, conditional formats, x14 validation,
sparklines, pivot caches, custom XML, the unit's comments) is copied byte for byte.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from xlcheck.annotator.package_copy import annotated_package
from xlcheck.annotator.results_sheet import RESULTS_SHEET, RESULTS_SHEET_EN
from xlcheck.annotator.xml_parts import XmlPartError
from xlcheck.annotator.zip_package import DamagedPackageError, SourcePackage
from xlcheck.errors import WorkbookError
from xlcheck.findings import VerificationResult
from xlcheck.inflated_parts import InflatedParts
from xlcheck.output_files import write_output

__all__ = ["RESULTS_SHEET", "RESULTS_SHEET_EN", "annotate_workbook", "can_annotate"]

#: Errors that mean "this folder cannot take a new file" (a read-only folder, a read-only file
#: system, or a folder such as /proc/self/fd where nothing can be created, even by root).
_UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT)
_ZIP_SIGNATURE = b"PK\x03\x04"


def _copyable(package: SourcePackage) -> bool:
    """An .ods (``mimetype``) or an .xlsb (``xl/workbook.bin``) zip is no Office Open XML package."""
    return "mimetype" not in package and "xl/workbook.bin" not in package


def can_annotate(source: bytes) -> bool:
    """Whether ``source`` is an Office Open XML package a copy can be made of.

    A legacy .xls, an .ods or an .xlsb has no such package: xlcheck verifies their values but
    writes no copy (the ``formulas-unread`` finding says so).
    """
    if not source.startswith(_ZIP_SIGNATURE):
        return False
    try:
        return _copyable(SourcePackage(source))
    except DamagedPackageError:
        return True  # damaged: annotate_workbook says so in one sentence


def _private_folder() -> Path:
    """A folder only this user can write: ``<temp>/xlcheck-<uid>``, made 0700 and checked, since
    another user could create that predictable name first; else a fresh unpredictable one."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    if uid is not None:
        folder = Path(tempfile.gettempdir()) / f"xlcheck-{uid}"
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError:
            return Path(tempfile.mkdtemp(prefix="xlcheck-"))
        status = os.lstat(folder)
        if (
            stat.S_ISDIR(status.st_mode)
            and status.st_uid == uid
            and stat.S_IMODE(status.st_mode) & 0o077 == 0
        ):
            return folder
    return Path(tempfile.mkdtemp(prefix="xlcheck-"))


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem (2).suffix`` … when that is taken: never overwrite there."""
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 2
    while os.path.lexists(candidate):
        candidate = folder / f"{stem} ({number}){suffix}"
        number += 1
    return candidate


def _write(content: bytes, out: Path, *, source: Path, force: bool, may_relocate: bool) -> Path:
    """Write ``content`` at ``out``; when its folder cannot be written and ``may_relocate``, in the
    working directory, else in a private folder, under a free name."""
    try:
        return write_output(out, content, force=force, inputs=[source])
    except OSError as exc:
        if not may_relocate or exc.errno not in _UNWRITABLE:
            raise
    for folder in (Path.cwd(), None):
        place = folder if folder is not None else _private_folder()
        if folder is not None and os.path.abspath(folder) == os.path.abspath(out.parent):
            continue
        try:
            return write_output(_free_name(place, out.name), content, inputs=[source])
        except OSError as exc:
            if folder is None or exc.errno not in _UNWRITABLE:
                raise
    raise AssertionError("unreachable: the private folder either takes the copy or raises")


def annotate_workbook(
    result: VerificationResult,
    out: Path,
    *,
    source: bytes,
    parts: InflatedParts | None = None,
    lang: str = "zh",
    force: bool = False,
    may_relocate: bool = False,
    frozen: Mapping[str, tuple[int, int]] | None = None,
) -> Path | None:
    """Write a copy of the workbook with every finding marked at its cell and a results sheet.

    Args:
        source: the workbook's bytes, as read once for verification.
        parts: the package check's zip archive over ``source`` and the entries it inflated
            (``Package.parts``): read from there, not again.
        force: replace an existing file at ``out`` (keeping its mode).
        may_relocate: when ``out``'s folder cannot be written (a read-only input folder), write
            the copy to the working directory, else to a folder private to the user, under a
            free name.
        frozen: sheet name → (rows, columns) to freeze, restoring the template's frozen panes
            (a LibreOffice headless save drops them).

    Returns:
        Where the copy was written; None for a workbook that is not an Office Open XML package
        (.xls, .ods, .xlsb), of which no copy is made.

    Raises:
        WorkbookError: the package cannot be marked (a damaged part), or the copy cannot be written.
        OutputExistsError, OutputRefusedError: see ``output_files.write_output``.
    """
    if not source.startswith(_ZIP_SIGNATURE):
        return None
    try:
        package = SourcePackage(source, parts)
        if not _copyable(package):
            return None
        content = annotated_package(
            package, result, lang=lang, frozen=frozen or {}, suffix=out.suffix
        )
    except (DamagedPackageError, XmlPartError) as exc:
        raise WorkbookError(
            result.path,
            f"无法写出批注副本：工作簿的部分内容已损坏（{exc}）",
            message_en=f"cannot write the annotated copy: part of the workbook is damaged ({exc})",
            hint="在 Excel、WPS 或 LibreOffice 中打开并重新保存后再校验，或加 --no-annotate 只校验。",
            hint_en="Open and save it again in Excel, WPS or LibreOffice, or add --no-annotate to verify only.",
        ) from exc
    try:
        return _write(content, out, source=result.path, force=force, may_relocate=may_relocate)
    except OSError as exc:
        raise WorkbookError(
            out,
            f"无法写入批注副本（{exc.strerror or exc}）",
            message_en=f"cannot write the annotated copy ({exc.strerror or exc})",
            hint="用 -o 指定一个可写的位置，或加 --no-annotate。",
            hint_en="Choose a writable place with -o, or add --no-annotate.",
        ) from exc
