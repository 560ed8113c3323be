"""A filled workbook → ``FilledWorkbook``: values read by python-calamine, formulas and error
cells by a streaming scan of the template's sheets (``sheet_xml``), all from the bytes the package
check read (``Package.data``), never from the path again.

The template's sheets are read by name; the workbook's other sheets only as far as telling
whether one is a template sheet renamed or copied needs (a window the size of the template's
sheets). .xls, .xlsb and .ods are read on their values only (``formulas_read`` is false).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from xlcheck.errors import WorkbookError
from xlcheck.findings import (
    PROPERTY_SPEC_HASH,
    PROPERTY_TEMPLATE,
    PROPERTY_VERSION,
    TemplateIdentity,
)
from xlcheck.layout import Layout
from xlcheck.package import (
    MAX_GRID_CELLS,
    Package,
    check_sheet_count,
    declares_dtd,
    describe,
    inspect_package,
    kind_names,
)
from xlcheck.relocation import PlacementNote
from xlcheck.sheet_windows import package_with_windows, window_part
from xlcheck.sheet_xml import SheetScan, SheetXmlError, UnsafeXmlError, rough_extent, scan_sheet

_ERROR_VALUES = (
    "#DIV/0!",
    "#N/A",
    "#NAME?",
    "#NULL!",
    "#NUM!",
    "#REF!",
    "#VALUE!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
)
#: Rows and columns read past the template's extent when a sheet is read in a window.
_MARGIN = 200
#: Why formulas are not read, by format: calamine reads these formats' values only.
_VALUES_ONLY = {"xls": "legacy .xls", "xlsb": "binary .xlsb", "ods": "OpenDocument .ods"}
_RESAVE = "请在 Excel、WPS 或 LibreOffice 中打开并重新保存为 .xlsx。"
_RESAVE_EN = "Open it in Excel, WPS or LibreOffice and save it again as .xlsx."
# What openpyxl raises on packages it cannot load (tests/test_fuzz.py). The annotator still loads
# the source with openpyxl until it works on the package itself, and catches these. SyntaxError:
# with lxml installed openpyxl parses through it, and lxml's XMLSyntaxError is a SyntaxError.
OPENPYXL_FAILURES = (
    SyntaxError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    ParseError,
    AssertionError,
    NotImplementedError,
    OverflowError,
    RecursionError,
    zlib.error,
)


@dataclass(frozen=True)
class CellReading:
    """What one cell of a field holds.

    ``raw`` is the cached value as calamine reads it (for a formula: its result, None if none was
    saved); ``formula`` the formula text if the cell holds one; ``error`` an error value such as
    ``#DIV/0!`` typed or pasted into the cell.
    """

    raw: Any
    formula: str | None = None
    error: str | None = None


@dataclass
class FilledWorkbook:
    """The cells of every field of a layout, as found in one workbook."""

    path: Path
    identity: TemplateIdentity | None
    application: str | None
    sheet_names: list[str]
    cells: dict[str, CellReading] = field(default_factory=dict)
    missing_sheets: list[str] = field(default_factory=list)
    #: Sheets the unit hid (``hidden`` or ``veryHidden``).
    hidden_sheets: list[str] = field(default_factory=list)
    #: False when only cached values could be read (.xls, .xlsb, .ods, or unreadable sheet XML).
    formulas_read: bool = True
    #: Why formulas could not be read, as one short phrase.
    formula_problem: str | None = None
    #: The package as checked, with the file's bytes (``Package.data``) for the annotator.
    package: Package | None = None
    #: The layout the cells were read with: the template's, placed where this workbook has its
    #: sheets and rows (``relocation.relocate``); None means the template's own.
    layout: Layout | None = None
    #: What placing the layout found (sheets renamed or copied, rows moved), for the rules.
    placement_notes: tuple[PlacementNote, ...] = ()


@contextlib.contextmanager
def quiet_openpyxl() -> Iterator[None]:
    """Silence openpyxl while it loads a unit's workbook (used by the annotator).

    It warns about extensions it drops (e.g. x14 validation), and on some damaged styles it
    prints ("0 is out of range") to stdout, which would corrupt ``verify --format json``.
    """
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _cell_value(value: Any) -> Any:
    """A calamine cell as pandas' calamine reader turns it: "" is blank, 3.0 is 3, a date a datetime."""
    if isinstance(value, str) and value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)  # as pandas' Timestamp
    return value


class WorkbookSource:
    """An opened workbook: the checked package, its sheets' scans, and values on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.package = inspect_package(path)
        self.application = self.package.application
        self.formula_problem: str | None = None
        if self.package.is_spreadsheetml:
            self.sheet_names = list(self.package.sheet_names)
            self.hidden_sheets = list(self.package.hidden_sheets)
        else:
            self.formula_problem = _VALUES_ONLY[self.package.kind]
            self.sheet_names, self.hidden_sheets = self._calamine_sheets()
        self._scans: dict[str, SheetScan] = {}
        self._grids: dict[str, list[list[Any]]] | None = None

    def __enter__(self) -> WorkbookSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the scans and grids (the package's bytes stay with the package)."""
        self._scans.clear()
        self._grids = None

    @property
    def formulas_read(self) -> bool:
        """Whether formulas and error cells come from the sheets' XML (not only values)."""
        return self.formula_problem is None

    def _cannot_open(self, exc: Exception) -> WorkbookError:
        kind = kind_names(self.package.kind) if self.package.kind in ("ods", "xlsb") else None
        what, what_en = (f"{kind[0]}", f"{kind[1]}") if kind else ("工作簿", "workbook")
        return WorkbookError(
            self.path,
            f"无法打开{what}（{describe(exc)}）",
            message_en=f"cannot open the {what_en} ({describe(exc)})",
            hint=_RESAVE,
            hint_en=_RESAVE_EN,
        )

    def _calamine_sheets(self) -> tuple[list[str], list[str]]:
        """Sheet names and hidden sheets of an .xls, .xlsb or .ods, as calamine lists them."""
        import python_calamine

        try:
            with python_calamine.CalamineWorkbook.from_filelike(
                io.BytesIO(self.package.data)
            ) as workbook:
                metadata = list(workbook.sheets_metadata)
        except python_calamine.PasswordError as exc:
            raise WorkbookError(
                self.path,
                "工作簿设置了打开密码（已加密），xlcheck 无法读取",
                message_en="the workbook is password-protected (encrypted), so xlcheck cannot read it",
                hint="请在 Excel 中清除打开密码后保存，再校验。",
                hint_en="Clear the password in Excel, save, and verify again.",
            ) from exc
        except (python_calamine.CalamineError, OSError, ValueError) as exc:
            raise self._cannot_open(exc) from exc
        check_sheet_count(self.path, len(metadata))
        names = [m.name for m in metadata]
        hidden = [m.name for m in metadata if m.visible != python_calamine.SheetVisibleEnum.Visible]
        return names, hidden

    def identity(self) -> TemplateIdentity | None:
        """The template id and version the workbook carries in its custom properties."""
        properties = self.package.properties
        template = properties.get(PROPERTY_TEMPLATE)
        if not template:
            return None
        hash_value = properties.get(PROPERTY_SPEC_HASH)
        return TemplateIdentity(
            str(template),
            str(properties.get(PROPERTY_VERSION, "")),
            str(hash_value) if hash_value else None,
        )

    # --- formulas and extents: the sheets' XML ----------------------------------------------

    def _scan(
        self, sheet: str, window: tuple[int, int], *, stop_past_window: bool
    ) -> SheetScan | None:
        """The scan of one sheet's part (kept), or None when formulas cannot be read from it."""
        if sheet in self._scans:
            return self._scans[sheet]
        entry = self.package.sheet_parts.get(sheet)
        if entry is None or not self.package.is_spreadsheetml:
            return None
        try:
            with self.package.open_zip() as archive, archive.open(entry) as stream:
                scan = scan_sheet(stream, window=window, stop_past_window=stop_past_window)
        except UnsafeXmlError as exc:
            raise declares_dtd(self.path, entry) from exc
        except (SheetXmlError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            # calamine may still read the values: verify those, say formulas went unread.
            self.formula_problem = f"{sheet}: {describe(exc)}"
            return None
        self._scans[sheet] = scan
        return scan

    def formula_at(self, sheet: str, row_number: int, column_number: int) -> str | None:
        """The formula text of one cell (``=A1*2``), or None (no formula, or formulas unread)."""
        if not self.formulas_read:
            return None
        scan = self._scans.get(sheet)
        if scan is None:
            scan = self._scan(sheet, (0, 0), stop_past_window=False)
        if scan is None or not self.formulas_read:
            return None
        return scan.formulas.get((row_number, column_number))

    def _error_at(self, sheet: str, row_number: int, column_number: int) -> str | None:
        scan = self._scans.get(sheet) if self.formulas_read else None
        return scan.errors.get((row_number, column_number)) if scan is not None else None

    # --- values: calamine ---------------------------------------------------------------------

    def grids(self, layout: Layout) -> dict[str, list[list[Any]]]:
        """The values of the template's sheets and, in a window, of the workbook's other sheets
        (a template sheet may be among them renamed or copied), for ``relocation``.

        Read once and kept: ``read`` takes its cells from the same grids.
        """
        if self._grids is not None:
            return self._grids
        if not self.package.is_spreadsheetml:
            self._grids = self._calamine_values(self.package.data, self.sheet_names)
            return self._grids
        own = {s.sheet.name: s for s in layout.sheets if s.sheet.name in self.sheet_names}
        widest = (
            max(s.last_row for s in layout.sheets) + _MARGIN,
            max(s.last_column for s in layout.sheets) + _MARGIN,
        )
        whole: list[str] = []
        empty: list[str] = []
        windows: dict[str, bytes] = {}
        for name in self.sheet_names:
            if name not in self.package.sheet_parts:
                continue  # a sheet without a part (a damaged package) has no values to read
            sheet_layout = own.get(name)
            window = (
                (sheet_layout.last_row + _MARGIN, sheet_layout.last_column + _MARGIN)
                if sheet_layout is not None
                else widest
            )
            scan = self._scan(name, window, stop_past_window=sheet_layout is None)
            if scan is None:
                self._check_damaged_extent(name)
                whole.append(name)  # the XML scan failed: calamine reads it whole (or fails)
            elif scan.max_row == 0:
                empty.append(name)
            elif (
                sheet_layout is not None and scan.max_row * scan.max_column <= MAX_GRID_CELLS
            ) or (scan.complete and not scan.beyond_window):
                whole.append(name)
            else:
                windows[name] = window_part(scan.cells)
        self._grids = self._calamine_values(self.package.data, whole)
        self._grids.update({name: [] for name in empty})
        if windows:
            self._grids.update(self._window_values(windows))
        return self._grids

    def _check_damaged_extent(self, sheet: str) -> None:
        """Refuse a sheet whose XML the scan could not read when it may reach too far for
        calamine to read whole (it allocates the whole rectangle)."""
        try:
            with (
                self.package.open_zip() as archive,
                archive.open(self.package.sheet_parts[sheet]) as stream,
            ):
                max_row, max_column = rough_extent(stream)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self._cannot_read(exc) from exc
        if max_row * max_column > MAX_GRID_CELLS:
            raise WorkbookError(
                self.path,
                f"工作表“{sheet}”的 XML 已损坏，且其数据延伸到第 {max_row:,} 行、第 {max_column:,} 列，无法按范围读取",
                message_en=f"sheet '{sheet}' has damaged XML and reaches row {max_row:,}, column {max_column:,}; it cannot be read in part",
                hint="请在 Excel、WPS 或 LibreOffice 中打开，删除模板区域以外的数据后另存为 .xlsx，再校验。",
                hint_en="Open it in Excel, WPS or LibreOffice, delete the data outside the template's area, save as .xlsx, and verify again.",
                sheet=sheet,
            )

    def _window_values(self, windows: dict[str, bytes]) -> dict[str, list[list[Any]]]:
        """Values of sheets read in a window, through a copy of the package holding the windows."""
        parts = self.package.sheet_parts
        try:
            with self.package.open_zip() as archive:
                copy = package_with_windows(
                    archive,
                    {parts[name]: part for name, part in windows.items()},
                    {entry for name, entry in parts.items() if name not in windows},
                )
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self._cannot_read(exc) from exc
        return self._calamine_values(copy, list(windows))

    def _cannot_read(self, exc: Exception) -> WorkbookError:
        return WorkbookError(
            self.path,
            f"无法读取单元格的值（{describe(exc)}）",
            message_en=f"cannot read cell values ({describe(exc)})",
            hint=_RESAVE,
            hint_en=_RESAVE_EN,
        )

    def sheet_values(self, sheet_names: list[str]) -> dict[str, list[list[Any]]]:
        """Cached values of whole sheets (each sheet's rows, row 1 first), read by calamine from
        the package's bytes; see ``_calamine_values``."""
        return self._calamine_values(self.package.data, sheet_names)

    def _calamine_values(self, data: bytes, sheet_names: list[str]) -> dict[str, list[list[Any]]]:
        """Cached values of whole sheets, read by calamine as ``pandas.read_excel`` would.

        This is the engine behind ``pandas.read_excel(engine="calamine", dtype=object)``, called
        directly: importing pandas costs more than a whole verification, and pandas would read
        text such as "NA" or "N/A" as blank. Cells come out as pandas' calamine reader gives them
        (whole floats as int, text untouched, blanks as None); tests/test_reader_values.py holds
        the two readers to the same values.
        """
        import python_calamine

        values: dict[str, list[list[Any]]] = {}
        if not sheet_names:
            return values
        try:
            with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
                for name in sheet_names:
                    rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                    values[name] = [[_cell_value(v) for v in row] for row in rows]
        except (OSError, ValueError, zipfile.BadZipFile, python_calamine.CalamineError) as exc:
            raise self._cannot_read(exc) from exc
        return values

    # --- the fields of a layout ---------------------------------------------------------------

    def read(
        self, layout: Layout, placement_notes: tuple[PlacementNote, ...] = ()
    ) -> FilledWorkbook:
        """Read every field's cell of ``layout``, a layout already placed in this workbook
        (``relocation.relocate``)."""
        frames = self.grids(layout)
        filled = FilledWorkbook(
            self.path,
            self.identity(),
            self.application,
            list(self.sheet_names),
            hidden_sheets=list(self.hidden_sheets),
            formulas_read=self.formulas_read,
            formula_problem=self.formula_problem,
            package=self.package,
            layout=layout,
            placement_notes=placement_notes,
        )
        filled.missing_sheets = [
            s.sheet.name for s in layout.sheets if s.sheet.name not in self.sheet_names
        ]
        for placed in layout.fields:
            if placed.sheet not in frames:
                continue
            rows = frames[placed.sheet]
            row_index, column_index = placed.row_number - 1, placed.column_number - 1
            raw = None
            if row_index < len(rows) and column_index < len(rows[row_index]):
                raw = rows[row_index][column_index]
                if isinstance(raw, float) and math.isnan(raw):
                    raw = None
                elif isinstance(raw, float) and math.isinf(raw):
                    # No cell can hold infinity (a damaged or hand-made file): Excel shows #NUM!.
                    raw = "#NUM!"
            formula = self.formula_at(placed.sheet, placed.row_number, placed.column_number)
            error = self._error_at(placed.sheet, placed.row_number, placed.column_number)
            if error is None and isinstance(raw, str) and raw in _ERROR_VALUES and formula is None:
                error = raw
            filled.cells[placed.key] = CellReading(raw, formula, error)
        return filled


def open_workbook(path: Path) -> WorkbookSource:
    """Open ``path`` for verification.

    Raises:
        WorkbookError: missing file, not a workbook, unsafe or damaged package, or one that
            calamine cannot open.
    """
    return WorkbookSource(path)
