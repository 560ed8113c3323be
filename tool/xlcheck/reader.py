"""A filled workbook → ``FilledWorkbook``: values via calamine, formulas, errors and styles via openpyxl.

The package is inspected first (``package.inspect_package``), so no parser ever sees a file that is
not a workbook, a zip bomb or XML with entities. When openpyxl cannot load a package that calamine
can (backslash zip paths, some pivot caches, legacy .xls), values are still read and verified and
the workbook says so (``formulas_read`` is false).
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
from xlcheck.package import MAX_GRID_CELLS, Package, describe, inspect_package
from xlcheck.relocation import PlacementNote

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
#: Rows and columns read past a sheet's template layout when a sheet is read in a bounded way.
_MARGIN = 200
_RESAVE = "请在 Excel、WPS 或 LibreOffice 中打开并重新保存为 .xlsx。"
_RESAVE_EN = "Open it in Excel, WPS or LibreOffice and save it again as .xlsx."
# What openpyxl raises on packages it cannot load, as observed on real files and in the fuzz test
# (tests/test_fuzz.py): missing parts (KeyError), malformed XML (ParseError), unexpected
# structures (TypeError, AttributeError, IndexError), bad values and defusedxml refusals (ValueError),
# and a damaged deflate stream in a part the package check did not read to its end (zlib.error).
OPENPYXL_FAILURES = (
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
    #: Sheets the unit hid (``hidden`` or ``veryHidden``).
    hidden_sheets: list[str] = field(default_factory=list)
    #: False when only cached values could be read (openpyxl could not load the package, or .xls).
    formulas_read: bool = True
    #: Why formulas could not be read, as one short phrase.
    formula_problem: str | None = None
    package: Package | None = None
    #: The loaded openpyxl workbook, handed to the annotator so a file is parsed only once
    #: (None when openpyxl could not load it). The annotator marks it in place.
    document: Any | None = None
    #: The layout the cells were read with: the template's, placed where this workbook has its
    #: sheets and rows (``relocation.relocate``); None means the template's own.
    layout: Layout | None = None
    #: What placing the layout found (sheets renamed or copied, rows moved), for the rules.
    placement_notes: tuple[PlacementNote, ...] = ()


@contextlib.contextmanager
def quiet_openpyxl() -> Iterator[None]:
    """Silence openpyxl while it loads a unit's workbook.

    It warns about extensions it drops (e.g. x14 validation), and on some damaged styles it
    prints ("0 is out of range") to stdout, which would corrupt ``verify --format json``.
    """
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _load_book(path: Path, *, has_macros: bool) -> tuple[Any | None, str | None]:
    """openpyxl's workbook (formulas, errors, styles), or None and why it could not be loaded."""
    import openpyxl

    try:
        with quiet_openpyxl():
            # Loaded once, from memory, for both reading and the annotated copy: a kept macro
            # archive must outlive any file handle, and openpyxl leaves its file open when it
            # fails. keep_vba copies every part into a second archive, so only when there are macros.
            data = io.BytesIO(path.read_bytes())
            book = openpyxl.load_workbook(
                data, data_only=False, keep_links=True, keep_vba=has_macros
            )
            return book, None
    except OPENPYXL_FAILURES as exc:
        return None, f"{type(exc).__name__}: {describe(exc)}"


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
    """An opened workbook: openpyxl for formulas and properties, calamine for values on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.package = inspect_package(path)
        self.application = self.package.application
        self.book: Any | None = None
        self.formula_problem: str | None = "legacy .xls" if self.package.kind == "xls" else None
        if self.package.kind != "xls":
            self.book, self.formula_problem = _load_book(path, has_macros=self.package.has_macros)
        self.sheet_names, self.hidden_sheets = self._sheets()
        self._grids: dict[str, list[list[Any]]] | None = None

    def __enter__(self) -> WorkbookSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the in-memory macro archive openpyxl keeps for a macro workbook."""
        book = self.book
        if book is not None and book.vba_archive is not None:
            book.vba_archive.close()
            book.vba_archive = None

    def _sheets(self) -> tuple[list[str], list[str]]:
        if self.book is not None:
            names = list(self.book.sheetnames)
            hidden = [ws.title for ws in self.book.worksheets if ws.sheet_state != "visible"]
            return names, hidden
        import python_calamine

        try:
            workbook = python_calamine.CalamineWorkbook.from_path(str(self.path))
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
            raise WorkbookError(
                self.path,
                f"无法打开工作簿（{self.formula_problem or describe(exc)}）",
                message_en=f"cannot open the workbook ({self.formula_problem or describe(exc)})",
                hint=_RESAVE,
                hint_en=_RESAVE_EN,
            ) from exc
        names = [m.name for m in metadata]
        hidden = [m.name for m in metadata if m.visible != python_calamine.SheetVisibleEnum.Visible]
        return names, hidden

    @property
    def can_annotate(self) -> bool:
        """Whether an annotated copy can be written (openpyxl loaded the package)."""
        return self.book is not None

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

    def grids(self, layout: Layout) -> dict[str, list[list[Any]]]:
        """The values of every sheet where the template's sheets may be, for ``relocation``.

        Read once and kept: ``read`` takes its cells from the same grids.
        """
        if self._grids is None:
            self._grids = self._values(self._bounds(layout))
        return self._grids

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
            formulas_read=self.book is not None,
            formula_problem=self.formula_problem,
            package=self.package,
            document=self.book,
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
            formula: str | None = None
            error: str | None = None
            number_format = "General"
            if self.book is not None:
                cell = self.book[placed.sheet].cell(placed.row_number, placed.column_number)
                value = cell.value
                if cell.data_type == "f" and value is not None:
                    # Array and data-table formulas: openpyxl gives an object holding the text.
                    formula = (
                        value if isinstance(value, str) else str(getattr(value, "text", value))
                    )
                if cell.data_type == "e" and isinstance(value, str):
                    error = value
                number_format = str(cell.number_format or "General")
            if error is None and isinstance(raw, str) and raw in _ERROR_VALUES and formula is None:
                error = raw
            filled.cells[placed.key] = CellReading(raw, formula, error, number_format)
        return filled

    def _bounds(self, layout: Layout) -> dict[str, tuple[int, int]]:
        """How far to read each sheet: the template's sheets and any other small sheet (a
        template sheet may be there under another name), a margin past the template's extent."""
        bounds = {
            s.sheet.name: (s.last_row + _MARGIN, s.last_column + _MARGIN)
            for s in layout.sheets
            if s.sheet.name in self.sheet_names
        }
        widest = (
            max(s.last_row for s in layout.sheets) + _MARGIN,
            max(s.last_column for s in layout.sheets) + _MARGIN,
        )
        for name in self.sheet_names:
            extent = self.package.extents.get(name)
            if name not in bounds and (extent is None or extent.grid_cells <= MAX_GRID_CELLS):
                bounds[name] = widest
        return bounds

    def formula_at(self, sheet: str, row_number: int, column_number: int) -> str | None:
        """The formula text of one cell, or None (no formula, or formulas could not be read)."""
        if self.book is None:
            return None
        cell = self.book[sheet].cell(row_number, column_number)
        value = cell.value
        if cell.data_type != "f" or value is None:
            return None
        return value if isinstance(value, str) else str(getattr(value, "text", value))

    def _values(self, bounds: dict[str, tuple[int, int]]) -> dict[str, list[list[Any]]]:
        """Each wanted sheet's values as rows, read no further than the sheet needs."""
        small = [
            name
            for name in bounds
            if (extent := self.package.extents.get(name)) is None
            or extent.grid_cells <= MAX_GRID_CELLS
        ]
        frames = self._calamine_values(small) if small else {}
        for name in bounds.keys() - set(small):
            frames[name] = self._bounded_values(name, *bounds[name])
        return frames

    def _calamine_values(self, sheet_names: list[str]) -> dict[str, list[list[Any]]]:
        """Cached values of whole sheets, read by calamine as ``pandas.read_excel`` would.

        This is the engine behind ``pandas.read_excel(engine="calamine", dtype=object)``, called
        directly: importing pandas costs more than a whole verification, and pandas would read
        text such as "NA" or "N/A" as blank. Cells come out as pandas' calamine reader gives them
        (whole floats as int, text untouched, blanks as None); tests/test_reader_values.py holds
        the two readers to the same values.
        """
        import python_calamine

        values: dict[str, list[list[Any]]] = {}
        try:
            workbook = python_calamine.CalamineWorkbook.from_path(str(self.path))
            try:
                for name in sheet_names:
                    rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                    values[name] = [[_cell_value(v) for v in row] for row in rows]
            finally:
                workbook.close()
        except (OSError, ValueError, zipfile.BadZipFile, python_calamine.CalamineError) as exc:
            raise WorkbookError(
                self.path,
                f"无法读取单元格的值（{describe(exc)}）",
                message_en=f"cannot read cell values ({describe(exc)})",
                hint=_RESAVE,
                hint_en=_RESAVE_EN,
            ) from exc
        return values

    def _bounded_values(self, sheet: str, max_row: int, max_column: int) -> list[list[Any]]:
        """Cached values of the top-left ``max_row`` × ``max_column`` cells, streamed by openpyxl.

        Used for sheets whose cells reach far out (e.g. a stray value at XFD1048576), where
        calamine would allocate the whole rectangle. Rows past ``max_row`` are never parsed.
        """
        import openpyxl

        try:
            with quiet_openpyxl(), self.path.open("rb") as handle:
                book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
                try:
                    rows = [
                        list(row)
                        for row in book[sheet].iter_rows(
                            min_row=1,
                            max_row=max_row,
                            min_col=1,
                            max_col=max_column,
                            values_only=True,
                        )
                    ]
                finally:
                    book.close()
        except OPENPYXL_FAILURES as exc:
            raise WorkbookError(
                self.path,
                f"工作表“{sheet}”的数据延伸到第 {self.package.extents[sheet].max_row} 行，且无法按范围读取（{describe(exc)}）",
                message_en=f"sheet '{sheet}' reaches row {self.package.extents[sheet].max_row} and cannot be read in part ({describe(exc)})",
                hint="请删除模板区域以外的数据后保存，再校验。",
                hint_en="Delete the data outside the template's area, save, and verify again.",
                sheet=sheet,
            ) from exc
        return rows


def open_workbook(path: Path) -> WorkbookSource:
    """Open ``path`` for verification.

    Raises:
        WorkbookError: missing file, not a workbook, unsafe or damaged package, or one that
            neither openpyxl nor calamine can read.
    """
    return WorkbookSource(path)
