"""Cell values read by python-calamine from the package's bytes: whole sheets, or windows.

This is the engine behind ``pandas.read_excel(engine="calamine", dtype=object)``, called
directly: importing pandas costs more than a whole verification, and pandas would read text such
as "NA" or "N/A" as blank. Cells come out as pandas' calamine reader gives them (whole floats as
int, text untouched, blanks as None); tests/test_reader_values.py holds the two to the same values.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xlcheck.errors import WorkbookError
from xlcheck.package import Package, check_sheet_count, describe, kind_names
from xlcheck.sheet_windows import package_with_windows

#: A sheet's values as rows, row 1 first.
Grid = list[list[Any]]

_RESAVE = "请在 Excel、WPS 或 LibreOffice 中打开并重新保存为 .xlsx。"
_RESAVE_EN = "Open it in Excel, WPS or LibreOffice and save it again as .xlsx."


def _cell_value(value: Any) -> Any:
    """A calamine cell as pandas' calamine reader turns it: "" is blank, 3.0 is 3, a date a datetime."""
    # By exact type: calamine gives str, float, int, bool, date, datetime, time, timedelta.
    kind = type(value)
    if kind is str:
        return value or None
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is dt.date:
        return dt.datetime(value.year, value.month, value.day)  # as pandas' Timestamp
    return value


def _cannot_read(path: Path, exc: Exception) -> WorkbookError:
    return WorkbookError(
        path,
        f"无法读取单元格的值（{describe(exc)}）",
        message_en=f"cannot read cell values ({describe(exc)})",
        hint=_RESAVE,
        hint_en=_RESAVE_EN,
    )


def list_sheets(package: Package) -> tuple[list[str], list[str]]:
    """Sheet names and hidden sheets of an .xls, .xlsb or .ods, as calamine lists them.

    Raises:
        WorkbookError: an encrypted workbook, one calamine cannot open, or too many sheets.
    """
    import python_calamine

    try:
        with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(package.data)) as book:
            metadata = list(book.sheets_metadata)
    except python_calamine.PasswordError as exc:
        raise WorkbookError(
            package.path,
            "工作簿设置了打开密码（已加密），xlcheck 无法读取",
            message_en="the workbook is password-protected (encrypted), so xlcheck cannot read it",
            hint="请在 Excel 中清除打开密码后保存，再校验。",
            hint_en="Clear the password in Excel, save, and verify again.",
        ) from exc
    except (python_calamine.CalamineError, OSError, ValueError) as exc:
        what, what_en = (
            kind_names(package.kind) if package.kind in ("ods", "xlsb") else ("工作簿", "workbook")
        )
        raise WorkbookError(
            package.path,
            f"无法打开{what}（{describe(exc)}）",
            message_en=f"cannot open the {what_en} ({describe(exc)})",
            hint=_RESAVE,
            hint_en=_RESAVE_EN,
        ) from exc
    check_sheet_count(package.path, len(metadata))
    hidden = [m.name for m in metadata if m.visible != python_calamine.SheetVisibleEnum.Visible]
    return [m.name for m in metadata], hidden


def read_sheets(path: Path, data: bytes, sheet_names: list[str]) -> dict[str, Grid]:
    """Cached values of whole sheets of the package ``data`` (``path`` names it in errors).

    Raises:
        WorkbookError: calamine cannot read one of the sheets.
    """
    import python_calamine

    values: dict[str, Grid] = {}
    if not sheet_names:
        return values
    try:
        with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
            for name in sheet_names:
                rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                values[name] = [[_cell_value(v) for v in row] for row in rows]
    except (OSError, ValueError, zipfile.BadZipFile, python_calamine.CalamineError) as exc:
        raise _cannot_read(path, exc) from exc
    return values


def read_windows(
    package: Package, windows: Mapping[str, bytes], whole: list[str]
) -> dict[str, Grid]:
    """Values of sheets read in a window, and of the ``whole`` sheets, in one calamine opening
    (it parses the shared strings each time it opens a package): ``windows`` maps each sheet to
    the worksheet part that holds only its window (``sheet_windows``), read through a copy of
    the package.

    Raises:
        WorkbookError: the copy cannot be made or read.
    """
    parts = package.sheet_parts
    read = set(windows) | set(whole)
    try:
        with package.open_zip() as archive:
            copy = package_with_windows(
                archive,
                {parts[name]: part for name, part in windows.items()},
                {entry for name, entry in parts.items() if name not in read},
            )
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise _cannot_read(package.path, exc) from exc
    return read_sheets(package.path, copy, [*whole, *windows])
