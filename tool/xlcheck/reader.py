"""A filled workbook → ``FilledWorkbook``: formulas, error cells and, for an .xlsx, values by one
scan of each template sheet (``sheet_xml``, ``xlsx_values``), values by python-calamine for the
rest, all from the bytes the package check read (``Package.data``), never from the path again.

The template's sheets are read by name; the workbook's other sheets only as far as telling
whether one is a template sheet renamed or copied needs (a window the size of the template's
sheets). .xls, .xlsb and .ods are read on their values only (``formulas_read`` is false).
"""

from __future__ import annotations

import contextlib
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
    describe,
    inspect_package,
)
from xlcheck.package_xml import declares_dtd
from xlcheck.records import record
from xlcheck.relocation import PlacementNote
from xlcheck.sheet_values import Grid, list_sheets, read_sheets, read_windows
from xlcheck.sheet_windows import rows_prefix, window_part
from xlcheck.sheet_xml import SheetScan, SheetXmlError, UnsafeXmlError, rough_extent, scan_sheet
from xlcheck.xlsx_values import WorkbookValues, sheet_grid, workbook_values

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
#: At most this many cells read from a sheet that is not the template's, to identify it.
_IDENTIFY_CELLS = 500_000
#: A sheet read whole (the other answers: the bytes of its window's part, or None if empty).
_WHOLE = "whole"
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


@record
class CellReading:
    """What one cell of a field holds.

    ``raw`` is the cached value as calamine reads it (for a formula: its result, None if none was
    saved); ``formula`` the formula text if the cell holds one; ``error`` an error value such as
    ``#DIV/0!`` typed or pasted into the cell.
    """

    raw: Any
    formula: str | None = None
    error: str | None = None
    #: The cell's number format shows a percentage (0.985 is shown, and meant, as 98.5%).
    percent_format: bool = False


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
            self.sheet_names, self.hidden_sheets = list_sheets(self.package)
        self._scans: dict[str, SheetScan] = {}
        #: How each sheet is scanned when its formulas are asked for: (window whose cells are
        #: kept, or None; stop past it).
        self._plans: dict[str, tuple[tuple[int, int] | None, bool]] = {}
        self._grids: dict[str, Grid] | None = None
        #: The workbook's shared strings and cell formats for values taken from the scans
        #: (``xlsx_values``), read when first needed; None: calamine reads the values.
        self._values: WorkbookValues | None = None
        self._values_read = False

    def __enter__(self) -> WorkbookSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the scans, grids and shared strings (the package's bytes stay with the package)."""
        self._scans.clear()
        self._grids = None
        self._values, self._values_read = None, False

    @property
    def formulas_read(self) -> bool:
        """Whether formulas and error cells come from the sheets' XML (not only values)."""
        return self.formula_problem is None

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

    def _scan(self, sheet: str) -> SheetScan | None:
        """The scan of one sheet's part (kept), or None when formulas cannot be read from it."""
        if sheet in self._scans:
            return self._scans[sheet]
        entry = self.package.sheet_parts.get(sheet)
        if entry is None or not self.formulas_read:
            return None
        window, stop_past_window = self._plans.get(sheet, (None, False))
        # A sheet scanned whole is a template sheet: its values come from the same scan.
        scan = self._scan_part(sheet, entry, window, stop_past_window, keep_values=window is None)
        if scan is not None:
            self._scans[sheet] = scan
        return scan

    def _scan_part(
        self,
        sheet: str,
        entry: str,
        window: tuple[int, int] | None,
        stop_past_window: bool,
        keep_values: bool = False,
    ) -> SheetScan | None:
        try:
            with self.package.open_part(entry) as stream:
                return scan_sheet(
                    stream,
                    window=window,
                    stop_past_window=stop_past_window,
                    keep_values=keep_values,
                )
        except UnsafeXmlError as exc:
            raise declares_dtd(self.path, entry) from exc
        except (SheetXmlError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            # calamine may still read the values: verify those, say formulas went unread.
            self.formula_problem = f"{sheet}: {describe(exc)}"
            return None

    def formula_at(self, sheet: str, row_number: int, column_number: int) -> str | None:
        """The formula text of one cell (``=A1*2``), or None (no formula, or formulas unread)."""
        scan = self._scan(sheet)
        if scan is None or not self.formulas_read:
            return None
        return scan.formulas.get((row_number, column_number))

    # --- values: the scans, else calamine -----------------------------------------------------

    def grids(self, layout: Layout) -> dict[str, Grid]:
        """The values of the template's sheets and, in a window, of the workbook's other sheets
        (a template sheet may be among them renamed or copied), for ``relocation``.

        Read once and kept: ``read`` takes its cells from the same grids.
        """
        if self._grids is not None:
            return self._grids
        if not self.package.is_spreadsheetml:
            self._grids = read_sheets(self.path, self.package.data, self.sheet_names)
            return self._grids
        own = {s.sheet.name: s for s in layout.sheets if s.sheet.name in self.sheet_names}
        # Telling a sheet is a template sheet needs the template's columns, and its rows with
        # room for rows inserted: no further.
        identify = (
            max(s.last_row for s in layout.sheets) + _MARGIN,
            max(s.last_column for s in layout.sheets),
        )
        whole: list[str] = []
        windows: dict[str, bytes] = {}
        grids: dict[str, Grid] = {}
        for name in self.sheet_names:
            if name not in self.package.sheet_parts:
                continue  # a sheet without a part (a damaged package) has no values to read
            sheet_layout = own.get(name)
            how: Grid | bytes | str | None
            if sheet_layout is None:
                self._plans[name] = (identify, True)
                how = self._other_sheet(name, identify)
            else:
                window = (sheet_layout.last_row + _MARGIN, sheet_layout.last_column + _MARGIN)
                how = self._template_sheet(name, window)
            if how is None:
                grids[name] = []  # no cell holds anything
            elif isinstance(how, list):
                grids[name] = how  # taken from the scan
            elif isinstance(how, bytes):
                windows[name] = how
            else:
                whole.append(name)
        if windows:
            grids.update(read_windows(self.package, windows, whole))
        else:
            grids.update(read_sheets(self.path, self.package.data, whole))
        self._grids = grids
        return grids

    def _template_sheet(self, name: str, window: tuple[int, int]) -> Grid | bytes | str | None:
        """A template sheet's values taken from its scan, or how calamine reads it: whole, or
        the part holding only ``window`` (rows, columns); None when it is empty."""
        scan = self._scan(name)
        if scan is None:
            self._check_damaged_extent(name)
            return _WHOLE  # the XML scan failed: calamine reads it whole (or fails)
        if scan.max_row == 0:
            return None
        whole = scan.max_row * scan.max_column <= MAX_GRID_CELLS
        grid = self._scan_grid(scan, None if whole else window)
        if grid is not None:
            return grid
        if whole:
            return _WHOLE
        # Rare (data far outside the template): a second pass keeps the window's cells, which
        # the first, for every sheet, does not spend time on.
        windowed = self._scan_part(name, self.package.sheet_parts[name], window, False)
        if windowed is None:
            self._check_damaged_extent(name)
            return _WHOLE
        return window_part(windowed.cells)

    def _other_sheet(self, name: str, identify: tuple[int, int]) -> bytes | str | None:
        """How to read a sheet that is not the template's: whole when it is no larger than the
        identification window, else its first rows; None when it holds no cell."""
        try:
            with self.package.open_part(self.package.sheet_parts[name]) as stream:
                prefix = rows_prefix(stream, identify[0])
        except (ValueError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self._damaged(name, exc) from exc
        if prefix.max_column == 0:
            return None
        if prefix.max_column > max(identify[1], _IDENTIFY_CELLS // identify[0]):
            # A cell far to the right: only the scan, which drops it, can make the window.
            scan = self._scan(name)
            if scan is None:
                self._check_damaged_extent(name)
                return _WHOLE
            return window_part(scan.cells) if scan.max_row else None
        return _WHOLE if prefix.part is None else prefix.part

    def _damaged(self, sheet: str, exc: Exception) -> WorkbookError:
        return WorkbookError(
            self.path,
            f"工作表“{sheet}”已损坏，无法读取（{describe(exc)}）",
            message_en=f"sheet '{sheet}' is damaged and cannot be read ({describe(exc)})",
            sheet=sheet,
        )

    def _scan_grid(self, scan: SheetScan, window: tuple[int, int] | None) -> Grid | None:
        """A sheet's values (within ``window``) from its scan, or None: calamine reads them."""
        if scan.values is None:
            return None
        if not self._values_read:
            self._values_read = True
            self._values = workbook_values(self.package)
        if self._values is None:
            return None
        return sheet_grid(scan.values, self._values, window)

    def sheet_values(self, sheet_names: list[str]) -> dict[str, Grid]:
        """Cached values of whole sheets: from their scans for an .xlsx, where a scan can give
        them as calamine would, else read by calamine from the package's bytes."""
        grids: dict[str, Grid] = {}
        if self.package.is_spreadsheetml:
            for name in sheet_names:
                scan = self._scan(name)
                grid = self._scan_grid(scan, None) if scan is not None else None
                if grid is not None:
                    grids[name] = grid
        rest = [name for name in sheet_names if name not in grids]
        grids.update(read_sheets(self.path, self.package.data, rest))
        return {name: grids[name] for name in sheet_names}

    def _check_damaged_extent(self, sheet: str) -> None:
        """Refuse a sheet whose XML the scan could not read when it may reach too far for
        calamine to read whole (it allocates the whole rectangle)."""
        try:
            with self.package.open_part(self.package.sheet_parts[sheet]) as stream:
                max_row, max_column = rough_extent(stream)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self._damaged(sheet, exc) from exc
        if max_row * max_column > MAX_GRID_CELLS:
            raise WorkbookError(
                self.path,
                f"工作表“{sheet}”的 XML 已损坏，且其数据延伸到第 {max_row:,} 行、第 {max_column:,} 列，无法按范围读取",
                message_en=f"sheet '{sheet}' has damaged XML and reaches row {max_row:,}, column {max_column:,}; it cannot be read in part",
                hint="请在 Excel、WPS 或 LibreOffice 中打开，删除模板区域以外的数据后另存为 .xlsx，再校验。",
                hint_en="Open it in Excel, WPS or LibreOffice, delete the data outside the template's area, save as .xlsx, and verify again.",
                sheet=sheet,
            )

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
        # Each sheet's scan, looked up once (None: formulas unread); a layout's fields come
        # sheet by sheet, so a sheet's grid and cell maps are looked up when the sheet changes.
        scans: dict[str, SheetScan | None] = {}
        percent_styles = self.package.percent_styles
        cells = filled.cells
        current: str | None = None
        rows: Grid | None = None
        formulas: dict[tuple[int, int], str] = {}
        errors: dict[tuple[int, int], str] = {}
        styles: dict[tuple[int, int], int] = {}
        for placed in layout.fields:
            sheet = placed.sheet
            if sheet != current:
                current, rows = sheet, frames.get(sheet)
                if rows is not None:
                    if sheet not in scans:
                        scan = self._scan(sheet)
                        scans[sheet] = scan if self.formulas_read else None
                    scan = scans[sheet]
                    formulas, errors, styles = (
                        (scan.formulas, scan.errors, scan.styles)
                        if scan is not None
                        else ({}, {}, {})
                    )
            if rows is None:
                continue
            row_index, column_index = placed.row_number - 1, placed.column_number - 1
            raw = None
            if row_index < len(rows) and column_index < len(rows[row_index]):
                raw = rows[row_index][column_index]
                if isinstance(raw, float) and not math.isfinite(raw):
                    # NaN is no value; no cell can hold infinity (a damaged or hand-made file):
                    # Excel shows #NUM!.
                    raw = None if math.isnan(raw) else "#NUM!"
            cell = (placed.row_number, placed.column_number)
            formula, error = formulas.get(cell), errors.get(cell)
            if error is None and isinstance(raw, str) and raw in _ERROR_VALUES and formula is None:
                error = raw
            cells[placed.key] = CellReading(raw, formula, error, styles.get(cell) in percent_styles)
        return filled


def open_workbook(path: Path) -> WorkbookSource:
    """Open ``path`` for verification.

    Raises:
        WorkbookError: missing file, not a workbook, unsafe or damaged package, or one that
            calamine cannot open.
    """
    return WorkbookSource(path)
