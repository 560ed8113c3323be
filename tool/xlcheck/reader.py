"""A filled .xlsx → ``FilledWorkbook``: values via pandas (calamine), formulas and errors via openpyxl."""

from __future__ import annotations

import math
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlcheck.errors import WorkbookError
from xlcheck.findings import PROPERTY_SPEC_HASH, PROPERTY_TEMPLATE, PROPERTY_VERSION, TemplateIdentity
from xlcheck.layout import Layout
_APPLICATION = re.compile(rb"<(?:\w+:)?Application>([^<]*)</(?:\w+:)?Application>")
_APP_VERSION = re.compile(rb"<(?:\w+:)?AppVersion>([^<]*)</(?:\w+:)?AppVersion>")
_ERROR_VALUES = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#CALC!")


@dataclass(frozen=True)
class CellReading:
    """What one cell of a field holds.

    ``raw`` is the value as pandas reads it (for a formula: the cached result, None if none was
    saved); ``formula`` the formula text if the cell holds one; ``error`` an error value such as
    ``#DIV/0!`` typed or pasted into the cell.
    """

    raw: Any
    formula: str | None = None
    error: str | None = None
    number_format: str = "General"


@dataclass
class FilledWorkbook:
    """The cells of every field of a layout, as found in one workbook."""

    path: Path
    identity: TemplateIdentity | None
    application: str | None
    sheet_names: list[str]
    cells: dict[str, CellReading] = field(default_factory=dict)
    missing_sheets: list[str] = field(default_factory=list)


def _application(path: Path) -> str | None:
    """Which app last saved the file (docProps/app.xml, plus WPS's build number when present)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            app_xml = archive.read("docProps/app.xml") if "docProps/app.xml" in names else b""
            custom = archive.read("docProps/custom.xml") if "docProps/custom.xml" in names else b""
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    match = _APPLICATION.search(app_xml)
    if not match:
        return None
    name = match.group(1).decode("utf-8", "replace").strip()
    version = _APP_VERSION.search(app_xml)
    wps_build = re.search(rb'name="KSOProductBuildVer"[^>]*>\s*<[^>]+>([^<]*)<', custom)
    if wps_build:
        return f"{name} (KSOProductBuildVer {wps_build.group(1).decode('utf-8', 'replace')})"
    if version and not any(ch.isdigit() for ch in name):
        return f"{name} {version.group(1).decode('utf-8', 'replace')}"
    return name


class WorkbookSource:
    """An opened workbook: openpyxl for formulas and properties, pandas for values on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise WorkbookError(path, "找不到该文件", message_en="file not found", hint="请检查文件名和路径。", hint_en="Check the file name and path.")
        if not zipfile.is_zipfile(path):
            raise WorkbookError(
                path,
                "不是 .xlsx 工作簿（文件不是 zip 格式）",
                message_en="not an .xlsx workbook (the file is not a zip package)",
                hint="请在 Excel、WPS 或 LibreOffice 中另存为 .xlsx 后再校验。",
                hint_en="Save it as .xlsx in Excel, WPS or LibreOffice and verify that file.",
            )
        import openpyxl  # noqa: PLC0415 - keeps `xlcheck --help` fast

        try:
            with warnings.catch_warnings():
                # openpyxl warns about extensions it drops (e.g. x14 validation) on read.
                warnings.simplefilter("ignore")
                self.book = openpyxl.load_workbook(path, data_only=False, keep_links=False)
        except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise WorkbookError(
                path,
                f"无法打开工作簿（{type(exc).__name__}：{exc}）",
                message_en=f"cannot open the workbook ({type(exc).__name__}: {exc})",
                hint="请在 Excel、WPS 或 LibreOffice 中打开并重新保存为 .xlsx。",
                hint_en="Open it in Excel, WPS or LibreOffice and save it again as .xlsx.",
            ) from exc
        self.application = _application(path)

    def identity(self) -> TemplateIdentity | None:
        """The template id and version the workbook carries in its custom properties."""
        properties = {p.name: p.value for p in self.book.custom_doc_props.props}
        template = properties.get(PROPERTY_TEMPLATE)
        if not template:
            return None
        hash_value = properties.get(PROPERTY_SPEC_HASH)
        return TemplateIdentity(
            str(template),
            str(properties.get(PROPERTY_VERSION, "")),
            str(hash_value) if hash_value else None,
        )

    def read(self, layout: Layout) -> FilledWorkbook:
        """Read every field's cell of ``layout``."""
        sheet_names = list(self.book.sheetnames)
        wanted = [s.sheet.name for s in layout.sheets if s.sheet.name in sheet_names]
        frames = self._values(wanted)
        filled = FilledWorkbook(self.path, self.identity(), self.application, sheet_names)
        filled.missing_sheets = [s.sheet.name for s in layout.sheets if s.sheet.name not in sheet_names]
        for placed in layout.fields:
            if placed.sheet not in frames:
                continue
            frame = frames[placed.sheet]
            row_index, column_index = placed.row_number - 1, placed.column_number - 1
            raw = None
            if row_index < len(frame.index) and column_index < len(frame.columns):
                raw = frame.iat[row_index, column_index]
                if isinstance(raw, float) and math.isnan(raw):
                    raw = None
            cell = self.book[placed.sheet].cell(placed.row_number, placed.column_number)
            formula = cell.value if cell.data_type == "f" else None
            if formula is not None and not isinstance(formula, str):
                # Array and data-table formulas: openpyxl gives an object holding the text.
                formula = str(getattr(formula, "text", formula))
            error = cell.value if cell.data_type == "e" and isinstance(cell.value, str) else None
            if error is None and isinstance(raw, str) and raw in _ERROR_VALUES and formula is None:
                error = raw
            filled.cells[placed.key] = CellReading(raw, formula, error, cell.number_format or "General")
        return filled

    def _values(self, sheet_names: list[str]) -> dict[str, Any]:
        if not sheet_names:
            return {}
        import pandas as pd  # noqa: PLC0415 - keeps `xlcheck --help` fast

        try:
            frames: dict[str, Any] = pd.read_excel(
                self.path, sheet_name=sheet_names, header=None, dtype=object, engine="calamine"
            )
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise WorkbookError(
                self.path,
                f"无法读取单元格的值（{exc}）",
                message_en=f"cannot read cell values ({exc})",
                hint="请在 Excel、WPS 或 LibreOffice 中打开并重新保存为 .xlsx。",
                hint_en="Open it in Excel, WPS or LibreOffice and save it again as .xlsx.",
            ) from exc
        return frames


def open_workbook(path: Path) -> WorkbookSource:
    """Open ``path`` for verification.

    Raises:
        WorkbookError: missing file, not an .xlsx package, or a package openpyxl cannot load.
    """
    return WorkbookSource(path)
