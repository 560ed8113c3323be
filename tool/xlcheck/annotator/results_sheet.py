"""The results sheet (校验结果 / Findings): every finding, readable on screen and on paper.

One row per finding: severity (drawn with the same mark as the cell), a link to the cell, the
field's Chinese label path, the message, and the expected and actual values as the cell shows
them (99.72%, 1,131.12 万元). The comments' text is thus on paper too. A legend explains the
marks; the page is A4 landscape, one page wide, the header row repeated, the unit and file in the
page header and 第 N 页，共 M 页 in the footer, in 宋体 (SimSun).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from xlcheck.annotator.marks import ERROR_MARKER, WARNING_MARKER, MarkKind
from xlcheck.annotator.styles import CellFormat, StylesPart, StylesState
from xlcheck.annotator.xml_parts import (
    RELATIONSHIP_NAMESPACE,
    escape_attribute,
    escape_text,
)
from xlcheck.cell_values import safe_text, wrapped_lines
from xlcheck.findings import Finding, Severity, VerificationResult, column_letters
from xlcheck.part_memo import PartMemo
from xlcheck.records import record

RESULTS_SHEET = "校验结果"
RESULTS_SHEET_EN = "Findings"
RESULTS_SHEET_NAMES = (RESULTS_SHEET, RESULTS_SHEET_EN)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#: Column widths (Excel character units; a CJK character takes two).
_WIDTHS = (5, 9, 14, 26, 54, 14, 14, 17)
_LABEL_COLUMN, _MESSAGE_COLUMN = 4, 5
#: Row height per line of 10 pt text, and the padding of a row, in points.
_LINE_HEIGHT = 14.0
_ROW_PADDING = 4.0
#: Excel's tallest row, in points.
_MAX_ROW_HEIGHT = 409.0
_SEVERITY_NAMES = {
    "zh": {Severity.ERROR: "错误", Severity.WARNING: "警告"},
    "en": {Severity.ERROR: "error", Severity.WARNING: "warning"},
}
_HEADERS = {
    "zh": ("序号", "级别", "位置", "项目", "说明", "应为", "实际", "规则代码"),
    "en": ("No.", "Severity", "Cell", "Field", "Message", "Expected", "Actual", "Rule"),
}
_LEGEND = {
    "zh": (
        "图例",
        f"红底、粗实线框，值前标 {ERROR_MARKER}：错误，须改正",
        f"琥珀底、虚线框，值前标 {WARNING_MARKER}：警告，请核实；整张表的问题只在表头单元格标出并加批注",
    ),
    "en": (
        "Legend",
        f"Red fill, thick solid border, {ERROR_MARKER} before the value: an error to correct",
        f"Amber fill, dashed border, {WARNING_MARKER} before the value: a warning to check; "
        "a finding about a whole sheet is marked at its title cell, with a comment",
    ),
}
#: First row of the findings table (its header row); rows above hold the title and the legend.
HEADER_ROW = 7


@record
class _Formats:
    title: int
    info: int
    header: int
    body: int
    centred: int
    link: int
    error: int
    warning: int


#: The results sheet's formats, and the styles part's state once they are added, by its state
#: before: a clean workbook's copy adds them to its template's styles part as read, the same for
#: every workbook of the template, so a batch worker adds them once.
_ADDED_FORMATS: PartMemo[StylesState, tuple[_Formats, StylesState]] = PartMemo(
    limit=8, largest=1 << 18
)


def _formats(styles: StylesPart) -> _Formats:
    before = styles.state()
    known = _ADDED_FORMATS.get(before)
    if known is not None:
        formats, after = known
        styles.restore(after)
        return formats
    formats = _add_formats(styles)
    _ADDED_FORMATS.keep(before, (formats, styles.state()), len(before.data))
    return formats


def _add_formats(styles: StylesPart) -> _Formats:
    body_font = styles.add_font(size=10)
    bold = styles.add_font(size=10, bold=True)
    link_font = styles.add_font(size=10, color="FF0563C1", underline=True)
    thin = styles.add_border("thin", "FF808080")
    wrap_top = (("vertical", "top"), ("wrapText", "1"))
    centre_top = (("horizontal", "center"), ("vertical", "top"), ("wrapText", "1"))
    text = styles.number_format("@")

    def marked(kind: MarkKind) -> int:
        return styles.mark_format(kind, font=body_font, alignment=centre_top)

    return _Formats(
        title=styles.add_cell_format(CellFormat(styles.add_font(size=14, bold=True))),
        info=styles.add_cell_format(CellFormat(body_font, number_format=text)),
        header=styles.add_cell_format(
            CellFormat(
                bold,
                fill=styles.add_fill("FFD9E1F2"),
                border=thin,
                number_format=text,
                alignment=(("horizontal", "center"), ("vertical", "center"), ("wrapText", "1")),
            )
        ),
        body=styles.add_cell_format(
            CellFormat(body_font, border=thin, number_format=text, alignment=wrap_top)
        ),
        centred=styles.add_cell_format(CellFormat(body_font, border=thin, alignment=centre_top)),
        link=styles.add_cell_format(
            CellFormat(link_font, border=thin, number_format=text, alignment=wrap_top)
        ),
        error=marked(MarkKind.ERROR),
        warning=marked(MarkKind.WARNING),
    )


def _shown(text: str | None, value: Any) -> str:
    """A value as the cell shows it (``expected_text``), else as JSON would put it."""
    if text is not None:
        return text
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _lines(text: str, width: float) -> int:
    return sum(wrapped_lines(part, width - 1) for part in text.split("\n"))


def sheet_reference(sheet: str, cell_ref: str) -> str:
    """``'数据表'!B7``: a reference a hyperlink or defined name can use, quotes doubled."""
    return "'" + sheet.replace("'", "''") + "'!" + cell_ref


def _header_footer_text(text: str) -> str:
    return text.replace("&", "&&")


class _Rows:
    """Cells of the sheet, written row by row as SpreadsheetML."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.links: list[str] = []

    def add(
        self, number: int, cells: list[tuple[int, Any, int]], height: float | None = None
    ) -> None:
        written = []
        for column, value, xf in cells:
            ref = f"{column_letters(column)}{number}"
            if isinstance(value, int | float) and not isinstance(value, bool):
                written.append(f'<c r="{ref}" s="{xf}"><v>{value}</v></c>')
            elif value is None or value == "":
                written.append(f'<c r="{ref}" s="{xf}"/>')
            else:
                text = escape_text(str(safe_text(str(value))))
                written.append(
                    f'<c r="{ref}" s="{xf}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
                )
        size = f' ht="{height:g}" customHeight="1"' if height is not None else ""
        self.rows.append(f'<row r="{number}"{size}>{"".join(written)}</row>')

    def link(self, ref: str, location: str, display: str) -> None:
        self.links.append(
            f'<hyperlink ref="{ref}" location="{escape_attribute(location)}" '
            f'display="{escape_attribute(display)}"/>'
        )


def results_sheet(
    result: VerificationResult, lang: str, styles: StylesPart, sheets: Collection[str]
) -> bytes:
    """The results sheet's part (inline strings, so the shared strings part stays untouched).

    Args:
        sheets: the workbook's sheet names: a finding's cell links to its sheet only when the
            sheet is there (a missing sheet's finding has no link to follow).
    """
    formats = _formats(styles)
    severity_names = _SEVERITY_NAMES[lang]
    unit = str(result.values.get("unit") or "")
    template = f"{result.template.id} {result.template.version}" if result.template else "—"
    if lang == "zh":
        title = "xlcheck 校验结果"
        about = f"单位：{unit or '未填写'}　文件：{result.path.name}　模板：{template}　最后保存：{result.application or '未知'}"
        counts = f"错误 {result.errors} 个，警告 {result.warnings} 个。点击“位置”可跳到对应单元格；每条说明也写在该单元格的批注里。"
        nothing = "未发现问题。"
        header = f"&L{_header_footer_text(unit)}　{_header_footer_text(result.path.name)}&Rxlcheck 校验结果"
        footer = "&C第 &P 页，共 &N 页"
    else:
        title = "xlcheck findings"
        about = f"Unit: {unit or 'not filled in'}  File: {result.path.name}  Template: {template}  Last saved by: {result.application or 'unknown'}"
        counts = f"{result.errors} errors, {result.warnings} warnings. Click a cell address to jump to it; each message is also in that cell's comment."
        nothing = "No findings."
        header = f"&L{_header_footer_text(unit)}  {_header_footer_text(result.path.name)}&Rxlcheck findings"
        footer = "&CPage &P of &N"
    legend, error_legend, warning_legend = _LEGEND[lang]
    rows = _Rows()
    rows.add(1, [(1, title, formats.title)], height=22)
    rows.add(2, [(1, about, formats.info)])
    rows.add(3, [(1, counts, formats.info)])
    rows.add(
        4,
        [
            (1, legend, formats.info),
            (2, severity_names[Severity.ERROR], formats.error),
            (3, error_legend, formats.info),
        ],
        height=18,
    )
    rows.add(
        5,
        [(2, severity_names[Severity.WARNING], formats.warning), (3, warning_legend, formats.info)],
        height=18,
    )
    rows.add(
        HEADER_ROW,
        [(c, h, formats.header) for c, h in enumerate(_HEADERS[lang], start=1)],
        height=20,
    )
    row = HEADER_ROW
    for number, finding in enumerate(result.findings, start=1):
        row += 1
        _finding_row(rows, row, number, finding, lang, formats, sheets)
    if not result.findings:
        row += 1
        rows.add(row, [(1, nothing, formats.info)])
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(_WIDTHS, start=1)
    )
    links = f"<hyperlinks>{''.join(rows.links)}</hyperlinks>" if rows.links else ""
    first = f"A{HEADER_ROW + 1}"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_MAIN}" xmlns:r="{RELATIONSHIP_NAMESPACE}">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{column_letters(len(_WIDTHS))}{row}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        f'<pane ySplit="{HEADER_ROW}" topLeftCell="{first}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="{first}" sqref="{first}"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="{_LINE_HEIGHT + _ROW_PADDING:g}"/>'
        f"<cols>{widths}</cols><sheetData>{''.join(rows.rows)}</sheetData>{links}"
        '<pageMargins left="0.4" right="0.4" top="0.7" bottom="0.7" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        f"<headerFooter><oddHeader>{escape_text(header)}</oddHeader>"
        f"<oddFooter>{escape_text(footer)}</oddFooter></headerFooter>"
        "</worksheet>"
    ).encode()


def _finding_row(
    rows: _Rows,
    row: int,
    number: int,
    finding: Finding,
    lang: str,
    formats: _Formats,
    sheets: Collection[str],
) -> None:
    location = finding.location
    linked = location is not None and location.sheet in sheets
    label = finding.label or finding.field or (location.sheet if location else "")
    message = finding.message_in(lang)
    expected = _shown(finding.expected_text, finding.expected)
    actual = _shown(finding.actual_text, finding.actual)
    place = str(location) if location else ""
    severity_format = formats.error if finding.severity is Severity.ERROR else formats.warning
    texts = {
        3: place,
        _LABEL_COLUMN: label,
        _MESSAGE_COLUMN: message,
        6: expected,
        7: actual,
        8: finding.code,
    }
    lines = max(_lines(str(safe_text(t)), _WIDTHS[c - 1]) for c, t in texts.items())
    rows.add(
        row,
        [
            (1, number, formats.centred),
            (2, _SEVERITY_NAMES[lang][finding.severity], severity_format),
            (3, place, formats.link if linked else formats.body),
            (_LABEL_COLUMN, label, formats.body),
            (_MESSAGE_COLUMN, message, formats.body),
            (6, expected, formats.body),
            (7, actual, formats.body),
            (8, finding.code, formats.body),
        ],
        height=min(lines * _LINE_HEIGHT + _ROW_PADDING, _MAX_ROW_HEIGHT),
    )
    if linked and location is not None:
        rows.link(f"C{row}", sheet_reference(location.sheet, location.cell_ref), place)
