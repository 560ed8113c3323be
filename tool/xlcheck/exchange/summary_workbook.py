"""The summary (汇总表) as an .xlsx workbook that also works on paper: the figures a reviewer
reads first, the findings, the distribution charts and where each file came from, every sheet
printing one A4 landscape page wide with its header row on every page.

A batch begins the workbook before its first result and writes 问题清单 as results come
(``SummaryWorkbook``); what needs every row sorted is written after the last.

This module imports xlsxwriter, which house style keeps in ``template_writer``: the summary is a
new workbook written from scratch with charts, which is xlsxwriter's job, and it has nothing to
do with the template, so it gets its own writer module instead of growing ``template_writer``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from xlcheck.exchange.summary_charts import write_chart_sheet
from xlcheck.exchange.summary_rows import COLUMNS, FINDING_COLUMNS, STATUS_WORDS, Summary
from xlcheck.findings import column_letters
from xlcheck.layout.row_heights import LINE_HEIGHT, ROW_MARGIN, wrapped_lines
from xlcheck.records import record

_SHEETS = {
    "zh": ("汇总表", "问题清单", "分布图", "文件与来源"),
    "en": ("Workbooks", "Findings", "Distribution", "Files and mail"),
}
_FOOTERS = {"zh": "&C第 &P 页，共 &N 页", "en": "&CPage &P of &N"}
#: The workbook's default font, as in the template (see template_writer): Arial measures alike in
#: Excel, WPS and LibreOffice (Liberation Sans), so the widths below and the row heights
#: computed from them hold in every app.
_DEFAULT_FONT = {"font_name": "Arial", "font_size": 11}
_STATUS_FILLS = {
    "unreadable": "#D9D9D9",
    "errors": "#FFC7CE",
    "warnings": "#FFEB9C",
    "ok": "#C6EFCE",
}


@record
class _Column:
    """A column of a sheet: the row key it shows, its width in characters, whether text wraps,
    and the key of the value as the workbook's cell showed it (``expected_text``: 99.72%, not
    0.9972), shown instead where a row has it."""

    key: str
    width: float
    wraps: bool = False
    shown_key: str | None = None


#: What a reviewer reads first: with these widths the sheet prints about 90 % of full size on
#: one A4 landscape page wide.
_REVIEW_COLUMNS = (
    _Column("unit", 20, wraps=True),
    _Column("year", 6),
    _Column("status", 9),
    _Column("errors", 6.5),
    _Column("warnings", 6.5),
    _Column("budget", 12),
    _Column("income", 12),
    _Column("spending", 12),
    _Column("execution_rate", 11),
    _Column("execution_rate_reported", 11),
    _Column("total_score", 7),
    _Column("grade", 6),
    _Column("annotated", 22, wraps=True),
)
#: Where each workbook came from and what else is known of it, for whoever traces a file; the
#: unit and year again so each row can be read on its own. Long text wraps, so the sheet prints
#: at about two thirds of full size on one page wide.
_SOURCE_COLUMNS = (
    _Column("unit", 14, wraps=True),
    _Column("year", 6),
    _Column("file", 22, wraps=True),
    _Column("mail_file", 14, wraps=True),
    _Column("sender", 16, wraps=True),
    _Column("subject", 18, wraps=True),
    _Column("received", 17),
    _Column("template", 12, wraps=True),
    _Column("template_version", 8),
    _Column("application", 14, wraps=True),
    _Column("duplicate", 20, wraps=True),
    _Column("reason", 26, wraps=True),
)
#: The findings as a reviewer reads them: whose, where, what (wrapped), then the codes.
_FINDING_LAYOUT = (
    _Column("unit", 16, wraps=True),
    _Column("year", 6),
    _Column("severity", 6),
    _Column("sheet", 10, wraps=True),
    _Column("cell", 7),
    _Column("message", 46, wraps=True),
    _Column("expected", 11, shown_key="expected_text"),
    _Column("actual", 11, shown_key="actual_text"),
    _Column("code", 16, wraps=True),
    _Column("field", 14, wraps=True),
    _Column("file", 16, wraps=True),
)
_SUMMED = ("errors", "warnings", "budget", "income", "spending")
_MONEY = ("budget", "income", "spending")
_SEVERITY_WORDS = {"zh": {"error": "错误", "warning": "警告"}, "en": {}}


def _not_finite(value: Any) -> bool:
    """NaN and infinities: a cell cannot hold them (Excel would call the file corrupt)."""
    return isinstance(value, float) and not math.isfinite(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _LinkTargets:
    """Each annotated copy relative to the summary, so the folder can be moved as a whole.

    ``os.path.relpath`` makes both paths absolute each time; the copies of a batch share a
    folder or a few, so each folder is made relative once and the copy's name joined to it.
    """

    def __init__(self, summary_folder: Path) -> None:
        self.summary_folder = summary_folder
        self._folders: dict[str, str | None] = {}

    def __call__(self, annotated: str) -> str:
        folder, name = os.path.split(annotated)
        if not name or name in (os.curdir, os.pardir):  # not a file name: relpath as it is
            return self._relative(annotated) or annotated
        if folder not in self._folders:
            self._folders[folder] = self._relative(folder or os.curdir)
        relative = self._folders[folder]
        if relative is None:
            return annotated
        return name if relative == os.curdir else os.path.join(relative, name)

    def _relative(self, path: str) -> str | None:
        try:
            return os.path.relpath(path, self.summary_folder)
        except ValueError:  # another drive on Windows
            return None


def _local_time(text: Any) -> dt.datetime | None:
    """An ISO time (a mail's date, a file's modification time) as the reader's local wall-clock
    time, which is what a cell shows; None when it is not one a cell can hold."""
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone().replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if 1900 <= moment.year <= 9999 else None


def _row_height(texts: Iterable[tuple[str, float]]) -> float | None:
    """The height (points) a row needs for its wrapped texts, each with its column's width, or
    None for one line. LibreOffice does not grow a row for wrapped text a program wrote."""
    lines = max((wrapped_lines(text, width) for text, width in texts), default=1)
    return lines * LINE_HEIGHT + ROW_MARGIN if lines > 1 else None


def _header_text(text: str, width: float) -> str:
    """A header too wide for its column, broken before its bracket: 预算数 over （万元）."""
    if wrapped_lines(text, width) == 1:
        return text
    return text.replace("（", "\n（", 1) if "（" in text else text.replace(" (", "\n(", 1)


#: How a column's cells are written, besides text and numbers (``_PLAIN``).
_PLAIN, _STATUS, _LINK, _TIME = "plain", "status", "link", "time"
_KINDS = {"status": _STATUS, "annotated": _LINK, "received": _TIME}


@record(slots=True)
class _ColumnPlan:
    """How the cells of one column are written: its kind and its formats, looked up once."""

    key: str
    kind: str
    #: For a number (money, a rate; plain otherwise), and for text (wrapped or not).
    number_format: Any
    text_format: Any


class _SheetPlan:
    """A sheet's columns as its rows are written: which keys give their values, which show a
    text of their own, which wrap (with the widths their rows' heights are measured at)."""

    def __init__(self, columns: Sequence[_Column], plans: list[_ColumnPlan]) -> None:
        self.columns = plans
        self.keys = [column.key for column in columns]
        self.shown_keys = [(n, c.shown_key) for n, c in enumerate(columns) if c.shown_key]
        self.wrapped = [(n, c.width, c.key) for n, c in enumerate(columns) if c.wraps]
        #: A row without a unit shows its file's name in the first column instead.
        self.stand_in = columns[0].key == "unit"


class _Writer:
    """Writes the sheets of one summary workbook, with the formats they share."""

    def __init__(self, book: Any, path: Path, lang: str) -> None:
        self.book, self.path, self.lang = book, path, lang
        self.link_target = _LinkTargets(path.parent)
        self.status_words = STATUS_WORDS[lang]
        top = {"valign": "top"}
        self.header = book.add_format(
            {"bold": True, "bg_color": "#D9E1F2", "text_wrap": True, "valign": "top", "bottom": 1}
        )
        self.plain = book.add_format(top)
        self.left = book.add_format({**top, "align": "left"})
        self.stand_in = book.add_format(
            {**top, "italic": True, "font_color": "#595959", "text_wrap": True}
        )
        self.wrap = book.add_format({**top, "text_wrap": True})
        self.money = book.add_format({**top, "num_format": "#,##0.00"})
        self.percent = book.add_format({**top, "num_format": "0.00%"})
        # The unit's own rate where it differs: the ≠ shows in black and white, and the cell
        # still holds the number.
        self.reported = book.add_format({**top, "num_format": '"≠ "0.00%', "bold": True})
        self.when = book.add_format({**top, "num_format": "yyyy-mm-dd hh:mm", "align": "left"})
        self.link = book.add_format(
            {**top, "font_color": "#0563C1", "underline": 1, "text_wrap": True}
        )
        self.total = book.add_format({"bold": True, "top": 1})
        self.total_money = book.add_format({"bold": True, "top": 1, "num_format": "#,##0.00"})
        self.fills = {
            status: book.add_format({**top, "bg_color": color})
            for status, color in _STATUS_FILLS.items()
        }
        #: A number's format by its column (others: plain). 应为 and 实际 hold numbers and text
        #: alike: all on the left, under their header.
        self.number_formats = {
            **dict.fromkeys(_MONEY, self.money),
            "execution_rate": self.percent,
            "execution_rate_reported": self.reported,
            "expected": self.left,
            "actual": self.left,
        }

    def headers(
        self, sheet: Any, columns: Sequence[_Column], names: dict[str, tuple[str, str]]
    ) -> None:
        """The header row, the column widths, the header frozen in place."""
        texts = [
            _header_text(names[c.key][0 if self.lang == "zh" else 1], c.width) for c in columns
        ]
        height = _row_height((t, c.width) for t, c in zip(texts, columns, strict=True))
        sheet.set_row(0, height)
        for number, (text, column) in enumerate(zip(texts, columns, strict=True)):
            sheet.set_column(number, number, column.width)
            sheet.write_string(0, number, text, self.header)
        sheet.freeze_panes(1, 1)

    def _shown(self, key: str, value: Any) -> str:
        """The text a wrapped cell shows, for its row's height."""
        if key == "annotated":
            return Path(str(value)).name
        if key == "severity":
            return _SEVERITY_WORDS[self.lang].get(str(value), str(value))
        return str(value)

    def plan(self, columns: Sequence[_Column]) -> _SheetPlan:
        """How the rows of a sheet with ``columns`` are written (worked out once a sheet)."""
        return _SheetPlan(
            columns,
            [
                _ColumnPlan(
                    column.key,
                    _KINDS.get(column.key, _PLAIN),
                    self.number_formats.get(column.key, self.plain),
                    self.wrap if column.wraps else self.plain,
                )
                for column in columns
            ],
        )

    def write_row(self, sheet: Any, row_number: int, plan: _SheetPlan, row: dict[str, Any]) -> None:
        values = [row.get(key) for key in plan.keys]
        for number, shown_key in plan.shown_keys:
            # 应为 and 实际 as the workbook's cells show them (99.72%, not 0.9972) where known.
            values[number] = row.get(shown_key) or values[number]
        stand_in = None
        if plan.stand_in and values[0] in (None, "") and row.get("file"):
            # Without it an unreadable file's row would name nothing on the sheet a reviewer
            # reads first (its file is on 文件与来源).
            name = Path(str(row["file"])).name
            stand_in = values[0] = f"（{name}）" if self.lang == "zh" else f"({name})"
        # The text each wrapped cell shows: measured for the row's height, then written.
        shown: list[str | None] = [None] * len(values)
        measured: list[tuple[str, float]] = []
        for number, width, key in plan.wrapped:
            value = values[number]
            if value is not None and value != "":
                text = shown[number] = self._shown(key, value)
                measured.append((text, width))
        height = _row_height(measured)
        written = False
        for number, column in enumerate(plan.columns):
            value = values[number]
            if value is None or value == "" or _not_finite(value):
                continue
            written = True
            if number == 0 and stand_in is not None:
                sheet.write_string(row_number, 0, stand_in, self.stand_in)
            else:
                self._write_cell(sheet, row_number, number, column, value, shown[number])
        # A row of one line needs no height of its own: the same <row> as without one, which
        # an empty row would not be.
        if height is not None or not written:
            sheet.set_row(row_number, height)

    def _write_cell(
        self,
        sheet: Any,
        row_number: int,
        number: int,
        column: _ColumnPlan,
        value: Any,
        shown: str | None,
    ) -> None:
        """Write one cell; ``shown`` is its text when already worked out (``_shown``)."""
        kind = column.kind
        if kind is _STATUS:
            status = str(value)
            fill = self.fills.get(status, self.plain)
            sheet.write_string(row_number, number, self.status_words.get(status, status), fill)
        elif kind is _LINK:
            text = self._shown(column.key, value) if shown is None else shown
            target = self.link_target(str(value))
            sheet.write_url(row_number, number, "external:" + target, self.link, text)
        elif kind is _TIME and (moment := _local_time(value)) is not None:
            sheet.write_datetime(row_number, number, moment, self.when)
        elif _is_number(value):
            sheet.write_number(row_number, number, value, column.number_format)
        else:
            text = self._shown(column.key, value) if shown is None else shown
            sheet.write_string(row_number, number, text, column.text_format)

    def rows_sheet(
        self, sheet: Any, columns: Sequence[_Column], summary: Summary, *, totals: bool
    ) -> None:
        """One row per workbook under the header (and a totals row under them)."""
        plan = self.plan(columns)
        for row_number, row in enumerate(summary.rows, start=1):
            self.write_row(sheet, row_number, plan, row)
        last = len(summary.rows)
        if totals:
            self._totals(sheet, columns, summary)
        sheet.autofilter(0, 0, max(last, 1), len(columns) - 1)

    def _totals(self, sheet: Any, columns: Sequence[_Column], summary: Summary) -> None:
        last = len(summary.rows)
        totals = last + 1
        label = f"合计（{last} 个工作簿）" if self.lang == "zh" else f"Total ({last} workbooks)"
        sheet.set_row(totals, _row_height([(label, columns[0].width)]))
        sheet.write_string(totals, 0, label, self.total)
        for number, column in enumerate(columns):
            if column.key not in _SUMMED:
                continue
            values = (r[column.key] for r in summary.rows if _is_number(r.get(column.key)))
            cached = sum(float(v) for v in values)
            cached = cached if math.isfinite(cached) else 0  # a cell cannot cache inf or nan
            letter = column_letters(number + 1)  # xlsxwriter columns are 0-based
            # SUBTOTAL(109, …) sums only the rows the autofilter shows.
            formula = f"=SUBTOTAL(109,{letter}2:{letter}{last + 1})" if last else "=0"
            bold = self.total_money if column.key in _MONEY else self.total
            sheet.write_formula(totals, number, formula, bold, cached)

    def set_up_print(self, sheet: Any, *, fit_to_width: bool = True) -> None:
        """A4 landscape, page numbers in the footer; lists fit one page wide and repeat their
        header row on every page (a sheet with manual page breaks keeps its 100 %)."""
        sheet.set_paper(9)
        sheet.set_landscape()
        sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.7)
        sheet.set_footer(_FOOTERS[self.lang])
        if fit_to_width:
            sheet.fit_to_pages(1, 0)
            sheet.repeat_rows(0)


class _PackageStream:
    """Where xlsxwriter writes the finished package: the output file, which ``write_output`` opens
    only when the workbook is finished, while the workbook was begun before the first result."""

    def __init__(self) -> None:
        self.stream: BinaryIO | None = None

    def _open(self) -> BinaryIO:
        if self.stream is None:
            raise ValueError("the summary workbook is written only by SummaryWorkbook.write")
        return self.stream

    def write(self, data: bytes) -> int:
        return self._open().write(data)

    def tell(self) -> int:
        return self._open().tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._open().seek(offset, whence)

    def flush(self) -> None:
        self._open().flush()


def _discard_rows(book: Any, scratch: tempfile.TemporaryDirectory[str]) -> None:
    """Close the file of rows each sheet keeps open (xlsxwriter closes them only when it writes
    the workbook), then remove them, and what else the workbook left in ``scratch``."""
    for sheet in book.worksheets():
        sheet._opt_close()  # xlsxwriter's own: a no-op once the workbook is written
    scratch.cleanup()


class SummaryWorkbook:
    """The summary workbook (figures, findings, charts, sources), begun before its rows are known.

    A batch begins it before its first workbook is verified, while the parent would wait for the
    workers anyway (xlsxwriter imported, the sheets added in their order, the headers and the
    page set-up written), writes each finding to 问题清单 as its result comes (``add_findings``),
    and only the sheets that need every row, sorted, after the last result (``write``). One never
    written is discarded (``discard``, or when it is garbage): the rows written so far go.

    Args:
        path: where the workbook will live, so links to the annotated copies are relative.
    """

    def __init__(self, path: Path, lang: str = "zh") -> None:
        import xlsxwriter

        self.lang = lang
        self.findings_written = 0
        # constant_memory: each row goes to a temporary file once written, so tens of thousands
        # of findings never sit in memory as cell objects. Those files (one a sheet) live in a
        # folder of ours, so a batch stopped midway leaves none behind.
        scratch = tempfile.TemporaryDirectory(prefix="xlcheck-summary-", ignore_cleanup_errors=True)
        self._package = _PackageStream()
        self.book = xlsxwriter.Workbook(
            self._package,
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "constant_memory": True,
                "tmpdir": scratch.name,
                # A copy: xlsxwriter adds its theme font to the dict it is given, and the next
                # summary written by this process would get that font scheme.
                "default_format_properties": dict(_DEFAULT_FONT),
            },
        )
        self._discard = weakref.finalize(self, _discard_rows, self.book, scratch)
        try:
            self._writer = _Writer(self.book, path, lang)
            self._finding_plan = self._writer.plan(_FINDING_LAYOUT)
            rows, findings, charts, sources = _SHEETS[lang]
            # Added in the order they are shown; with constant_memory each keeps its own rows, so
            # 问题清单 can be written before the sheets above it.
            self._rows = self.book.add_worksheet(rows)
            self._findings = self.book.add_worksheet(findings)
            self._charts = self.book.add_worksheet(charts)
            self._sources = self.book.add_worksheet(sources)
            self._writer.headers(self._rows, _REVIEW_COLUMNS, COLUMNS)
            self._writer.headers(self._findings, _FINDING_LAYOUT, FINDING_COLUMNS)
            self._writer.headers(self._sources, _SOURCE_COLUMNS, COLUMNS)
            for sheet in (self._rows, self._findings, self._sources):
                self._writer.set_up_print(sheet)
            self._writer.set_up_print(self._charts, fit_to_width=False)
        except BaseException:
            self.discard()
            raise

    def add_findings(self, findings: Iterable[dict[str, Any]]) -> None:
        """Write finding rows to 问题清单, under those already there."""
        sheet, plan = self._findings, self._finding_plan
        for finding in findings:
            self.findings_written += 1
            self._writer.write_row(sheet, self.findings_written, plan, finding)

    def write(self, summary: Summary, stream: BinaryIO) -> None:
        """Write the sheets of ``summary``'s rows and the charts, then the whole workbook into
        ``stream``. Every finding must have been added; the workbook cannot be written again."""
        try:
            self._writer.rows_sheet(self._rows, _REVIEW_COLUMNS, summary, totals=True)
            last = max(self.findings_written, 1)
            self._findings.autofilter(0, 0, last, len(_FINDING_LAYOUT) - 1)
            write_chart_sheet(self.book, self._charts, summary, self.lang)
            self._writer.rows_sheet(self._sources, _SOURCE_COLUMNS, summary, totals=False)
            self._package.stream = stream
            self.book.close()
        finally:
            self._package.stream = None
            self.discard()

    def discard(self) -> None:
        """Remove the rows written so far (nothing is left once the workbook is written)."""
        self._discard()


def write_summary_workbook(
    summary: Summary, stream: BinaryIO, path: Path, *, lang: str = "zh"
) -> None:
    """Write the summary workbook (figures, findings, charts, sources) into ``stream``.

    Args:
        path: where the workbook will live, so links to the annotated copies are relative.
    """
    workbook = SummaryWorkbook(path, lang)
    try:
        workbook.add_findings(summary.findings)
    except BaseException:
        workbook.discard()
        raise
    workbook.write(summary, stream)
